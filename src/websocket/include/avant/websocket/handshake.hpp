// handshake.hpp — the opening handshake (RFC 6455 §4): an HTTP/1.1 GET that asks to upgrade.
//
//   GET /chat HTTP/1.1                              HTTP/1.1 101 Switching Protocols
//   Host: example.org                               Upgrade: websocket
//   Upgrade: websocket                    ──>       Connection: Upgrade
//   Connection: Upgrade                             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==     Sec-WebSocket-Protocol: chat
//   Sec-WebSocket-Version: 13
//   Sec-WebSocket-Protocol: chat, superchat
//   Origin: https://example.org
//
// The accept value is base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): it proves the
// server read this request as WebSocket, not that anyone is who they say. Refused:
//   400  not GET, not HTTP/1.1 or later, no `Upgrade: websocket` or `Connection: upgrade`, a key
//        that is not 16 bytes in base64, or more than one key
//   403  an Origin not on the allow-list (when there is one)
//   426  a Sec-WebSocket-Version other than 13 (the answer lists `Sec-WebSocket-Version: 13`)
//
// Threads: plain functions; no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <avant/http/request.hpp>
#include <avant/http/response.hpp>
#include <avant/websocket/deflate.hpp>

namespace avant::websocket {

struct HandshakeOptions {
  // Origin values a browser page may connect from ("https://example.org", compared without case);
  // empty: any origin, and requests without one (non-browser clients send none).
  std::vector<std::string> origins;
  // The subprotocols this server speaks, in its order of preference; the first one the client
  // also offered is chosen. Empty: none is chosen, whatever the client offers.
  std::vector<std::string> subprotocols;
};

struct Handshake {
  int status = 0;           // 101 to accept; 400, 403 or 426 to refuse
  std::string reason;       // why it was refused, for the log
  std::string accept;       // Sec-WebSocket-Accept, when accepted
  std::string subprotocol;  // the one chosen, or empty
};

inline constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// base64(SHA-1(key + kAcceptGuid)), the value of Sec-WebSocket-Accept.
[[nodiscard]] std::string accept_key(std::string_view key);
// Whether `key` is 16 bytes in base64 (22 characters of the alphabet, then "==").
[[nodiscard]] bool is_valid_key(std::string_view key) noexcept;
// Whether the request asks for WebSocket at all (`Upgrade: websocket`): a route that serves
// WebSocket then answers with check_upgrade(); any other request is plain HTTP.
[[nodiscard]] bool wants_websocket(const http::Request& request) noexcept;
// Checks an upgrade request against the RFC and the options.
[[nodiscard]] Handshake check_upgrade(const http::Request& request,
                                      const HandshakeOptions& options);
// The answer to send: 101 with Upgrade, Connection, Sec-WebSocket-Accept (and the subprotocol)
// when accepted; the refusal otherwise (426 carries Sec-WebSocket-Version: 13).
[[nodiscard]] http::Response handshake_response(const Handshake& handshake);

// --- the client's side (client_handshake.cpp) ---
//
// A client sends a fresh random key each time and checks that the server's 101 carries the
// accept value of that key: an answer cached or replayed by something in between, or a server
// that did not read the request as WebSocket, fails. The client fails the connection also for an
// answer that is not 101, lacks `Upgrade: websocket` or `Connection: Upgrade`, names a
// subprotocol or an extension it did not offer (RFC 6455 §4.1), or is not a well-formed head.

struct UpgradeRequest {
  std::string host;                       // the Host field (e.g. "example.org:8080")
  std::string path = "/";                 // the request target
  std::string origin;                     // an Origin field, or empty for none
  std::vector<std::string> subprotocols;  // offered in this order of preference
  bool offer_deflate = false;             // offer permessage-deflate (kDeflateOffer)
};

struct UpgradeAnswer {
  bool ok = false;
  int status = 0;                        // the answer's status (0: the head could not be read)
  std::string reason;                    // why it failed, for the log and the close report
  std::string subprotocol;               // the one the server chose, or empty
  std::optional<DeflateParams> deflate;  // agreed permessage-deflate, or nullopt
};

// 16 random bytes (OpenSSL's generator) in base64: a fresh Sec-WebSocket-Key.
[[nodiscard]] std::string make_key();
// The upgrade request's bytes (GET, HTTP/1.1, Host, Upgrade, Connection, the key, version 13,
// and the optional fields).
[[nodiscard]] std::string upgrade_request(const UpgradeRequest& request, std::string_view key);
// Checks the server's answer: `head` from its status line to the empty line (CRLF CRLF
// included), for a request made with `request` and `key`.
[[nodiscard]] UpgradeAnswer check_answer(std::string_view head, std::string_view key,
                                         const UpgradeRequest& request);

}  // namespace avant::websocket
