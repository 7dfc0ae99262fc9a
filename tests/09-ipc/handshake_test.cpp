// Chapter 09 — the IPC handshake as a state machine, sans-IO: the original's bytes (the accepting
// side first, the connecting side answers), the claimed app_id checked against ipc.json (the
// original took any), packages before it dropped and counted; and who dials whom, and which of
// two connections a pair keeps.
#include <string>

// Before Avant's headers, which only declare protobuf's MessageLite (clang-tidy's
// bugprone-forward-declaration-namespace otherwise takes GoogleTest's proto2::MessageLite for a
// misplaced declaration of it).
#include <google/protobuf/message_lite.h>

#include <avant/ipc/handshake.hpp>
#include <avant/ipc/link_rules.hpp>
#include <avant/ipc/mesh_config.hpp>
#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

#include <gtest/gtest.h>

namespace avant::ipc {
namespace {

// Made on first use, not before main(): a lab build's starter of chapter 01 throws from
// SocketAddress, and a throw in a static initializer would stop the test list being read.
const MeshConfig& known() {
  static const MeshConfig mesh = parse_mesh(R"([
    { "app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 20024 },
    { "app_id": "0.0.0.2", "ip": "127.0.0.1", "port": 20034 },
    { "app_id": "0.0.0.10", "ip": "127.0.0.1", "port": 20044 }
  ])",
                                            "ipc.json");
  return mesh;
}

std::string hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (!out.empty()) out += ' ';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// The package a handshake frame holds, as the link reads it.
proto::PackageView package_of(const std::string& frame, std::string& storage) {
  storage = frame.substr(proto::kHeaderSize);
  auto view = proto::view_package(storage);
  EXPECT_TRUE(view.has_value());
  return view.value_or(proto::PackageView{});
}

proto::PackageView hello_from(const std::string& id, std::string& storage) {
  return package_of(Handshake::frame(id), storage);
}

TEST(Handshake, TheFrameIsTheOriginals21Bytes) {
  EXPECT_EQ(hex(Handshake::frame("0.0.0.1")),
            "00 00 00 00 00 00 00 0d 08 09 12 09 0a 07 30 2e 30 2e 30 2e 31");
  std::string id;
  std::string storage;
  ASSERT_TRUE(Handshake::read_app_id(hello_from("0.0.0.2", storage).protocol, id));
  EXPECT_EQ(id, "0.0.0.2");
}

TEST(Handshake, TheAcceptingSideSpeaksFirstAndTakesAKnownId) {
  Handshake h(Role::accepting, "0.0.0.1", known());
  EXPECT_EQ(h.start(), Handshake::frame("0.0.0.1"));
  std::string storage;
  const Handshake::Step step = h.on_package(hello_from("0.0.0.2", storage));
  EXPECT_EQ(step.kind, Handshake::Step::Kind::done);
  EXPECT_TRUE(step.reply.empty());
  EXPECT_EQ(h.state(), Handshake::State::done);
  EXPECT_EQ(h.peer_id(), "0.0.0.2");
}

TEST(Handshake, TheConnectingSideWaitsThenAnswersWithItsOwnId) {
  Handshake h(Role::connecting, "0.0.0.2", known(), "0.0.0.10");
  EXPECT_TRUE(h.start().empty());
  std::string storage;
  const Handshake::Step step = h.on_package(hello_from("0.0.0.10", storage));
  EXPECT_EQ(step.kind, Handshake::Step::Kind::done);
  EXPECT_EQ(step.reply, Handshake::frame("0.0.0.2"));
  EXPECT_EQ(h.peer_id(), "0.0.0.10");
}

TEST(Handshake, AnIdNotInIpcJsonOrOurOwnIsRefused) {
  std::string storage;
  Handshake unknown(Role::accepting, "0.0.0.1", known());
  Handshake::Step step = unknown.on_package(hello_from("9.9.9.9", storage));
  EXPECT_EQ(step.kind, Handshake::Step::Kind::refused);
  EXPECT_EQ(step.reason, R"(app_id "9.9.9.9" is not in ipc.json)");
  EXPECT_EQ(unknown.state(), Handshake::State::refused);
  EXPECT_TRUE(unknown.peer_id().empty());

  Handshake own(Role::accepting, "0.0.0.1", known());
  step = own.on_package(hello_from("0.0.0.1", storage));
  EXPECT_EQ(step.kind, Handshake::Step::Kind::refused);
  EXPECT_EQ(step.reason, R"(the peer claims our own app_id "0.0.0.1")");

  Handshake control(Role::accepting, "0.0.0.1", known());
  step = control.on_package(hello_from(std::string("0.0\n0\"1", 7), storage));
  EXPECT_EQ(step.reason, R"(app_id "0.0\x0a0\x221" is not in ipc.json)");
}

TEST(Handshake, TheConnectingSideRefusesAnyIdButTheOneItDialed) {
  Handshake h(Role::connecting, "0.0.0.1", known(), "0.0.0.2");
  std::string storage;
  const Handshake::Step step = h.on_package(hello_from("0.0.0.10", storage));
  EXPECT_EQ(step.kind, Handshake::Step::Kind::refused);
  EXPECT_TRUE(step.reply.empty());
  EXPECT_EQ(step.reason, R"(dialed app_id "0.0.0.2", but the peer says it is "0.0.0.10")");
}

TEST(Handshake, PackagesBeforeItAreDroppedAndCounted) {
  Handshake h(Role::accepting, "0.0.0.1", known());
  ProtoPackage echo;
  echo.set_cmd(PROTO_CMD_CS_REQ_EXAMPLE);
  echo.set_protocol("\x0a\x02hi");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.on_package({echo.cmd(), echo.protocol()}).kind, Handshake::Step::Kind::dropped);
  }
  EXPECT_EQ(h.dropped(), 3u);
  EXPECT_EQ(h.state(), Handshake::State::waiting);
  std::string storage;
  EXPECT_EQ(h.on_package(hello_from("0.0.0.10", storage)).kind, Handshake::Step::Kind::done);
}

TEST(Handshake, ACommandNineThatIsNotAHandshakeMessageIsRefused) {
  Handshake h(Role::accepting, "0.0.0.1", known());
  const std::string garbage("\x0a\xff", 2);  // field 1, a length running past the end
  const Handshake::Step step = h.on_package({PROTO_CMD_IPC_STREAM_AUTH_HANDSHAKE, garbage});
  EXPECT_EQ(step.kind, Handshake::Step::Kind::refused);
  EXPECT_NE(step.reason.find("not a ProtoIPCStreamAuthHandshake"), std::string::npos);
}

TEST(LinkRules, TheLowerAppIdOfAPairDials) {
  EXPECT_TRUE(dials("0.0.0.1", "0.0.0.2"));
  EXPECT_FALSE(dials("0.0.0.2", "0.0.0.1"));
  EXPECT_TRUE(dials("0.0.0.2", "0.0.0.10"));  // by value
  EXPECT_FALSE(dials("0.0.0.1", "0.0.0.1"));
  EXPECT_EQ(lower_of("0.0.0.10", "0.0.0.2"), "0.0.0.2");
}

TEST(LinkRules, BothSidesKeepTheLinkTheLowerDialed) {
  // The pair (0.0.0.1, 0.0.0.2): the link 0.0.0.1 dialed wins, seen from either side and in
  // either order of arrival.
  EXPECT_TRUE(keeps_new_link("0.0.0.1", "0.0.0.2", /*new by us*/ true, /*old by us*/ false));
  EXPECT_FALSE(keeps_new_link("0.0.0.1", "0.0.0.2", false, true));
  EXPECT_TRUE(keeps_new_link("0.0.0.2", "0.0.0.1", false, true));
  EXPECT_FALSE(keeps_new_link("0.0.0.2", "0.0.0.1", true, false));
  // The same dialer twice: it gave up on the old one.
  EXPECT_TRUE(keeps_new_link("0.0.0.1", "0.0.0.2", true, true));
  EXPECT_TRUE(keeps_new_link("0.0.0.2", "0.0.0.1", false, false));
}

}  // namespace
}  // namespace avant::ipc
