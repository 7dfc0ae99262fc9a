// log.hpp — one line per event on stderr, with a level, from any thread.
//
//   2026-11-25T07:30:00.123Z WARN  [acceptor] out of descriptors (EMFILE): refused 127.0.0.1:5000
//
// The reactor logs only what an operator must see (descriptor exhaustion, a failing epoll_ctl, a
// connection closed for a protocol or resource limit); everything per-message is a counter, not a
// log line. Each line is one write(2), so lines from different threads never interleave.
// The assembled server (chapter 05) extends this with structured fields and a configurable sink.
// Threads: any.
#pragma once

#include <cstdint>
#include <string_view>

namespace avant::reactor::log {

enum class Level : std::uint8_t { debug, info, warn, error, off };

// Lines below `level` are not written. Default: info.
void set_level(Level level) noexcept;
[[nodiscard]] Level level() noexcept;
[[nodiscard]] inline bool enabled(Level l) noexcept {
  return l >= level() && l != Level::off;
}

// Writes one line: time, level, [component], message.
void write(Level l, std::string_view component, std::string_view message) noexcept;

inline void debug(std::string_view c, std::string_view m) noexcept {
  write(Level::debug, c, m);
}
inline void info(std::string_view c, std::string_view m) noexcept {
  write(Level::info, c, m);
}
inline void warn(std::string_view c, std::string_view m) noexcept {
  write(Level::warn, c, m);
}
inline void error(std::string_view c, std::string_view m) noexcept {
  write(Level::error, c, m);
}

}  // namespace avant::reactor::log
