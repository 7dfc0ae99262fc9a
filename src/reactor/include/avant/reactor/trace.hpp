// trace.hpp — watch the loop think: one line per event, for learners and for debugging.
//
//   AVANT_TRACE=reactor,tcp,http build/default/examples/http-echo/avant-http-echo
//
//   +0.000412 worker-0  reactor woke: 1 ready
//   +0.000415 worker-0  reactor fd 9 ready: IN
//   +0.000431 worker-0  tcp     conn 1: read 78 bytes (input 78)
//   +0.000440 worker-0  http    conn 1: GET /hello HTTP/1.1
//
// Topics (comma-separated in AVANT_TRACE, or `all`): reactor (epoll wake-ups, ready channels,
// timers, queued tasks), tcp (accepts, reads and writes with the buffer sizes after them, state
// changes, callbacks), http (requests, answers, timeouts). The time is seconds since the process
// read AVANT_TRACE; each line names the thread. Lines go to stderr, one write(2) each.
//
// Off by default, and then it costs one load and one well-predicted branch per call site:
//
//   if (trace::on(trace::Topic::tcp)) [[unlikely]] trace::emit(trace::Topic::tcp, "conn ", id, ...);
//
// The arguments are formatted only when the topic is on. The topics are read once, before main().
// Threads: any.
#pragma once

#include <cstdint>
#include <sstream>
#include <string_view>

namespace avant::reactor::trace {

enum class Topic : std::uint8_t { reactor = 1, tcp = 2, http = 4 };

namespace detail {
// The topics switched on (a bit per Topic), set from AVANT_TRACE by a static initializer and never
// changed afterwards.
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): written once before main(), then read-only
extern unsigned g_topics;
void write_line(Topic topic, std::string_view text) noexcept;
}  // namespace detail

[[nodiscard]] inline bool on(Topic topic) noexcept {
  return (detail::g_topics & static_cast<unsigned>(topic)) != 0;
}

// Writes one trace line made of `parts` (anything an ostream prints). Call it behind on().
template <class... Parts>
void emit(Topic topic, const Parts&... parts) noexcept {
  try {
    std::ostringstream text;
    (text << ... << parts);
    detail::write_line(topic, text.str());
  } catch (...) {
    // Out of memory while tracing: drop the line, never the caller.
  }
}

// "IN|OUT|HUP" for epoll event bits, as the reactor lines print them.
[[nodiscard]] std::string events_text(std::uint32_t events);

}  // namespace avant::reactor::trace
