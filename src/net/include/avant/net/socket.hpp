// socket.hpp — a TCP or UDP socket: setup calls that throw, data calls that return values.
//
// Every Socket is created non-blocking and close-on-exec: Avant's event loops (chapter 02) never
// block on a descriptor, and no socket leaks into a child process. Setup calls (create, bind,
// listen, setsockopt) throw std::system_error whose message names the call and, where there is
// one, the address: "bind 127.0.0.1:20023: Address already in use". Data-path calls (accept,
// connect, read, write, send_to, receive_from) return values (an IoResult; accept an
// AcceptResult): EAGAIN is an answer, not an error.
//
// Ownership: a Socket owns its descriptor through a FileDescriptor; it is move-only.
// Threads: not synchronised; one thread at a time uses a given Socket (in Avant: its loop's
// thread).
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include <avant/net/file_descriptor.hpp>
#include <avant/net/io.hpp>
#include <avant/net/socket_address.hpp>

namespace avant::net {

enum class SocketType : std::uint8_t { tcp, udp };

struct AcceptResult;

class Socket {
 public:
  // A new non-blocking, close-on-exec socket of `family` (AF_INET or AF_INET6). Throws
  // std::system_error naming socket(2).
  static Socket create(sa_family_t family, SocketType type);
  // Adopts an open socket descriptor (for example one from accept, or inherited).
  explicit Socket(FileDescriptor fd) noexcept : fd_(std::move(fd)) {}

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  // Gives up ownership of the descriptor (for handing it to another owner).
  [[nodiscard]] FileDescriptor release() noexcept { return std::move(fd_); }

  // --- setup: throw std::system_error naming the call ---
  void bind(const SocketAddress& address);
  void listen(int backlog = SOMAXCONN);
  void set_reuse_address(bool on);
  void set_reuse_port(bool on);
  void set_no_delay(bool on);          // TCP_NODELAY: no Nagle delay for small writes
  void set_keep_alive(bool on);        // SO_KEEPALIVE
  void set_v6_only(bool on);           // IPV6_V6ONLY: an [::] listener takes IPv6 only
  void set_send_buffer(int bytes);     // SO_SNDBUF (the kernel doubles it for bookkeeping)
  void set_receive_buffer(int bytes);  // SO_RCVBUF (likewise)
  [[nodiscard]] bool reuse_address() const;
  [[nodiscard]] bool reuse_port() const;
  [[nodiscard]] bool no_delay() const;
  [[nodiscard]] bool keep_alive() const;
  [[nodiscard]] int send_buffer() const;
  [[nodiscard]] int receive_buffer() const;
  // getsockname / getpeername.
  [[nodiscard]] SocketAddress local_address() const;
  [[nodiscard]] SocketAddress peer_address() const;

  // --- data path: values, never exceptions ---
  // One accept4 (non-blocking, close-on-exec). would_block when the queue is empty; error with
  // EMFILE/ENFILE when out of descriptors (the reactor of chapter 02 handles that case).
  [[nodiscard]] AcceptResult accept() noexcept;
  // Starts a connect: ok (connected at once, as on loopback sometimes), would_block (EINPROGRESS:
  // wait for writability, then check pending_error()), or error.
  IoResult connect(const SocketAddress& address) noexcept;
  // SO_ERROR: the errno of a finished non-blocking connect (0 = connected), and clears it.
  [[nodiscard]] int pending_error() const noexcept;
  IoResult read(std::span<char> into) noexcept { return read_some(fd(), into); }
  IoResult write(std::span<const char> from) noexcept { return write_some(fd(), from); }
  // shutdown(SHUT_WR): sends FIN after queued data; reading stays open (a half-close).
  IoResult shutdown_write() noexcept;
  // UDP: one datagram. A datagram longer than `into` is truncated (bytes is what was stored).
  IoResult send_to(std::span<const char> datagram, const SocketAddress& to) noexcept;
  IoResult receive_from(std::span<char> into, SocketAddress& from) noexcept;

 private:
  void set_option(int level, int name, int value, const char* what);
  [[nodiscard]] int get_option(int level, int name, const char* what) const;

  FileDescriptor fd_;
};

struct [[nodiscard]] AcceptResult {
  IoStatus status = IoStatus::ok;
  int error = 0;                    // errno when status == error
  Socket socket{FileDescriptor{}};  // the accepted connection when status == ok
  SocketAddress peer;               // its remote address when status == ok
};

}  // namespace avant::net
