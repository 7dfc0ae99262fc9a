// accept_key.cpp — the Sec-WebSocket-Key and its answer, Sec-WebSocket-Accept (handshake.hpp).
// Lab 06 rewrites this file; checking the rest of an upgrade request is in handshake.cpp.
#include <array>
#include <string>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <avant/websocket/handshake.hpp>

namespace avant::websocket {
namespace {

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string accept_key(std::string_view key) {
  std::string input(key);
  input += kAcceptGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  // 20 bytes give 28 base64 characters; EVP_EncodeBlock writes a terminating NUL after them.
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> out{};
  const int n = EVP_EncodeBlock(out.data(), digest.data(), static_cast<int>(digest.size()));
  return {reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n)};
}

bool is_valid_key(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

}  // namespace avant::websocket
