// Unit tests of net::SocketAddress: the text forms, both ways, and every kind of bad input.
#include <stdexcept>
#include <string>

#include <arpa/inet.h>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::net {
namespace {

TEST(SocketAddress, ParsesIpv4) {
  const AddressParse r = SocketAddress::parse("127.0.0.1:20023");
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_TRUE(r.address.is_ipv4());
  EXPECT_EQ(r.address.ip(), "127.0.0.1");
  EXPECT_EQ(r.address.port(), 20023);
  EXPECT_EQ(r.address.to_string(), "127.0.0.1:20023");
  EXPECT_EQ(r.address.length(), sizeof(sockaddr_in));
}

TEST(SocketAddress, ParsesIpv6InBrackets) {
  const AddressParse r = SocketAddress::parse("[2001:db8::1]:443");
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_TRUE(r.address.is_ipv6());
  EXPECT_EQ(r.address.ip(), "2001:db8::1");
  EXPECT_EQ(r.address.port(), 443);
  EXPECT_EQ(r.address.to_string(), "[2001:db8::1]:443");
  EXPECT_EQ(r.address.length(), sizeof(sockaddr_in6));
}

TEST(SocketAddress, RoundTripsThroughText) {
  for (const char* text : {"0.0.0.0:0", "255.255.255.255:65535", "10.1.2.3:80", "[::]:0",
                           "[::1]:8080", "[fe80::1:2:3:4]:1"}) {
    const AddressParse r = SocketAddress::parse(text);
    ASSERT_TRUE(r.ok()) << text << ": " << to_string(r.error);
    EXPECT_EQ(r.address.to_string(), text);
    const AddressParse again = SocketAddress::parse(r.address.to_string());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.address, r.address) << text;
  }
}

TEST(SocketAddress, TheShorthandForCodeThrowsNamingTheTextAndTheReason) {
  EXPECT_EQ(address("127.0.0.1:8080"), SocketAddress::ipv4_loopback(8080));
  try {
    static_cast<void>(address("127.0.0.1"));
    ADD_FAILURE() << "net::address() of a text without a port must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(to_string(AddressError::missing_port)), std::string::npos)
        << e.what();
  }
}

TEST(SocketAddress, CanonicalisesIpv6Text) {
  const AddressParse r = SocketAddress::parse("[0:0:0:0:0:0:0:1]:80");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.address.to_string(), "[::1]:80");
  EXPECT_EQ(r.address, SocketAddress::ipv6_loopback(80));
}

struct BadAddress {
  const char* name;  // the test's name: NN.BadInput/SocketAddressRejects.WithTheRightReason/<name>
  const char* text;
  AddressError error;
};

class SocketAddressRejects : public ::testing::TestWithParam<BadAddress> {};

TEST_P(SocketAddressRejects, WithTheRightReason) {
  const BadAddress& bad = GetParam();
  const AddressParse r = SocketAddress::parse(bad.text);
  EXPECT_FALSE(r.ok()) << "'" << bad.text << "' must not parse";
  EXPECT_EQ(r.error, bad.error) << "'" << bad.text << "': got '" << to_string(r.error)
                                << "', expected '" << to_string(bad.error) << "'";
  EXPECT_EQ(r.address.family(), AF_UNSPEC) << "a failed parse leaves no half-filled address";
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, SocketAddressRejects,
    ::testing::Values(BadAddress{"Empty", "", AddressError::empty},
                      BadAddress{"NoPort", "127.0.0.1", AddressError::missing_port},
                      BadAddress{"EmptyPort", "127.0.0.1:", AddressError::missing_port},
                      BadAddress{"PortTooLarge", "127.0.0.1:65536", AddressError::bad_port},
                      BadAddress{"PortTooLong", "127.0.0.1:99999999", AddressError::bad_port},
                      BadAddress{"NegativePort", "127.0.0.1:-1", AddressError::bad_port},
                      BadAddress{"SignedPort", "127.0.0.1:+80", AddressError::bad_port},
                      BadAddress{"LetterInPort", "127.0.0.1:8o", AddressError::bad_port},
                      BadAddress{"SpaceInPort", "127.0.0.1: 80", AddressError::bad_port},
                      BadAddress{"HexPort", "127.0.0.1:0x50", AddressError::bad_port},
                      BadAddress{"OctetTooLarge", "256.0.0.1:80", AddressError::bad_host},
                      BadAddress{"ThreeOctets", "1.2.3:80", AddressError::bad_host},
                      BadAddress{"HostName", "localhost:80", AddressError::bad_host},
                      BadAddress{"LeadingSpace", " 127.0.0.1:80", AddressError::bad_host},
                      BadAddress{"NoHost", ":80", AddressError::bad_host},
                      BadAddress{"EmptyBrackets", "[]:80", AddressError::bad_brackets},
                      BadAddress{"Ipv6WithoutBrackets", "::1:80", AddressError::bad_brackets},
                      BadAddress{"UnclosedBracket", "[::1:80", AddressError::bad_brackets},
                      BadAddress{"Ipv4InBrackets", "[1.2.3.4]:80", AddressError::bad_brackets},
                      BadAddress{"NoColonAfterBracket", "[::1]80", AddressError::missing_port},
                      BadAddress{"EmptyPortAfterBracket", "[::1]:", AddressError::missing_port},
                      BadAddress{"BracketsWithoutPort", "[::1]", AddressError::missing_port},
                      BadAddress{"BadIpv6Digit", "[::g]:80", AddressError::bad_host}),
    [](const ::testing::TestParamInfo<BadAddress>& p) { return std::string(p.param.name); });

TEST(SocketAddress, FromIpAndPortAsConfigFilesGiveThem) {
  const AddressParse v4 = SocketAddress::from_ip_port("0.0.0.0", 20023);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4.address, SocketAddress::ipv4_any(20023));
  const AddressParse v6 = SocketAddress::from_ip_port("::1", 7);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6.address, SocketAddress::ipv6_loopback(7));
  EXPECT_EQ(SocketAddress::from_ip_port("", 1).error, AddressError::empty);
  EXPECT_EQ(SocketAddress::from_ip_port("example.org", 1).error, AddressError::bad_host);
  EXPECT_EQ(SocketAddress::from_ip_port(std::string(100, '1'), 1).error, AddressError::bad_host);
}

TEST(SocketAddress, KnowsLoopback) {
  EXPECT_TRUE(SocketAddress::ipv4_loopback(1).is_loopback());
  EXPECT_TRUE(SocketAddress::parse("127.9.8.7:1").address.is_loopback()) << "all of 127.0.0.0/8";
  EXPECT_TRUE(SocketAddress::ipv6_loopback(1).is_loopback());
  EXPECT_FALSE(SocketAddress::parse("10.0.0.1:1").address.is_loopback());
  EXPECT_FALSE(SocketAddress::ipv4_any(1).is_loopback());
  EXPECT_FALSE(SocketAddress{}.is_loopback());
}

TEST(SocketAddress, EqualityComparesFamilyIpAndPort) {
  EXPECT_EQ(SocketAddress::ipv4_loopback(80), SocketAddress::parse("127.0.0.1:80").address);
  EXPECT_NE(SocketAddress::ipv4_loopback(80), SocketAddress::ipv4_loopback(81));
  EXPECT_NE(SocketAddress::ipv4_loopback(80), SocketAddress::ipv6_loopback(80));
  EXPECT_EQ(SocketAddress{}, SocketAddress{});
}

TEST(SocketAddress, FromSockaddrChecksTheLength) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(99);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto* raw = reinterpret_cast<const sockaddr*>(&in);
  EXPECT_EQ(SocketAddress::from_sockaddr(raw, sizeof in), SocketAddress::ipv4_loopback(99));
  EXPECT_EQ(SocketAddress::from_sockaddr(raw, sizeof in - 1).family(), AF_UNSPEC)
      << "a short length must not be read past";
  EXPECT_EQ(SocketAddress::from_sockaddr(nullptr, 0).family(), AF_UNSPEC);
}

TEST(SocketAddress, UnspecifiedHasAPrintableForm) {
  const SocketAddress none;
  EXPECT_EQ(none.family(), AF_UNSPEC);
  EXPECT_EQ(none.to_string(), "(unspecified)");
  EXPECT_EQ(none.ip(), "");
  EXPECT_EQ(none.port(), 0);
  EXPECT_EQ(none.length(), 0U);
}

TEST(SocketAddress, EveryErrorHasAMessage) {
  for (const AddressError e :
       {AddressError::none, AddressError::empty, AddressError::missing_port, AddressError::bad_port,
        AddressError::bad_host, AddressError::bad_brackets}) {
    EXPECT_FALSE(to_string(e).empty());
  }
}

}  // namespace
}  // namespace avant::net
