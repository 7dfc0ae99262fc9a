#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <unistd.h>

#include <avant/reactor/log.hpp>

namespace avant::reactor::log {

namespace {
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): the process-wide log level, atomic
std::atomic<Level> g_level{Level::info};

std::string_view name(Level l) noexcept {
  switch (l) {
    case Level::debug:
      return "DEBUG";
    case Level::info:
      return "INFO ";
    case Level::warn:
      return "WARN ";
    case Level::error:
      return "ERROR";
    case Level::off:
      return "OFF  ";
  }
  return "?    ";
}
}  // namespace

void set_level(Level l) noexcept {
  g_level.store(l, std::memory_order_relaxed);
}
Level level() noexcept {
  return g_level.load(std::memory_order_relaxed);
}

void write(Level l, std::string_view component, std::string_view message) noexcept {
  if (!enabled(l)) return;
  try {
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    std::array<char, 32> stamp{};
    const auto n = std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    std::string line;
    line.reserve(64 + component.size() + message.size());
    line.append(stamp.data(), n);
    std::array<char, 8> ms{};
    std::snprintf(ms.data(), ms.size(), ".%03dZ ", static_cast<int>(millis));
    line.append(ms.data());
    line.append(name(l));
    line.append(" [").append(component).append("] ").append(message).push_back('\n');
    // One write per line: lines from several threads do not interleave. A short write to stderr
    // is not retried; logging must never block or fail the caller.
    static_cast<void>(::write(STDERR_FILENO, line.data(), line.size()));
  } catch (...) {
    // Out of memory while formatting a log line: drop the line, never the caller.
  }
}

}  // namespace avant::reactor::log
