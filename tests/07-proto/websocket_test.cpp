// Chapter 07 — ProtoPackages over WebSocket, with real sockets: the original's echo example as one
// binary message each way, byte for byte; a binary message that is not a package closed with
// 1007 while another session is served; a malformed inner message (1007); unknown commands
// ignored and counted, or closed with 1008; text echoed, or refused with 1003; a package sent to
// a session by its id through the directory.
#include <memory>
#include <string>

#include <avant/proto/dispatcher.hpp>
#include <avant/proto/websocket.hpp>

#include <gtest/gtest.h>

#include "relay.hpp"
#include "site.hpp"
#include "wire.hpp"
#include "ws_client.hpp"

namespace avant::proto {
namespace {

using testing::bytes;
using testing::echo_answer_package;
using testing::echo_request_package;

using websocket::Opcode;
using websocket::testing::client_frame;
using websocket::testing::Site;
using websocket::testing::WsClient;
namespace close_code = websocket::close_code;

struct EchoSite {
  explicit EchoSite(WebSocketOptions options = {})
      : counters(std::make_shared<WebSocketCounters>()),
        site(websocket::testing::ws_options(),
             websocket_handlers(dispatcher(), options, counters)) {}
  static std::shared_ptr<const Dispatcher> dispatcher() {
    auto d = std::make_shared<Dispatcher>();
    add_echo_example(*d);
    return d;
  }
  std::shared_ptr<WebSocketCounters> counters;
  Site site;
};

TEST(ProtoWebSocket, TheEchoExampleIsOneBinaryMessageEachWay) {
  EchoSite s;
  WsClient c(s.site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(c.send(client_frame(Opcode::binary, echo_request_package)));
  const auto got = c.next();
  ASSERT_TRUE(got) << c.error();
  EXPECT_EQ(got->opcode, Opcode::binary);
  EXPECT_EQ(got->payload, echo_answer_package);
  EXPECT_EQ(s.counters->packages.load(), 1u);
}

TEST(ProtoWebSocket, WhatIsNotAPackageClosesWith1007WhileOthersAreServed) {
  EchoSite s;
  ProtoPackage malformed;  // command 0 whose inner bytes promise 127 bytes and give none
  malformed.set_protocol(bytes({0x0a, 0x7f}));
  for (const std::string& bad : {bytes({0xff, 0xff, 0xff, 0xff}), malformed.SerializeAsString()}) {
    WsClient other(s.site.address());
    ASSERT_EQ(other.handshake("/ws"), 101);
    WsClient c(s.site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(c.send(client_frame(Opcode::binary, bad)));
    EXPECT_EQ(c.close_code(), close_code::kInvalidPayload) << c.error();
    ASSERT_TRUE(other.send(client_frame(Opcode::binary, echo_request_package)));
    EXPECT_EQ(other.message().value_or(other.error()), echo_answer_package);
  }
  EXPECT_EQ(s.counters->refused.load(), 2u);
}

TEST(ProtoWebSocket, UnknownCommandsAreCountedOrCloseWith1008) {
  ProtoPackage unknown;
  unknown.set_cmd(PROTO_CMD_LUA_TEST);  // no handler in the echo example
  {
    EchoSite s;
    WsClient c(s.site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(c.send(client_frame(Opcode::binary, unknown.SerializeAsString())));
    ASSERT_TRUE(c.send(client_frame(Opcode::binary, echo_request_package)));
    EXPECT_EQ(c.message().value_or(c.error()), echo_answer_package) << "the session goes on";
    EXPECT_EQ(s.counters->unknown.load(), 1u);
  }
  {
    WebSocketOptions o;
    o.unknown = UnknownCommands::close;
    EchoSite s(o);
    WsClient c(s.site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(c.send(client_frame(Opcode::binary, unknown.SerializeAsString())));
    EXPECT_EQ(c.close_code(), close_code::kPolicyViolation) << c.error();
  }
}

TEST(ProtoWebSocket, TextIsEchoedOrRefusedWith1003) {
  {
    EchoSite s;
    WsClient c(s.site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(c.send_text("are you there?"));
    EXPECT_EQ(c.message().value_or(c.error()), "are you there?");
  }
  {
    WebSocketOptions o;
    o.echo_text = false;
    EchoSite s(o);
    WsClient c(s.site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(c.send_text("are you there?"));
    EXPECT_EQ(c.close_code(), close_code::kUnsupportedData) << c.error();
  }
}

TEST(ProtoWebSocket, ASendToASessionsIdIsOneBinaryMessage) {
  auto dispatcher = std::make_shared<Dispatcher>();
  testing::add_relay(*dispatcher);
  Site site(websocket::testing::ws_options(), websocket_handlers(dispatcher, {}));
  const Directory::RouteId route = dispatcher->directory().add(
      websocket_route(site.ws(), [&site](std::uint64_t id) { return site.http().find(id); }));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ProtoCSReqExample whoami;
  whoami.set_testcontext("whoami");
  ProtoPackage request;
  request.set_cmd(PROTO_CMD_CS_REQ_EXAMPLE);
  request.set_protocol(whoami.SerializeAsString());
  ASSERT_TRUE(c.send(client_frame(Opcode::binary, request.SerializeAsString())));
  const auto answer = c.next();
  ASSERT_TRUE(answer) << c.error();
  ProtoPackage package;
  ProtoCSResExample id;
  ASSERT_TRUE(package.ParseFromString(answer->payload));
  ASSERT_TRUE(id.ParseFromString(package.protocol()));
  const std::uint64_t session = std::stoull(id.testcontext());

  // From the test's thread: queued to the session's loop, one binary message.
  const ProtoPackage pushed = testing::answer_package("pushed");
  EXPECT_EQ(dispatcher->directory().send(session, pushed), tcp::SendStatus::ok);
  const auto got = c.next();
  ASSERT_TRUE(got) << c.error();
  EXPECT_EQ(got->opcode, Opcode::binary);
  EXPECT_EQ(got->payload, pushed.SerializeAsString());
  // An id the HTTP server never had is no route's.
  EXPECT_EQ(dispatcher->directory().send(session + 1, pushed), tcp::SendStatus::dropped);
  dispatcher->directory().remove(route);
  EXPECT_EQ(dispatcher->directory().send(session, pushed), tcp::SendStatus::dropped);
}

}  // namespace
}  // namespace avant::proto
