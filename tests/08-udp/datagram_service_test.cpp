// Chapter 08 — ProtoPackages in UDP datagrams, on chapter 07's dispatcher: the original's echo
// example byte for byte (the reply datagram docs/original-avant.md gives), every byte value in a
// bytes field, the safe stop answered with the app id and stopping only for its own, and what is
// not a package (garbage, an unknown command, a malformed inner message) counted while the
// sender after it is served.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/proto/dispatcher.hpp>
#include <avant/testing/harness.hpp>
#include <avant/udp/datagram_service.hpp>
#include <avant/udp/udp_endpoint.hpp>

#include <gtest/gtest.h>

#include "peer.hpp"

namespace avant::udp {
namespace {

using namespace std::chrono_literals;
using net::SocketAddress;
using testing::Peer;

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values)
    s += static_cast<char>(v);
  return s;
}

// The echo example's request and answer datagrams (docs/original-avant.md): no length in front.
const std::string echo_request = bytes({0x12, 0x0a, 0x0a, 0x08}) + std::string(8, 'a');
const std::string echo_answer = bytes({0x08, 0x01, 0x12, 0x0a, 0x0a, 0x08}) + std::string(8, 'a');

// A DatagramService on an endpoint of its own loop, with the echo example and the safe stop of
// app "0.0.0.1" (which counts its stops).
class ProtoUdpServer {
 public:
  ProtoUdpServer() {
    auto dispatcher = std::make_shared<proto::Dispatcher>();
    proto::add_echo_example(*dispatcher);
    add_safe_stop(*dispatcher, "0.0.0.1", [this] { stops_.fetch_add(1); });
    service_ = std::make_unique<DatagramService>(dispatcher);
    endpoint_ = loop_.call([this] {
      auto e = std::make_unique<UdpEndpoint>(loop_.loop(), SocketAddress::ipv4_loopback(0));
      service_->serve(*e);
      e->start();
      return e;
    });
    address_ = loop_.call([this] { return endpoint_->local_address(); });
  }
  ~ProtoUdpServer() {
    try {
      loop_.call([this] { endpoint_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the endpoint: " << e.what();
    }
  }
  ProtoUdpServer(const ProtoUdpServer&) = delete;
  ProtoUdpServer& operator=(const ProtoUdpServer&) = delete;
  ProtoUdpServer(ProtoUdpServer&&) = delete;
  ProtoUdpServer& operator=(ProtoUdpServer&&) = delete;

  [[nodiscard]] const SocketAddress& address() const { return address_; }
  [[nodiscard]] DatagramService::Stats stats() const { return service_->stats(); }
  [[nodiscard]] int stops() const { return stops_.load(); }

 private:
  std::atomic<int> stops_{0};
  harness::LoopThread loop_;
  std::unique_ptr<DatagramService> service_;  // outlives the endpoint
  std::unique_ptr<UdpEndpoint> endpoint_;
  SocketAddress address_;
};

std::string package(ProtoCmd cmd, const google::protobuf::MessageLite& message) {
  ProtoPackage p;
  p.set_cmd(cmd);
  p.set_protocol(message.SerializeAsString());
  return p.SerializeAsString();
}

TEST(ProtoUdp, TheEchoExampleIsAnsweredByteForByte) {
  ProtoUdpServer server;
  Peer p;
  ASSERT_TRUE(p.send_to(echo_request, server.address()));
  EXPECT_EQ(p.receive(), echo_answer);
  EXPECT_EQ(server.stats().packages, 1u);
}

TEST(ProtoUdp, BytesFieldsCarryEveryByteValue) {
  ProtoUdpServer server;
  std::string all;
  for (int b = 0; b < 256; ++b)
    all += static_cast<char>(b);
  ProtoCSReqExample request;
  request.set_testcontext(all);
  Peer p;
  ASSERT_TRUE(p.send_to(package(PROTO_CMD_CS_REQ_EXAMPLE, request), server.address()));
  const std::optional<std::string> got = p.receive();
  ASSERT_TRUE(got.has_value());
  ProtoPackage answer;
  ASSERT_TRUE(answer.ParseFromString(*got));
  EXPECT_EQ(answer.cmd(), PROTO_CMD_CS_RES_EXAMPLE);
  ProtoCSResExample res;
  ASSERT_TRUE(res.ParseFromString(answer.protocol()));
  EXPECT_EQ(res.testcontext(), all) << "the original cut bytes fields at the first NUL";
}

TEST(ProtoUdp, TheSafeStopAnswersWithTheAppIdAndStopsOnlyForItsOwn) {
  ProtoUdpServer server;
  Peer p;
  ProtoUDPSafeStopRes expected;
  expected.set_appid("0.0.0.1");
  const std::string answer = package(PROTO_CMD_UDP_SAFESTOP_RES, expected);
  // 08 0f 12 09 0a 07 "0.0.0.1": command 15, the app id of the process that answers.
  EXPECT_EQ(answer, bytes({0x08, 0x0f, 0x12, 0x09, 0x0a, 0x07}) + "0.0.0.1");

  ProtoUDPSafeStopReq other;
  other.set_appid("0.0.0.9");
  ASSERT_TRUE(p.send_to(package(PROTO_CMD_UDP_SAFESTOP_REQ, other), server.address()));
  EXPECT_EQ(p.receive(), answer) << "answered whatever app it names, as the original";
  EXPECT_EQ(server.stops(), 0) << "a request for another app stops nothing";

  ProtoUDPSafeStopReq own;
  own.set_appid("0.0.0.1");
  ASSERT_TRUE(p.send_to(package(PROTO_CMD_UDP_SAFESTOP_REQ, own), server.address()));
  EXPECT_EQ(p.receive(), answer);
  EXPECT_TRUE(harness::eventually([&] { return server.stops() == 1; }))
      << "the original answered and stopped nothing";
}

TEST(ProtoUdp, WhatIsNotAPackageIsCountedAndTheNextSenderIsServed) {
  ProtoUdpServer server;
  Peer bad;
  ASSERT_TRUE(bad.send_to(bytes({0xff, 0xff, 0xff}), server.address()));  // not a package
  ProtoPackage unknown;
  unknown.set_cmd(PROTO_CMD_LUA_TEST);  // no handler
  ASSERT_TRUE(bad.send_to(unknown.SerializeAsString(), server.address()));
  ProtoPackage malformed;
  malformed.set_protocol(bytes({0x0a, 0x7f}));  // 127 bytes promised, none given
  ASSERT_TRUE(bad.send_to(malformed.SerializeAsString(), server.address()));

  Peer good;
  ASSERT_TRUE(good.send_to(echo_request, server.address()));
  EXPECT_EQ(good.receive(), echo_answer);
  EXPECT_TRUE(harness::eventually([&] {
    const DatagramService::Stats s = server.stats();
    return s.garbage == 1 && s.unknown == 1 && s.malformed == 1;
  }));
  EXPECT_EQ(bad.receive(200ms), std::nullopt) << "none of them is answered";
}

}  // namespace
}  // namespace avant::udp
