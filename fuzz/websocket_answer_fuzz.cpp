// websocket_answer_fuzz.cpp — libFuzzer target: the client's check of a server's answer to its
// upgrade request (chapter 06, client_handshake.cpp and read_deflate_answer).
//
// Input: one control byte (subprotocols and permessage-deflate offered or not), then the bytes
// of an answer head. Properties:
//   - an accepted answer is a 101 whose head holds the accept value of the key sent, a chosen
//     subprotocol is one that was offered, agreed deflate windows are 9..15 and only when offered;
//   - a refused one says why (a reason), and its status is the head's or 0;
//   - the same head with its first Sec-WebSocket-Accept value replaced by another key's value is
//     never accepted (the accept check cannot be skipped).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <avant/websocket/handshake.hpp>

#include "fuzz_check.hpp"

namespace {

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kOtherKey = "AQIDBAUGBwgJCgsMDQ4PEA==";

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::string head(reinterpret_cast<const char*>(data + 1), size - 1);
  avant::websocket::UpgradeRequest request;
  request.host = "fuzz";
  if ((control & 1U) != 0) request.subprotocols = {"chat", "superchat"};
  request.offer_deflate = (control & 2U) != 0;

  const auto answer = avant::websocket::check_answer(head, kKey, request);
  if (!answer.ok) {
    FUZZ_CHECK(!answer.reason.empty());
    return 0;
  }
  FUZZ_CHECK(answer.status == 101);
  const std::string accept = avant::websocket::accept_key(kKey);
  FUZZ_CHECK_MSG(head.find(accept) != std::string::npos, head);
  if (!answer.subprotocol.empty()) {
    FUZZ_CHECK(answer.subprotocol == "chat" || answer.subprotocol == "superchat");
    FUZZ_CHECK(!request.subprotocols.empty());
  }
  if (answer.deflate) {
    FUZZ_CHECK(request.offer_deflate);
    FUZZ_CHECK(answer.deflate->client_max_window_bits >= 9);
    FUZZ_CHECK(answer.deflate->client_max_window_bits <= 15);
    FUZZ_CHECK(answer.deflate->server_max_window_bits >= 8);
    FUZZ_CHECK(answer.deflate->server_max_window_bits <= 15);
  }
  // The same answer for another key is refused.
  const auto other = avant::websocket::check_answer(head, kOtherKey, request);
  FUZZ_CHECK_MSG(!other.ok, head);
  return 0;
}
