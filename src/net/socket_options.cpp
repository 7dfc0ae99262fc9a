// The given half of socket.hpp: socket options, a setsockopt/getsockopt each; and net::address()
// (socket_address.hpp), the throwing shorthand over SocketAddress::parse.
// Lab 01 does not replace this file.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>

namespace avant::net {

void Socket::set_option(int level, int name, int value, const char* what) {
  if (::setsockopt(fd(), level, name, &value, sizeof value) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            std::string("setsockopt(") + what + ")");
  }
}

int Socket::get_option(int level, int name, const char* what) const {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd(), level, name, &value, &length) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            std::string("getsockopt(") + what + ")");
  }
  return value;
}

void Socket::set_reuse_address(bool on) {
  set_option(SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0, "SO_REUSEADDR");
}
void Socket::set_reuse_port(bool on) {
  set_option(SOL_SOCKET, SO_REUSEPORT, on ? 1 : 0, "SO_REUSEPORT");
}
void Socket::set_no_delay(bool on) {
  set_option(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "TCP_NODELAY");
}
void Socket::set_keep_alive(bool on) {
  set_option(SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0, "SO_KEEPALIVE");
}
void Socket::set_v6_only(bool on) {
  set_option(IPPROTO_IPV6, IPV6_V6ONLY, on ? 1 : 0, "IPV6_V6ONLY");
}
void Socket::set_send_buffer(int bytes) {
  set_option(SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF");
}
void Socket::set_receive_buffer(int bytes) {
  set_option(SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
}

bool Socket::reuse_address() const {
  return get_option(SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR") != 0;
}
bool Socket::reuse_port() const {
  return get_option(SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT") != 0;
}
bool Socket::no_delay() const {
  return get_option(IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY") != 0;
}
bool Socket::keep_alive() const {
  return get_option(SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE") != 0;
}
int Socket::send_buffer() const {
  return get_option(SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
}
int Socket::receive_buffer() const {
  return get_option(SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
}

SocketAddress address(std::string_view text) {
  const AddressParse parsed = SocketAddress::parse(text);
  if (!parsed.ok()) {
    throw std::invalid_argument("net::address(\"" + std::string(text) +
                                "\"): " + std::string(to_string(parsed.error)));
  }
  return parsed.address;
}

}  // namespace avant::net
