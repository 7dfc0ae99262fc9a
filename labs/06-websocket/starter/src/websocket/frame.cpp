// Lab 06 — the frame: opcodes, close codes, encoding a header, masking, whole frames and close
// payloads. Contract and the frame drawn: src/websocket/include/avant/websocket/frame.hpp.
// Tests: ctest -L ch06 (06.Frame*, then everything that sends a frame).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <avant/websocket/frame.hpp>

namespace avant::websocket {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(06): ") + what);
}

// For the noexcept functions: a TODO cannot be thrown from there, so the lab says it loudly and
// stops.
[[noreturn]] void todo_noexcept(const char* what) noexcept {
  std::fputs("TODO(06): ", stderr);
  std::fputs(what, stderr);
  std::fputs("\n", stderr);
  std::abort();
}
}  // namespace

bool is_known_opcode(std::uint8_t op) noexcept {
  static_cast<void>(op);
  todo_noexcept(
      "is_known_opcode: 0x0 (continuation), 0x1, 0x2, 0x8, 0x9, 0xA; the other ten are reserved");
}

bool is_valid_close_code(std::uint16_t code) noexcept {
  static_cast<void>(code);
  todo_noexcept(
      "is_valid_close_code: 1000-1003, 1007-1014 and 3000-4999; never 1004-1006, 1015 or anything "
      "else");
}

std::size_t encode_header(const FrameHeader& h, std::array<char, kMaxHeaderSize>& out) noexcept {
  static_cast<void>(h);
  static_cast<void>(out);
  todo_noexcept(
      "encode_header: byte 0 = FIN, RSV1, opcode; byte 1 = MASK and a 7-bit length (< 126), or "
      "126 + 16 bits, or 127 + 64 bits, big-endian; then the 4-byte key if masked; return 2..14");
}

// NOLINTNEXTLINE(readability-non-const-parameter): the contract; your code XORs these bytes
void apply_mask(char* data, std::size_t n, const MaskKey& key, std::uint64_t offset) noexcept {
  static_cast<void>(data);
  static_cast<void>(n);
  static_cast<void>(key);
  static_cast<void>(offset);
  todo_noexcept(
      "apply_mask: data[i] ^= key[(offset + i) % 4] for the n bytes (a byte at a time is right; "
      "eight at a time is faster)");
}

void append_frame(std::string& out, const FrameHeader& h, std::string_view payload) {
  static_cast<void>(out);
  static_cast<void>(h);
  static_cast<void>(payload);
  todo(
      "append_frame: the header with length = payload.size(), encode_header, append it and the "
      "payload to `out`, then mask the payload's bytes in `out` if the header says so");
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  static_cast<void>(code);
  static_cast<void>(reason);
  todo(
      "close_payload: 1005 -> empty; else the code, big-endian, then the reason cut to 123 bytes "
      "at a character boundary (never inside a UTF-8 sequence)");
}

}  // namespace avant::websocket
