// file_descriptor.hpp — the one owner of a kernel file descriptor.
//
// Ownership: a FileDescriptor owns at most one descriptor and closes it exactly once, in its
// destructor or in reset()/close(). It is move-only: a moved-from object holds -1 and closes
// nothing, so a descriptor is never closed twice. A real second descriptor for the same open file
// comes only from duplicate(), which calls the kernel (dup) and says so in its name.
// Threads: not synchronised; one thread at a time uses a given object.
#pragma once

namespace avant::net {

class FileDescriptor {
 public:
  // An empty object: holds no descriptor (get() == -1).
  FileDescriptor() noexcept = default;
  // Takes ownership of `fd` (which may be -1 for "none").
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  // Closes the descriptor if it holds one. Never throws: a failing close(2) is ignored here; call
  // close() first where the error matters.
  ~FileDescriptor();

  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  // The descriptor number, or -1. Ownership stays here.
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives the descriptor up without closing it; this object is left empty.
  [[nodiscard]] int release() noexcept;
  // Closes the held descriptor (if any) and takes ownership of `fd`.
  void reset(int fd = -1) noexcept;
  // Closes the held descriptor now and leaves this object empty. Throws std::system_error naming
  // close(2) if the kernel reports an error (the descriptor is released either way, as POSIX
  // leaves it in an unspecified state and Linux always frees it).
  void close();
  // A new descriptor for the same open file (F_DUPFD_CLOEXEC). Throws std::system_error naming
  // fcntl(F_DUPFD_CLOEXEC) on failure; an empty object duplicates to an empty object.
  [[nodiscard]] FileDescriptor duplicate() const;

 private:
  int fd_ = -1;
};

}  // namespace avant::net
