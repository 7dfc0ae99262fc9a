// Lab 01 — SocketAddress. Contract: src/net/include/avant/net/socket_address.hpp.
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>

#include <avant/net/socket_address.hpp>

namespace avant::net {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(01): ") + what);
}
}  // namespace

std::string_view to_string(AddressError error) noexcept {
  static_cast<void>(error);
  todo("to_string(AddressError): one short message per error");
}

// Given: an unspecified address (everything zero, family AF_UNSPEC).
SocketAddress::SocketAddress() noexcept : storage_{} {
  storage_.any.sa_family = AF_UNSPEC;
}

AddressParse SocketAddress::from_ip_port(std::string_view ip, std::uint16_t port) noexcept {
  static_cast<void>(ip);
  static_cast<void>(port);
  todo("SocketAddress::from_ip_port: inet_pton AF_INET, then AF_INET6; else bad_host");
}

AddressParse SocketAddress::parse(std::string_view text) noexcept {
  static_cast<void>(text);
  todo("SocketAddress::parse: '1.2.3.4:80' or '[::1]:80'; every bad form -> its AddressError");
}

SocketAddress SocketAddress::ipv4_any(std::uint16_t port) noexcept {
  static_cast<void>(port);
  todo("SocketAddress::ipv4_any: 0.0.0.0:port");
}

SocketAddress SocketAddress::ipv4_loopback(std::uint16_t port) noexcept {
  static_cast<void>(port);
  todo("SocketAddress::ipv4_loopback: 127.0.0.1:port");
}

SocketAddress SocketAddress::ipv6_any(std::uint16_t port) noexcept {
  static_cast<void>(port);
  todo("SocketAddress::ipv6_any: [::]:port");
}

SocketAddress SocketAddress::ipv6_loopback(std::uint16_t port) noexcept {
  static_cast<void>(port);
  todo("SocketAddress::ipv6_loopback: [::1]:port");
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* addr, socklen_t length) noexcept {
  static_cast<void>(addr);
  static_cast<void>(length);
  todo("SocketAddress::from_sockaddr: copy a sockaddr_in or sockaddr_in6 if length allows");
}

std::uint16_t SocketAddress::port() const noexcept {
  todo("SocketAddress::port: ntohs");
}

bool SocketAddress::is_loopback() const noexcept {
  todo("SocketAddress::is_loopback: 127.0.0.0/8 or ::1");
}

std::string SocketAddress::ip() const {
  todo("SocketAddress::ip: inet_ntop, no brackets");
}

std::string SocketAddress::to_string() const {
  todo("SocketAddress::to_string: '1.2.3.4:80', '[::1]:80', '(unspecified)'");
}

socklen_t SocketAddress::length() const noexcept {
  todo("SocketAddress::length: sizeof the sockaddr_in/sockaddr_in6 in use, 0 if unspecified");
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  static_cast<void>(a);
  static_cast<void>(b);
  todo("operator==(SocketAddress): same family, address and port");
}

}  // namespace avant::net
