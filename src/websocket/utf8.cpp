// utf8.cpp — the validator of utf8.hpp: a state per "bytes still expected, and their range".
#include <array>
#include <cstring>

#include <avant/websocket/utf8.hpp>

namespace avant::websocket {
namespace {

// States: 0 between characters; 1..3 that many continuation bytes (80..BF) still to come; 4..7
// the first continuation byte has a narrower range (after E0, ED, F0, F4); 8 failed.
struct Range {
  std::uint8_t lo;
  std::uint8_t hi;
  std::uint8_t next;
};
constexpr std::array<Range, 8> kContinuation = {{
    {0, 0, 0},        // 0: unused (a lead byte is expected)
    {0x80, 0xBF, 0},  // 1
    {0x80, 0xBF, 1},  // 2
    {0x80, 0xBF, 2},  // 3
    {0xA0, 0xBF, 1},  // 4: after E0, no overlong three-byte form
    {0x80, 0x9F, 1},  // 5: after ED, no surrogates
    {0x90, 0xBF, 2},  // 6: after F0, no overlong four-byte form
    {0x80, 0x8F, 2},  // 7: after F4, nothing past U+10FFFF
}};

constexpr std::uint8_t lead_state(std::uint8_t b) noexcept {
  if (b < 0x80) return 0;
  if (b < 0xC2) return 8;  // a stray continuation byte, or C0/C1 (overlong)
  if (b < 0xE0) return 1;
  if (b == 0xE0) return 4;
  if (b == 0xED) return 5;
  if (b < 0xF0) return 2;
  if (b == 0xF0) return 6;
  if (b < 0xF4) return 3;
  if (b == 0xF4) return 7;
  return 8;
}

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  std::uint8_t state = state_;
  if (state == kReject) return false;
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    if (state == kAccept) {
      // Between characters: skip ASCII eight bytes at a time (most text is mostly ASCII).
      while (end - p >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, sizeof word);
        if ((word & 0x8080808080808080ULL) != 0) break;
        p += 8;
      }
      if (p == end) break;
      state = lead_state(static_cast<std::uint8_t>(*p++));
      if (state == kReject) break;
      continue;
    }
    const auto b = static_cast<std::uint8_t>(*p++);
    const Range& r = kContinuation[state];
    if (b < r.lo || b > r.hi) {
      state = kReject;
      break;
    }
    state = r.next;
  }
  state_ = state;
  return state != kReject;
}

bool is_valid_utf8(std::string_view text) noexcept {
  Utf8Validator v;
  return v.feed(text) && v.complete();
}

}  // namespace avant::websocket
