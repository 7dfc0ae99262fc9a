// Lab 01 — Socket setup and data path. Contract: src/net/include/avant/net/socket.hpp.
// (Socket options are given, in src/net/socket_options.cpp.)
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <netinet/in.h>
#include <sys/socket.h>

#include <avant/net/socket.hpp>

namespace avant::net {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(01): ") + what);
}
}  // namespace

Socket Socket::create(sa_family_t family, SocketType type) {
  static_cast<void>(family);
  static_cast<void>(type);
  todo("Socket::create: socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; throw system_error('socket')");
}

void Socket::bind(const SocketAddress& address) {
  static_cast<void>(address);
  todo("Socket::bind: bind(2); on failure throw system_error naming 'bind <address>'");
}

void Socket::listen(int backlog) {
  static_cast<void>(backlog);
  todo("Socket::listen: listen(2); throw system_error('listen')");
}

SocketAddress Socket::local_address() const {
  todo("Socket::local_address: getsockname(2)");
}

SocketAddress Socket::peer_address() const {
  todo("Socket::peer_address: getpeername(2)");
}

AcceptResult Socket::accept() noexcept {
  todo("Socket::accept: accept4 non-blocking + close-on-exec; EAGAIN -> would_block; retry EINTR");
}

IoResult Socket::connect(const SocketAddress& address) noexcept {
  static_cast<void>(address);
  todo("Socket::connect: connect(2); 0 -> ok; EINPROGRESS -> would_block; else error");
}

int Socket::pending_error() const noexcept {
  todo("Socket::pending_error: getsockopt(SOL_SOCKET, SO_ERROR)");
}

IoResult Socket::shutdown_write() noexcept {
  todo("Socket::shutdown_write: shutdown(SHUT_WR)");
}

IoResult Socket::send_to(std::span<const char> datagram, const SocketAddress& to) noexcept {
  static_cast<void>(datagram);
  static_cast<void>(to);
  todo("Socket::send_to: one sendto(2) with MSG_NOSIGNAL");
}

IoResult Socket::receive_from(std::span<char> into, SocketAddress& from) noexcept {
  static_cast<void>(into);
  static_cast<void>(from);
  todo("Socket::receive_from: one recvfrom(2); fill `from` with SocketAddress::from_sockaddr");
}

}  // namespace avant::net
