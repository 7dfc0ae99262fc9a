// The trace switch and its line writer (trace.hpp).
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <avant/reactor/trace.hpp>

namespace avant::reactor::trace {

namespace {

using Clock = std::chrono::steady_clock;

unsigned parse(const char* text) {
  if (text == nullptr) return 0;
  unsigned topics = 0;
  std::string_view rest(text);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view word = rest.substr(0, comma);
    if (word == "reactor") topics |= static_cast<unsigned>(Topic::reactor);
    if (word == "tcp") topics |= static_cast<unsigned>(Topic::tcp);
    if (word == "http") topics |= static_cast<unsigned>(Topic::http);
    if (word == "all" || word == "1") topics = ~0U;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return topics;
}

std::string_view name(Topic topic) {
  switch (topic) {
    case Topic::reactor:
      return "reactor";
    case Topic::tcp:
      return "tcp    ";
    case Topic::http:
      return "http   ";
  }
  return "?      ";
}

// NOLINTNEXTLINE(*-avoid-non-const-global-variables): the time trace lines count from
const Clock::time_point g_start = Clock::now();

}  // namespace

namespace detail {
// Written once before main() (getenv then, when no other thread can change the environment), then
// only read.
// NOLINTNEXTLINE(*-avoid-non-const-global-variables,concurrency-mt-unsafe)
unsigned g_topics = parse(std::getenv("AVANT_TRACE"));

void write_line(Topic topic, std::string_view text) noexcept {
  try {
    const double seconds = std::chrono::duration<double>(Clock::now() - g_start).count();
    std::array<char, 16> thread{};
    ::pthread_getname_np(::pthread_self(), thread.data(), thread.size());
    std::array<char, 48> head{};
    const int n = std::snprintf(head.data(), head.size(), "+%.6f %-9s ", seconds, thread.data());
    std::string line;
    line.reserve(64 + text.size());
    line.append(head.data(), static_cast<std::size_t>(n > 0 ? n : 0));
    line.append(name(topic)).append(" ").append(text).push_back('\n');
    static_cast<void>(::write(STDERR_FILENO, line.data(), line.size()));
  } catch (...) {
    // Out of memory while tracing: drop the line.
  }
}
}  // namespace detail

std::string events_text(std::uint32_t events) {
  std::string text;
  const auto add = [&text](const char* word) {
    if (!text.empty()) text += '|';
    text += word;
  };
  if ((events & EPOLLIN) != 0) add("IN");
  if ((events & EPOLLPRI) != 0) add("PRI");
  if ((events & EPOLLOUT) != 0) add("OUT");
  if ((events & EPOLLRDHUP) != 0) add("RDHUP");
  if ((events & EPOLLHUP) != 0) add("HUP");
  if ((events & EPOLLERR) != 0) add("ERR");
  return text.empty() ? "none" : text;
}

}  // namespace avant::reactor::trace
