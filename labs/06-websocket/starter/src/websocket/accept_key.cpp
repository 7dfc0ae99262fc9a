// Lab 06 — the opening handshake's key and its answer. Contract: accept_key and is_valid_key in
// src/websocket/include/avant/websocket/handshake.hpp (the handshake drawn at its top). Given, in
// src/websocket/handshake.cpp: check_upgrade(), which calls is_valid_key() on the client's key and
// accept_key() for the 101's Sec-WebSocket-Accept, and handshake_response(). OpenSSL's libcrypto
// is linked: <openssl/sha.h> (SHA1) and <openssl/evp.h> (EVP_EncodeBlock, base64).
// Tests: ctest -L ch06 (06.Handshake*, then every test that connects).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <avant/websocket/handshake.hpp>

namespace avant::websocket {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(06): ") + what);
}
}  // namespace

std::string accept_key(std::string_view key) {
  static_cast<void>(key);
  todo(
      "accept_key: SHA-1 of the key followed by kAcceptGuid, 20 bytes, in base64: 28 characters "
      "(RFC 6455's example: dGhlIHNhbXBsZSBub25jZQ== -> s3pPLMBiTxaQ9kYGzzhZRbK+xOo=)");
}

bool is_valid_key(std::string_view key) noexcept {
  static_cast<void>(key);
  // noexcept: a TODO cannot be thrown from here, so the lab says it loudly and stops.
  std::fputs(
      "TODO(06): is_valid_key: 24 characters: 22 of the base64 alphabet (A-Z a-z 0-9 + /), then "
      "\"==\" (16 bytes in base64)\n",
      stderr);
  std::abort();
}

}  // namespace avant::websocket
