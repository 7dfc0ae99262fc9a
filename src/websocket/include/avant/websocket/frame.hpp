// frame.hpp — the WebSocket frame (RFC 6455 §5.2): opcodes, close codes, the header, masking.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| length (7)  |  length (16), if length == 126 |
//   |I|S|S|S|  (4)  |A|             |  length (64), if length == 127 |
//   |N|V|V|V|       |S|             |  (network byte order; the 64-bit|
//   | |1|2|3|       |K|             |   form's top bit is always 0)  |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   :  ... rest of the 64-bit length  |  masking key (4), if MASK    :
//   +---------------------------------+-------------------------------+
//   |  payload: length bytes, each XORed with key[i % 4] if MASK      |
//   +-----------------------------------------------------------------+
//
// A header is 2, 4 or 10 bytes, plus 4 for the masking key: 2..14. A client masks every frame it
// sends and a server none (masking keeps a client's bytes from being chosen by a script, so they
// cannot pose as another protocol to a proxy in between). RSV1 marks a compressed message
// (permessage-deflate, RFC 7692) on its first frame; RSV2 and RSV3 have no use without an
// extension that defines them.
//
// Threads: plain functions and values; no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace avant::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Control frames (close, ping, pong) have the top opcode bit set, at most 125 payload bytes and
// are never fragmented; they may arrive between the fragments of a message.
[[nodiscard]] constexpr bool is_control(Opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}
// The six opcodes above; the other ten are reserved.
[[nodiscard]] bool is_known_opcode(std::uint8_t op) noexcept;

inline constexpr std::size_t kMaxControlPayload = 125;
inline constexpr std::size_t kMaxHeaderSize = 14;

// Close codes (RFC 6455 §7.4.1 and the IANA registry).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;  // the server stops, a page is left
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  // reported for a close without a code; never sent
inline constexpr std::uint16_t kAbnormal = 1006;  // reported for a lost connection; never sent
inline constexpr std::uint16_t kInvalidPayload = 1007;  // text that is not UTF-8
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kMandatoryExtension = 1010;
inline constexpr std::uint16_t kInternalError = 1011;
inline constexpr std::uint16_t kTryAgainLater = 1013;
}  // namespace close_code

// Whether a peer may send `code` in a close frame: 1000-1003, 1007-1014 (registered), 3000-4999
// (libraries and applications). 1004-1006 and 1015 are reserved for reports, never the wire.
[[nodiscard]] bool is_valid_close_code(std::uint16_t code) noexcept;

using MaskKey = std::array<std::uint8_t, 4>;

struct FrameHeader {
  bool fin = true;
  bool rsv1 = false;  // the message is compressed (first frame only)
  Opcode opcode = Opcode::binary;
  bool masked = false;
  MaskKey mask{};  // used when masked
  std::uint64_t length = 0;
};

// Writes `h` to `out` and returns its size (2..14 bytes).
std::size_t encode_header(const FrameHeader& h, std::array<char, kMaxHeaderSize>& out) noexcept;

// XORs `n` bytes at `data` with the key, as bytes that start `offset` bytes into a payload
// (so a payload can be unmasked piece by piece as it arrives). Masking twice unmasks.
void apply_mask(char* data, std::size_t n, const MaskKey& key, std::uint64_t offset) noexcept;

// A whole frame, header and (masked, if the header says so) payload appended to `out`.
void append_frame(std::string& out, const FrameHeader& h, std::string_view payload);

// A close frame's payload: the code in network byte order, then the reason (UTF-8, at most 123
// bytes; a longer one is cut at a character boundary). Code 1005 gives an empty payload.
[[nodiscard]] std::string close_payload(std::uint16_t code, std::string_view reason);

}  // namespace avant::websocket
