// headers.hpp — an ordered list of HTTP header fields with case-insensitive names (RFC 9110 §5.1).
//
// Fields keep the order and spelling they arrived in; lookups ignore the case of names. A list
// is reused from request to request on a keep-alive connection: clear() keeps the strings'
// storage, so a connection in its steady state parses headers without allocating.
// Threads: none of its own; a Headers is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace avant::http {

// ASCII case-insensitive equality, the rule for header names and most tokens.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
// Strips the optional whitespace (SP, HTAB) HTTP allows around values and list elements.
[[nodiscard]] std::string_view trim_ows(std::string_view s) noexcept;
// True if the comma-separated list `list` has an element equal to `token` (case-insensitive),
// as in `Connection: keep-alive, Upgrade`.
[[nodiscard]] bool list_contains(std::string_view list, std::string_view token) noexcept;

namespace detail {

// Whether the `n` bytes at `a` and at `b` are equal, in a few word compares and without a call
// (memcmp is one): the fields and types compared on a request's path are mostly 4 to 40 bytes.
// Words are read with memcpy (one unaligned load each); from 4 bytes up, the last word overlaps
// the one before it rather than going byte by byte. Always inline: a call would cost as much.
[[nodiscard, gnu::always_inline]] inline bool same_bytes(const char* a, const char* b,
                                                         std::size_t n) noexcept {
  if (n >= 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    std::uint32_t x0 = 0;
    std::uint32_t y0 = 0;
    std::uint32_t x1 = 0;
    std::uint32_t y1 = 0;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace detail

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // A list's first add() takes its storage from a small per-thread pool of lists that were
  // destroyed before (a response per request would otherwise allocate a list per request); the
  // destructor gives it back. A list that was never added to costs nothing to make or destroy.
  // Copies copy the live fields only.
  Headers() noexcept = default;
  ~Headers() {
    if (fields_.capacity() != 0) give_back();  // (most lists never took storage: no call)
  }
  Headers(const Headers& other);
  Headers& operator=(const Headers& other);
  Headers(Headers&& other) noexcept;
  Headers& operator=(Headers&& other) noexcept;

  // Appends a field (a name may repeat). Inline for the common case, a list reused from the
  // request before: a request on a keep-alive connection often repeats that request's fields in
  // the same places, and a slot that holds the bytes already is left alone.
  void add(std::string_view name, std::string_view value) {
    if (size_ < fields_.size()) {
      put_same(fields_[size_].first, name);
      put_same(fields_[size_].second, value);
      ++size_;
    } else {
      add_new(name, value);
    }
  }
  // Replaces every field of that name by one.
  void set(std::string_view name, std::string_view value);
  // Removes every field of that name; returns how many were removed.
  std::size_t remove(std::string_view name);
  // The first field of that name.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
  [[nodiscard]] bool has(std::string_view name) const noexcept { return get(name).has_value(); }
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  // Whether any field of that name lists `token` (comma-separated, case-insensitive).
  [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] const Field& operator[](std::size_t i) const noexcept { return fields_[i]; }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept {
    return fields_.begin() + static_cast<std::ptrdiff_t>(size_);
  }
  // Forgets every field but keeps their storage for the next request.
  void clear() noexcept { size_ = 0; }

 private:
  // Takes a list of kept storage from this thread's pool, if it has one.
  void take_pooled() noexcept;
  // The destructor's work for a list with storage: back to the thread's pool, or freed.
  void give_back() noexcept;
  // add() into a new slot (or the first into a pooled list).
  void add_new(std::string_view name, std::string_view value);
  // slot = bytes, without a call when they are equal already.
  static void put_same(std::string& slot, std::string_view bytes) {
    if (slot.size() == bytes.size() && detail::same_bytes(slot.data(), bytes.data(), bytes.size()))
      return;
    put(slot, bytes);
  }
  static void put(std::string& slot, std::string_view bytes);

  std::vector<Field> fields_;  // [0, size_) are live; the rest is storage kept for reuse
  std::size_t size_ = 0;
};

}  // namespace avant::http
