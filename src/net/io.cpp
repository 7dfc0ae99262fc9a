#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

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

namespace {

IoResult from_errno(int error) noexcept {
  if (error == EAGAIN || error == EWOULDBLOCK) return {.status = IoStatus::would_block};
  return {.status = IoStatus::error, .error = error};
}

}  // namespace

IoResult read_some(int fd, std::span<char> into) noexcept {
  for (;;) {
    const ssize_t n = ::read(fd, into.data(), into.size());
    if (n > 0) return {.status = IoStatus::ok, .bytes = static_cast<std::size_t>(n)};
    if (n == 0) return {.status = into.empty() ? IoStatus::ok : IoStatus::closed};
    if (errno != EINTR) return from_errno(errno);
  }
}

IoResult write_some(int fd, std::span<const char> from) noexcept {
  for (;;) {
    const ssize_t n = ::write(fd, from.data(), from.size());
    if (n >= 0) return {.status = IoStatus::ok, .bytes = static_cast<std::size_t>(n)};
    if (errno != EINTR) return from_errno(errno);
  }
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw std::system_error(errno, std::generic_category(), "fcntl(F_GETFL)");
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) {
    throw std::system_error(errno, std::generic_category(), "fcntl(F_SETFL, O_NONBLOCK)");
  }
}

bool is_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw std::system_error(errno, std::generic_category(), "fcntl(F_GETFL)");
  return (flags & O_NONBLOCK) != 0;
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
