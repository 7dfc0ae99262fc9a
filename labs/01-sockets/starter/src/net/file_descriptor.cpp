// Lab 01 — FileDescriptor. Contract: src/net/include/avant/net/file_descriptor.hpp.
// Replace every TODO(01) with an implementation; `ctest --test-dir build/lab01 -L ch01` grades it.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>

namespace avant::net {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(01): ") + what);
}
}  // namespace

FileDescriptor::~FileDescriptor() {
  // TODO(01): close fd_ if this object holds a descriptor. A destructor must never throw, so this
  // stub cannot throw like the others: it leaks the descriptor, and the tests notice.
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept {
  static_cast<void>(other);
  todo("FileDescriptor(FileDescriptor&&): take other's descriptor, leave other empty (-1)");
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  static_cast<void>(other);
  todo("FileDescriptor::operator=(&&): close what this holds, take other's, leave other empty");
}

int FileDescriptor::release() noexcept {
  todo("FileDescriptor::release: return the descriptor and forget it without closing");
}

void FileDescriptor::reset(int fd) noexcept {
  static_cast<void>(fd);
  todo("FileDescriptor::reset: close the held descriptor (if any), then hold fd");
}

void FileDescriptor::close() {
  todo("FileDescriptor::close: close(2) now, leave this empty, throw std::system_error on error");
}

FileDescriptor FileDescriptor::duplicate() const {
  todo("FileDescriptor::duplicate: fcntl(fd_, F_DUPFD_CLOEXEC, 0) into a new FileDescriptor");
}

}  // namespace avant::net
