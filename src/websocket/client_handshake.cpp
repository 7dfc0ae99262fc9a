// client_handshake.cpp — the client's half of the opening handshake (handshake.hpp): a fresh key,
// the request, and the checks of the server's answer.
#include <array>
#include <charconv>
#include <stdexcept>
#include <string>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <avant/http/headers.hpp>
#include <avant/websocket/handshake.hpp>

namespace avant::websocket {
namespace {

UpgradeAnswer fail(int status, std::string reason) {
  UpgradeAnswer a;
  a.status = status;
  a.reason = std::move(reason);
  return a;
}

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "HTTP/1.1 101 Switching Protocols": the status, or 0 when the line is not a status line.
int read_status_line(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return 0;
  if (line[7] < '0' || line[7] > '9') return 0;
  int status = 0;
  const auto [end, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
  if (ec != std::errc() || end != line.data() + 12 || status < 100) return 0;
  if (line.size() > 12 && line[12] != ' ') return 0;
  return status;
}

// The fields of the head after its status line; false when a line is not `name: value`.
bool read_fields(std::string_view rest, http::Headers& fields) {
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) return false;
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    if (line.empty()) return rest.empty();  // the empty line ends the head
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      if (!is_tchar(c)) return false;  // also refuses obs-fold and a space before the colon
    }
    const std::string_view value = http::trim_ows(line.substr(colon + 1));
    for (const char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return false;
    }
    fields.add(name, value);
  }
  return false;  // no empty line
}

}  // namespace

std::string make_key() {
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no randomness for a Sec-WebSocket-Key");
  }
  std::array<unsigned char, 25> out{};  // 24 characters and EVP_EncodeBlock's NUL
  const int n = EVP_EncodeBlock(out.data(), nonce.data(), static_cast<int>(nonce.size()));
  return {reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n)};
}

std::string upgrade_request(const UpgradeRequest& request, std::string_view key) {
  std::string r = "GET " + (request.path.empty() ? std::string("/") : request.path) +
                  " HTTP/1.1\r\nHost: " + request.host +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r += key;
  r += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!request.origin.empty()) r += "Origin: " + request.origin + "\r\n";
  if (!request.subprotocols.empty()) {
    r += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < request.subprotocols.size(); ++i) {
      if (i > 0) r += ", ";
      r += request.subprotocols[i];
    }
    r += "\r\n";
  }
  if (request.offer_deflate) {
    r += "Sec-WebSocket-Extensions: ";
    r += kDeflateOffer;
    r += "\r\n";
  }
  r += "\r\n";
  return r;
}

UpgradeAnswer check_answer(std::string_view head, std::string_view key,
                           const UpgradeRequest& request) {
  const std::size_t eol = head.find("\r\n");
  const int status = eol == std::string_view::npos ? 0 : read_status_line(head.substr(0, eol));
  if (status == 0) return fail(0, "the answer is not an HTTP/1.1 status line");
  http::Headers fields;
  if (!read_fields(head.substr(eol + 2), fields)) {
    return fail(status, "the answer's head is malformed");
  }
  if (status != 101) {
    return fail(status, "the server answered " + std::to_string(status) + " instead of 101");
  }
  if (!fields.has_token("Upgrade", "websocket")) return fail(status, "no `Upgrade: websocket`");
  if (!fields.has_token("Connection", "upgrade")) return fail(status, "no `Connection: Upgrade`");
  const auto accept = fields.get("Sec-WebSocket-Accept");
  if (fields.count("Sec-WebSocket-Accept") != 1 || *accept != accept_key(key)) {
    return fail(status, "Sec-WebSocket-Accept does not match the key sent");
  }
  UpgradeAnswer a;
  a.status = status;
  if (const auto chosen = fields.get("Sec-WebSocket-Protocol")) {
    bool offered = false;
    for (const std::string& p : request.subprotocols) {
      if (*chosen == p) offered = true;
    }
    if (!offered || fields.count("Sec-WebSocket-Protocol") != 1) {
      return fail(status, "the server chose a subprotocol that was not offered");
    }
    a.subprotocol = std::string(*chosen);
  }
  std::string extensions;
  for (const auto& field : fields) {
    if (!http::iequals(field.first, "Sec-WebSocket-Extensions")) continue;
    if (!extensions.empty()) extensions += ", ";
    extensions += field.second;
  }
  if (!extensions.empty()) {
    if (!request.offer_deflate) return fail(status, "the server named an extension not offered");
    DeflateAnswer d = read_deflate_answer(extensions);
    if (!d.ok) return fail(status, std::move(d.reason));
    a.deflate = d.params;
  }
  a.ok = true;
  return a;
}

}  // namespace avant::websocket
