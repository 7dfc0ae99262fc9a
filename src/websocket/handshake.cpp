// handshake.cpp — checking an upgrade request and building its answer (handshake.hpp). The key and
// the accept value (accept_key, is_valid_key) are in accept_key.cpp, which lab 06 rewrites.
#include <string>
#include <utility>
#include <vector>

#include <avant/http/headers.hpp>
#include <avant/websocket/handshake.hpp>

namespace avant::websocket {
namespace {

Handshake refuse(int status, std::string reason) {
  Handshake h;
  h.status = status;
  h.reason = std::move(reason);
  return h;
}

// The first of `ours` that the client listed in any Sec-WebSocket-Protocol field.
std::string choose_subprotocol(const http::Request& request, const std::vector<std::string>& ours) {
  for (const std::string& candidate : ours) {
    if (request.headers.has_token("Sec-WebSocket-Protocol", candidate)) return candidate;
  }
  return {};
}

}  // namespace

bool wants_websocket(const http::Request& request) noexcept {
  return request.headers.has_token("Upgrade", "websocket");
}

Handshake check_upgrade(const http::Request& request, const HandshakeOptions& options) {
  if (request.method != "GET") return refuse(400, "a WebSocket upgrade must be a GET");
  if (request.version_major < 1 || (request.version_major == 1 && request.version_minor < 1)) {
    return refuse(400, "a WebSocket upgrade needs HTTP/1.1");
  }
  if (!wants_websocket(request)) return refuse(400, "no `Upgrade: websocket`");
  if (!request.headers.has_token("Connection", "upgrade")) {
    return refuse(400, "no `Connection: Upgrade`");
  }
  const auto version = request.headers.get("Sec-WebSocket-Version");
  if (!version || http::trim_ows(*version) != "13") {
    return refuse(426, "Sec-WebSocket-Version is not 13");
  }
  if (request.headers.count("Sec-WebSocket-Key") != 1) {
    return refuse(400, "not exactly one Sec-WebSocket-Key");
  }
  const std::string_view key = http::trim_ows(*request.headers.get("Sec-WebSocket-Key"));
  if (!is_valid_key(key)) return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");
  if (!options.origins.empty()) {
    const auto origin = request.headers.get("Origin");
    bool allowed = false;
    for (const std::string& o : options.origins) {
      if (origin && http::iequals(http::trim_ows(*origin), o)) allowed = true;
    }
    if (!allowed) return refuse(403, "Origin is not on the allow-list");
  }
  Handshake h;
  h.status = 101;
  h.accept = accept_key(key);
  h.subprotocol = choose_subprotocol(request, options.subprotocols);
  return h;
}

http::Response handshake_response(const Handshake& handshake) {
  if (handshake.status != 101) {
    http::Response r = http::Response::text(handshake.status, handshake.reason + "\n");
    if (handshake.status == 426) r.headers.set("Sec-WebSocket-Version", "13");
    return r;
  }
  http::Response r;
  r.status = 101;
  r.headers.add("Upgrade", "websocket");
  r.headers.add("Connection", "Upgrade");
  r.headers.add("Sec-WebSocket-Accept", handshake.accept);
  if (!handshake.subprotocol.empty())
    r.headers.add("Sec-WebSocket-Protocol", handshake.subprotocol);
  return r;
}

}  // namespace avant::websocket
