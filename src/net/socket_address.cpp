#include <charconv>
#include <cstring>

#include <arpa/inet.h>

#include <avant/net/socket_address.hpp>

namespace avant::net {

std::string_view to_string(AddressError error) noexcept {
  switch (error) {
    case AddressError::none:
      return "ok";
    case AddressError::empty:
      return "empty address";
    case AddressError::missing_port:
      return "missing ':port'";
    case AddressError::bad_port:
      return "port is not a number in 0..65535";
    case AddressError::bad_host:
      return "host is not a numeric IPv4 or IPv6 address";
    case AddressError::bad_brackets:
      return "IPv6 address needs brackets: [::1]:80";
  }
  return "unknown address error";
}

namespace {

// "0".."65535", digits only (no sign, no spaces, no hex).
bool parse_port(std::string_view text, std::uint16_t& port) noexcept {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

SocketAddress::SocketAddress() noexcept : storage_{} {
  storage_.any.sa_family = AF_UNSPEC;
}

AddressParse SocketAddress::from_ip_port(std::string_view ip, std::uint16_t port) noexcept {
  AddressParse result;
  if (ip.empty()) {
    result.error = AddressError::empty;
    return result;
  }
  // inet_pton wants a NUL-terminated string; the longest numeric form is INET6_ADDRSTRLEN - 1.
  char text[INET6_ADDRSTRLEN] = {};
  if (ip.size() >= sizeof text) {
    result.error = AddressError::bad_host;
    return result;
  }
  std::memcpy(text, ip.data(), ip.size());

  Storage& s = result.address.storage_;
  if (::inet_pton(AF_INET, text, &s.v4.sin_addr) == 1) {
    s.v4.sin_family = AF_INET;
    s.v4.sin_port = htons(port);
  } else if (::inet_pton(AF_INET6, text, &s.v6.sin6_addr) == 1) {
    s.v6.sin6_family = AF_INET6;
    s.v6.sin6_port = htons(port);
  } else {
    result.address = SocketAddress{};
    result.error = AddressError::bad_host;
  }
  return result;
}

AddressParse SocketAddress::parse(std::string_view text) noexcept {
  AddressParse failed;
  if (text.empty()) {
    failed.error = AddressError::empty;
    return failed;
  }
  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      failed.error = AddressError::bad_brackets;
      return failed;
    }
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':' || rest.size() == 1) {
      failed.error = AddressError::missing_port;
      return failed;
    }
    port_text = rest.substr(1);
    if (host.find(':') == std::string_view::npos) {  // [1.2.3.4]:80 is not a form we accept
      failed.error = AddressError::bad_brackets;
      return failed;
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == text.size()) {
      failed.error = AddressError::missing_port;
      return failed;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos || host.find(']') != std::string_view::npos) {
      failed.error = AddressError::bad_brackets;  // ::1:80 is ambiguous; write [::1]:80
      return failed;
    }
  }
  if (host.empty()) {
    failed.error = AddressError::bad_host;
    return failed;
  }
  std::uint16_t port = 0;
  if (!parse_port(port_text, port)) {
    failed.error = AddressError::bad_port;
    return failed;
  }
  return from_ip_port(host, port);
}

SocketAddress SocketAddress::ipv4_any(std::uint16_t port) noexcept {
  SocketAddress a;
  a.storage_.v4.sin_family = AF_INET;
  a.storage_.v4.sin_addr.s_addr = htonl(INADDR_ANY);
  a.storage_.v4.sin_port = htons(port);
  return a;
}

SocketAddress SocketAddress::ipv4_loopback(std::uint16_t port) noexcept {
  SocketAddress a = ipv4_any(port);
  a.storage_.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

SocketAddress SocketAddress::ipv6_any(std::uint16_t port) noexcept {
  SocketAddress a;
  a.storage_.v6.sin6_family = AF_INET6;
  a.storage_.v6.sin6_addr = in6addr_any;
  a.storage_.v6.sin6_port = htons(port);
  return a;
}

SocketAddress SocketAddress::ipv6_loopback(std::uint16_t port) noexcept {
  SocketAddress a = ipv6_any(port);
  a.storage_.v6.sin6_addr = in6addr_loopback;
  return a;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* addr, socklen_t length) noexcept {
  SocketAddress a;
  if (addr == nullptr) return a;
  if (addr->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    std::memcpy(&a.storage_.v4, addr, sizeof(sockaddr_in));
  } else if (addr->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    std::memcpy(&a.storage_.v6, addr, sizeof(sockaddr_in6));
  }
  return a;
}

std::uint16_t SocketAddress::port() const noexcept {
  if (is_ipv4()) return ntohs(storage_.v4.sin_port);
  if (is_ipv6()) return ntohs(storage_.v6.sin6_port);
  return 0;
}

bool SocketAddress::is_loopback() const noexcept {
  if (is_ipv4()) return (ntohl(storage_.v4.sin_addr.s_addr) >> 24) == 127;  // 127.0.0.0/8
  if (is_ipv6()) return IN6_IS_ADDR_LOOPBACK(&storage_.v6.sin6_addr);
  return false;
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_ipv4()) {
    ::inet_ntop(AF_INET, &storage_.v4.sin_addr, text, sizeof text);
  } else if (is_ipv6()) {
    ::inet_ntop(AF_INET6, &storage_.v6.sin6_addr, text, sizeof text);
  }
  return text;
}

std::string SocketAddress::to_string() const {
  if (is_ipv4()) return ip() + ':' + std::to_string(port());
  if (is_ipv6()) return '[' + ip() + "]:" + std::to_string(port());
  return "(unspecified)";
}

socklen_t SocketAddress::length() const noexcept {
  if (is_ipv4()) return sizeof(sockaddr_in);
  if (is_ipv6()) return sizeof(sockaddr_in6);
  return 0;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  if (a.family() != b.family()) return false;
  if (a.is_ipv4()) {
    return a.storage_.v4.sin_port == b.storage_.v4.sin_port &&
           a.storage_.v4.sin_addr.s_addr == b.storage_.v4.sin_addr.s_addr;
  }
  if (a.is_ipv6()) {
    return a.storage_.v6.sin6_port == b.storage_.v6.sin6_port &&
           std::memcmp(&a.storage_.v6.sin6_addr, &b.storage_.v6.sin6_addr, sizeof(in6_addr)) == 0 &&
           a.storage_.v6.sin6_scope_id == b.storage_.v6.sin6_scope_id;
  }
  return true;  // two unspecified addresses
}

}  // namespace avant::net
