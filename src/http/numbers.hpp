// numbers.hpp — the unsigned numbers of HTTP (private to module http): Content-Length, status
// codes, chunk sizes, byte ranges, ETags. One formatter and one parser: no locale, no allocation
// of their own, no sign, no spaces.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace avant::http::numbers {

// The digits of n in base 10 or 16 (lower case), at most 20.
class Digits {
 public:
  explicit Digits(std::uint64_t n, int base = 10) noexcept {
    const auto result = std::to_chars(buf_.data(), buf_.data() + buf_.size(), n, base);
    size_ = static_cast<std::size_t>(result.ptr - buf_.data());
  }
  [[nodiscard]] std::string_view view() const noexcept { return {buf_.data(), size_}; }

 private:
  std::array<char, 20> buf_{};  // 2^64 - 1 has 20 decimal digits, 16 hex ones
  std::size_t size_ = 0;
};

inline void append(std::string& out, std::uint64_t n, int base = 10) {
  out += Digits(n, base).view();
}

inline std::string text(std::uint64_t n, int base = 10) {
  return std::string(Digits(n, base).view());
}

// All of `s` as a decimal number, or nothing (empty, a sign, a space, another character, or over
// 2^64 - 1).
inline std::optional<std::uint64_t> parse(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace avant::http::numbers
