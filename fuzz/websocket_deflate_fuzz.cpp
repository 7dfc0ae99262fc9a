// websocket_deflate_fuzz.cpp — libFuzzer target: permessage-deflate (chapter 06).
//
// Input: one byte that picks the mode and window, then text or bytes. Properties:
//   - negotiation (mode 0): an accepted offer has windows in range, and its answer, offered back
//     as it stands, is accepted again with the same parameters;
//   - inflating what a peer sent (mode 1): ok, too_big or corrupt, never more output than the
//     limit allows, and the inflater is usable again afterwards;
//   - round trip (mode 2): the input, cut into two messages, deflated and inflated with and
//     without context takeover, comes back byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <avant/websocket/deflate.hpp>

#include "fuzz_check.hpp"

namespace {

using avant::websocket::DeflateOptions;
using avant::websocket::Deflater;
using avant::websocket::Inflater;

void negotiation(std::string_view offers, std::uint8_t control) {
  const DeflateOptions options{.enabled = true,
                               .server_no_context_takeover = (control & 0x10U) != 0,
                               .client_no_context_takeover = (control & 0x20U) != 0,
                               .server_max_window_bits = 9 + (control >> 6U),
                               .client_max_window_bits = 8 + (control >> 6U)};
  const auto n = avant::websocket::negotiate_deflate(offers, options);
  if (!n) return;
  const auto& p = n->params;
  FUZZ_CHECK(p.server_max_window_bits >= 9 && p.server_max_window_bits <= 15);
  FUZZ_CHECK(p.client_max_window_bits >= 8 && p.client_max_window_bits <= 15);
  FUZZ_CHECK(n->response.rfind("permessage-deflate", 0) == 0);
  const auto again = avant::websocket::negotiate_deflate(n->response, options);
  FUZZ_CHECK_MSG(again.has_value(), n->response);
  FUZZ_CHECK_MSG(again->response == n->response, n->response + " -> " + again->response);
}

void inflate_peer(std::string_view bytes, int bits) {
  Inflater inflater(bits, true);
  constexpr std::size_t kLimit = 4096;
  std::string out;
  const auto status = inflater.inflate(bytes, kLimit, out);
  FUZZ_CHECK(out.size() <= kLimit + 1);
  if (status == Inflater::Status::ok) FUZZ_CHECK(out.size() <= kLimit);
  Deflater deflater(bits, true);
  std::string wire;
  deflater.compress("still works", wire);
  Inflater fresh(bits, true);
  FUZZ_CHECK(fresh.inflate(wire, kLimit, out) == Inflater::Status::ok && out == "still works");
}

void round_trip(std::string_view bytes, int bits, bool takeover) {
  Deflater deflater(bits, takeover);
  Inflater inflater(bits, takeover);
  const std::size_t half = bytes.size() / 2;
  for (const std::string_view message : {bytes.substr(0, half), bytes.substr(half), bytes}) {
    std::string wire;
    deflater.compress(message, wire);
    std::string back;
    FUZZ_CHECK(inflater.inflate(wire, message.size(), back) == Inflater::Status::ok);
    FUZZ_CHECK(back == message);
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const int bits = 9 + static_cast<int>((control >> 2U) % 7U);
  switch (control & 3U) {
    case 0:
      negotiation(bytes, control);
      break;
    case 1:
      inflate_peer(bytes, bits);
      break;
    default:
      round_trip(bytes, bits, (control & 1U) != 0);
      break;
  }
  return 0;
}
