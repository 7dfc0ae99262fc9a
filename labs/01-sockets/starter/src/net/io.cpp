// Lab 01 — non-blocking reads and writes as values. Contract: src/net/include/avant/net/io.hpp.
// (to_string, ignore_sigpipe and wait_ready are given, in src/net/io_support.cpp.)
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <avant/net/io.hpp>

namespace avant::net {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(01): ") + what);
}
}  // namespace

IoResult read_some(int fd, std::span<char> into) noexcept {
  static_cast<void>(fd);
  static_cast<void>(into);
  todo("read_some: one read(2); retry EINTR; EAGAIN -> would_block; 0 -> closed; else error");
}

IoResult write_some(int fd, std::span<const char> from) noexcept {
  static_cast<void>(fd);
  static_cast<void>(from);
  todo("write_some: one write(2); retry EINTR; EAGAIN -> would_block; else error with errno");
}

void set_nonblocking(int fd, bool on) {
  static_cast<void>(fd);
  static_cast<void>(on);
  todo("set_nonblocking: fcntl F_GETFL, add or clear O_NONBLOCK, F_SETFL; throw system_error");
}

bool is_nonblocking(int fd) {
  static_cast<void>(fd);
  todo("is_nonblocking: fcntl F_GETFL and test O_NONBLOCK");
}

}  // namespace avant::net
