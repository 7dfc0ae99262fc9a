// The given half of io.hpp: status names, SIGPIPE, and a poll(2) wait for tests and tools.
// Lab 01 does not replace this file.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <poll.h>

#include <avant/net/io.hpp>

namespace avant::net {

std::string_view to_string(IoStatus status) noexcept {
  switch (status) {
    case IoStatus::ok:
      return "ok";
    case IoStatus::would_block:
      return "would_block";
    case IoStatus::closed:
      return "closed";
    case IoStatus::full:
      return "full";
    case IoStatus::error:
      return "error";
  }
  return "unknown";
}

std::string error_text(int error) {
  char text[256] = {};
  // GNU strerror_r: returns a pointer to the text, in `text` or a static string.
  return ::strerror_r(error, text, sizeof text);
}

void ignore_sigpipe() {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGPIPE, &action, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigaction(SIGPIPE)");
  }
}

short wait_ready(int fd, short events, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    if (n > 0) return p.revents;
    if (n == 0) return 0;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
  }
}

}  // namespace avant::net
