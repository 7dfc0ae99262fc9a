#include <cerrno>
#include <string>
#include <system_error>

// Socket setup and data path (socket.hpp). Lab 01 rewrites this file.
#include <netinet/in.h>
#include <sys/socket.h>

#include <avant/net/socket.hpp>

namespace avant::net {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Socket Socket::create(sa_family_t family, SocketType type) {
  const int kind =
      (type == SocketType::tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const int fd = ::socket(family, kind, 0);
  if (fd < 0) throw_errno(type == SocketType::tcp ? "socket(tcp)" : "socket(udp)");
  return Socket{FileDescriptor{fd}};
}

void Socket::bind(const SocketAddress& address) {
  if (::bind(fd(), address.data(), address.length()) != 0) {
    throw_errno("bind " + address.to_string());
  }
}

void Socket::listen(int backlog) {
  if (::listen(fd(), backlog) != 0) throw_errno("listen");
}

SocketAddress Socket::local_address() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw_errno("getsockname");
  }
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
}

SocketAddress Socket::peer_address() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw_errno("getpeername");
  }
  return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
}

AcceptResult Socket::accept() noexcept {
  AcceptResult result;
  sockaddr_storage storage{};
  for (;;) {
    socklen_t length = sizeof storage;
    const int fd = ::accept4(this->fd(), reinterpret_cast<sockaddr*>(&storage), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      result.socket = Socket{FileDescriptor{fd}};
      result.peer =
          SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
      return result;
    }
    if (errno == EINTR) continue;
    // A connection that was reset while it waited in the queue is not this listener's failure.
    if (errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      result.status = IoStatus::would_block;
    } else {
      result.status = IoStatus::error;
      result.error = errno;
    }
    return result;
  }
}

IoResult Socket::connect(const SocketAddress& address) noexcept {
  if (::connect(fd(), address.data(), address.length()) == 0) return {.status = IoStatus::ok};
  if (errno == EINPROGRESS || errno == EINTR) return {.status = IoStatus::would_block};
  return {.status = IoStatus::error, .error = errno};
}

int Socket::pending_error() const noexcept {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &value, &length) != 0) return errno;
  return value;
}

IoResult Socket::shutdown_write() noexcept {
  if (::shutdown(fd(), SHUT_WR) == 0) return {.status = IoStatus::ok};
  return {.status = IoStatus::error, .error = errno};
}

IoResult Socket::send_to(std::span<const char> datagram, const SocketAddress& to) noexcept {
  for (;;) {
    const ssize_t n =
        ::sendto(fd(), datagram.data(), datagram.size(), MSG_NOSIGNAL, to.data(), to.length());
    if (n >= 0) return {.status = IoStatus::ok, .bytes = static_cast<std::size_t>(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {.status = IoStatus::would_block};
    return {.status = IoStatus::error, .error = errno};
  }
}

IoResult Socket::receive_from(std::span<char> into, SocketAddress& from) noexcept {
  for (;;) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    const ssize_t n = ::recvfrom(fd(), into.data(), into.size(), 0,
                                 reinterpret_cast<sockaddr*>(&storage), &length);
    if (n >= 0) {
      from = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
      return {.status = IoStatus::ok, .bytes = static_cast<std::size_t>(n)};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {.status = IoStatus::would_block};
    return {.status = IoStatus::error, .error = errno};
  }
}

}  // namespace avant::net
