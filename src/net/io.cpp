// Non-blocking reads and writes as values (io.hpp). Lab 01 rewrites this file.
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <avant/net/io.hpp>

namespace avant::net {

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

}  // namespace avant::net
