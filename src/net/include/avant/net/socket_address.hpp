// socket_address.hpp — an IPv4 or IPv6 socket address, by value.
//
// Text forms (parse and to_string agree, so an address survives a round trip through a config file
// or a log line):
//
//   IPv4   1.2.3.4:80            dotted quad, colon, port
//   IPv6   [::1]:80              brackets around the address, colon, port
//
// Only numeric addresses are parsed: resolving a host name blocks on DNS, which has no place in a
// parser or on an event loop. Ports are decimal 0..65535 (0 asks the kernel for an ephemeral port
// when binding). Bad text is an error value (AddressError), never an exception.
// Threads: a plain value type; copies are independent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

namespace avant::net {

enum class AddressError : std::uint8_t {
  none,          // parsed
  empty,         // no text at all
  missing_port,  // no ":port" (or nothing after the colon)
  bad_port,      // port is not a decimal number in 0..65535
  bad_host,      // host part is not a numeric IPv4 or IPv6 address
  bad_brackets,  // IPv6 without brackets, unbalanced, or around a non-IPv6 host
};

[[nodiscard]] std::string_view to_string(AddressError error) noexcept;

class SocketAddress;

// The result of SocketAddress::parse: `address` is meaningful only when ok().
struct AddressParse;

class SocketAddress {
 public:
  // An unspecified address (family() == AF_UNSPEC); binding or connecting to it fails.
  SocketAddress() noexcept;

  // Parses "1.2.3.4:80" or "[::1]:80" (see the header comment).
  static AddressParse parse(std::string_view text) noexcept;
  // Parses a numeric IP ("1.2.3.4", "::1", no brackets) with a separate port, as config files
  // give them (the original's `ip = ...` and `port = ...` keys).
  static AddressParse from_ip_port(std::string_view ip, std::uint16_t port) noexcept;

  static SocketAddress ipv4_any(std::uint16_t port) noexcept;       // 0.0.0.0:port
  static SocketAddress ipv4_loopback(std::uint16_t port) noexcept;  // 127.0.0.1:port
  static SocketAddress ipv6_any(std::uint16_t port) noexcept;       // [::]:port
  static SocketAddress ipv6_loopback(std::uint16_t port) noexcept;  // [::1]:port

  // Copies what the kernel filled in (accept, getsockname, recvfrom). A length shorter than the
  // family's sockaddr, or a family other than IPv4/IPv6, gives an unspecified address.
  static SocketAddress from_sockaddr(const sockaddr* addr, socklen_t length) noexcept;

  [[nodiscard]] sa_family_t family() const noexcept { return storage_.any.sa_family; }
  [[nodiscard]] bool is_ipv4() const noexcept { return family() == AF_INET; }
  [[nodiscard]] bool is_ipv6() const noexcept { return family() == AF_INET6; }
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] bool is_loopback() const noexcept;

  // "1.2.3.4" or "::1" (no brackets, no port); "" when unspecified.
  [[nodiscard]] std::string ip() const;
  // "1.2.3.4:80" or "[::1]:80"; "(unspecified)" when unspecified.
  [[nodiscard]] std::string to_string() const;

  // For the sockets API: the address and its length for bind, connect and sendto.
  [[nodiscard]] const sockaddr* data() const noexcept { return &storage_.any; }
  [[nodiscard]] socklen_t length() const noexcept;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  union Storage {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  };
  Storage storage_;
};

struct [[nodiscard]] AddressParse {
  SocketAddress address;
  AddressError error = AddressError::none;

  [[nodiscard]] bool ok() const noexcept { return error == AddressError::none; }
};

// The short way to say "listen on" or "connect to" in code, where a typo is a bug rather than
// input: `options.listen = net::address("0.0.0.0:8080")`. Throws std::invalid_argument naming the
// text and the reason. Input from users goes through SocketAddress::parse instead.
[[nodiscard]] SocketAddress address(std::string_view text);

}  // namespace avant::net
