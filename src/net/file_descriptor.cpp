#include <cerrno>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>

namespace avant::net {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);  // Linux frees the descriptor even when close reports an error.
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) reset(std::exchange(other.fd_, -1));
  return *this;
}

int FileDescriptor::release() noexcept {
  return std::exchange(fd_, -1);
}

void FileDescriptor::reset(int fd) noexcept {
  const int old = std::exchange(fd_, fd);
  if (old >= 0 && old != fd) ::close(old);
}

void FileDescriptor::close() {
  const int old = std::exchange(fd_, -1);
  // No retry on EINTR: on Linux the descriptor is already gone and may be reused by another thread.
  if (old >= 0 && ::close(old) != 0) {
    throw std::system_error(errno, std::generic_category(), "close");
  }
}

FileDescriptor FileDescriptor::duplicate() const {
  if (fd_ < 0) return FileDescriptor{};
  const int copy = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
  return FileDescriptor{copy};
}

}  // namespace avant::net
