// utf8.hpp — streaming UTF-8 validation (RFC 3629), for WebSocket text messages and close reasons.
//
// A text message may arrive in many frames and each frame in many reads; a character may be cut
// anywhere. The validator keeps where it is inside a character between calls, so the message is
// refused at its first byte that cannot be UTF-8 (RFC 6455 §8.1: 1007), not once it is whole.
//
//   first byte   then                     refused on purpose
//   00..7F       -                        C0, C1, F5..FF (overlong or past U+10FFFF)
//   C2..DF       80..BF                   E0 80..9F (overlong)
//   E0           A0..BF 80..BF            ED A0..BF (UTF-16 surrogates)
//   E1..EC EE EF 80..BF 80..BF            F0 80..8F (overlong)
//   ED           80..9F 80..BF            F4 90..BF (past U+10FFFF)
//   F0           90..BF 80..BF 80..BF
//   F1..F3       80..BF 80..BF 80..BF
//   F4           80..8F 80..BF 80..BF
//
// Threads: none of its own; one validator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

namespace avant::websocket {

class Utf8Validator {
 public:
  // Validates the next bytes of the text. Returns false at the first byte that cannot continue
  // valid UTF-8; the validator then stays failed until reset().
  bool feed(std::string_view bytes) noexcept;
  // The bytes fed so far end between two characters (a text may end here).
  [[nodiscard]] bool complete() const noexcept { return state_ == kAccept; }
  [[nodiscard]] bool failed() const noexcept { return state_ == kReject; }
  void reset() noexcept { state_ = kAccept; }

 private:
  static constexpr std::uint8_t kAccept = 0;
  static constexpr std::uint8_t kReject = 8;
  std::uint8_t state_ = kAccept;
};

// Whether `text` is complete, valid UTF-8.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace avant::websocket
