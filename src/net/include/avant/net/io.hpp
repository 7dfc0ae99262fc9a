// io.hpp — non-blocking I/O as values: what one read, write or accept did.
//
// A network program spends its life on descriptors that are not ready yet. Here EAGAIN is not an
// error but an answer (IoStatus::would_block), end of stream is an answer (IoStatus::closed), and a
// real failure carries its errno (IoStatus::error) for the caller to log or act on. Only setup and
// query calls (socket, bind, listen, fcntl, setsockopt/getsockopt, getsockname, poll) throw
// std::system_error.
//
// Threads: free functions on a descriptor; callers serialise use of one descriptor themselves.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace avant::net {

enum class IoStatus : std::uint8_t {
  ok,           // `bytes` were transferred (for a connect: the connection is established)
  would_block,  // EAGAIN/EWOULDBLOCK (or EINPROGRESS for a connect): wait for readiness, retry
  closed,       // end of stream: the peer closed its sending side (read returned 0)
  full,         // the destination Buffer is at its maximum size: nothing was read
  error,        // the call failed with `error` (an errno value)
};

// The outcome of one non-blocking call. `bytes` is meaningful for ok; `error` for error.
struct [[nodiscard]] IoResult {
  IoStatus status = IoStatus::ok;
  std::size_t bytes = 0;
  int error = 0;

  [[nodiscard]] bool ok() const noexcept { return status == IoStatus::ok; }
};

// "ok", "would_block", ... for logs and test messages.
[[nodiscard]] std::string_view to_string(IoStatus status) noexcept;

// The text of an errno value, thread-safe (std::strerror is not: it may share one buffer).
[[nodiscard]] std::string error_text(int error);

// One read(2) into `into`, retried on EINTR.
IoResult read_some(int fd, std::span<char> into) noexcept;
// One write(2) of `from`, retried on EINTR. A partial write is ok with bytes < from.size().
// Writing to a socket whose peer has gone gives error EPIPE once ignore_sigpipe() has run (without
// it, the kernel's SIGPIPE ends the process).
IoResult write_some(int fd, std::span<const char> from) noexcept;

// Sets or clears O_NONBLOCK. Throws std::system_error naming fcntl on failure.
void set_nonblocking(int fd, bool on = true);
[[nodiscard]] bool is_nonblocking(int fd);

// Ignores SIGPIPE for the whole process, so that writing to a closed socket fails with EPIPE
// instead of killing the process. Idempotent; call once at start-up from any thread.
void ignore_sigpipe();

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT, ...) or `timeout` passes, with poll(2).
// Returns the ready events (0 on timeout). Blocking: for tests, tools and blocking clients, never
// inside an event loop. Throws std::system_error naming poll on failure.
[[nodiscard]] short wait_ready(int fd, short events, std::chrono::milliseconds timeout);

}  // namespace avant::net
