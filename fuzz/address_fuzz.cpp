// address_fuzz.cpp — libFuzzer target: net::SocketAddress's text forms (chapter 01).
//
// Properties: an address parsed from text prints as text that parses to the same address and
// prints the same (a round trip through a config file); from_ip_port agrees with parse on the
// bracketed form; an unparsed text says why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <avant/net/socket_address.hpp>

#include "fuzz_check.hpp"

using avant::net::AddressError;
using avant::net::SocketAddress;

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = SocketAddress::parse(text);
  if (!parsed.ok()) return 0;
  const SocketAddress& a = parsed.address;
  FUZZ_CHECK(a.is_ipv4() || a.is_ipv6());
  const std::string printed = a.to_string();
  const auto again = SocketAddress::parse(printed);
  FUZZ_CHECK_MSG(again.ok() && again.address == a, printed);
  FUZZ_CHECK_MSG(again.address.to_string() == printed, printed);
  const auto split = SocketAddress::from_ip_port(a.ip(), a.port());
  FUZZ_CHECK_MSG(split.ok() && split.address == a, a.ip());
  FUZZ_CHECK(split.error == AddressError::none);
  return 0;
}
