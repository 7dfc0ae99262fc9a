// Chapter 07 — the Dispatcher on packages in memory, with no socket and no transport: the three
// outcomes of dispatch(), a package handler given the package exactly as it came, a later
// handler replacing an earlier one for the same command, commands inside and outside the indexed
// range, a handler that takes from its message, a package dispatched as a view of its bytes, and
// the original's echo example answered through a Context that keeps what it is sent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <avant/proto/avant.pb.h>
#include <avant/proto/dispatcher.hpp>

#include <gtest/gtest.h>

#include "wire.hpp"

namespace avant::proto {
namespace {

using Outcome = Dispatcher::Outcome;

// The Context a transport would give: here the replies are kept for the test to read.
class RecordingContext final : public Context {
 public:
  RecordingContext() : Context(nullptr) {}
  virtual ~RecordingContext() = default;  // public and virtual, as a class with virtual members
  RecordingContext(const RecordingContext&) = delete;
  RecordingContext& operator=(const RecordingContext&) = delete;
  RecordingContext(RecordingContext&&) = delete;
  RecordingContext& operator=(RecordingContext&&) = delete;

  [[nodiscard]] std::uint64_t connection_id() const noexcept override { return 7; }
  using Context::reply;  // the typed answer: made into a package, then the one below
  void reply(const ProtoPackage& package) override { replies.push_back(package); }
  void close() override { closed = true; }

  std::vector<ProtoPackage> replies;
  bool closed = false;
};

using testing::request_package;

TEST(Dispatcher, EachOutcomeOfDispatch) {
  Dispatcher d;
  std::vector<std::string> seen;
  d.on<ProtoCSReqExample>(PROTO_CMD_CS_REQ_EXAMPLE,
                          [&](Context& /*context*/, const ProtoCSReqExample& req) {
                            seen.push_back(req.testcontext());
                          });
  RecordingContext c;
  EXPECT_EQ(d.dispatch(c, request_package("typed")), Outcome::handled);
  EXPECT_EQ(seen, std::vector<std::string>{"typed"}) << "the handler gets the parsed message";

  ProtoPackage nobody;
  nobody.set_cmd(PROTO_CMD_LUA_TEST);
  EXPECT_EQ(d.dispatch(c, nobody), Outcome::unknown) << "no handler for this command";

  // A field 1 that promises 16 bytes and has none: not a ProtoCSReqExample.
  ProtoPackage broken;
  broken.set_cmd(PROTO_CMD_CS_REQ_EXAMPLE);
  broken.set_protocol(testing::bytes({0x0a, 0x10}));
  EXPECT_EQ(d.dispatch(c, broken), Outcome::malformed);
  EXPECT_EQ(seen.size(), 1u) << "a malformed message never reaches its handler";
  EXPECT_TRUE(c.replies.empty());
}

TEST(Dispatcher, APackageHandlerGetsThePackageAsItCame) {
  Dispatcher d;
  std::vector<std::string> inner;
  d.on_package(PROTO_CMD_LUA_TEST, [&](Context& context, const ProtoPackage& package) {
    EXPECT_EQ(context.connection_id(), 7u);
    EXPECT_EQ(package.cmd(), PROTO_CMD_LUA_TEST);
    inner.push_back(package.protocol());
  });
  EXPECT_TRUE(d.handles(PROTO_CMD_LUA_TEST));
  EXPECT_FALSE(d.handles(PROTO_CMD_CS_REQ_EXAMPLE));
  // Bytes no message type would parse, with a NUL among them: a package handler sees them as
  // they are, so it is never `malformed`.
  const std::string raw = testing::bytes({0x0a, 0x10, 0x00, 0xff});
  ProtoPackage p;
  p.set_cmd(PROTO_CMD_LUA_TEST);
  p.set_protocol(raw);
  RecordingContext c;
  EXPECT_EQ(d.dispatch(c, p), Outcome::handled);
  EXPECT_EQ(inner, std::vector<std::string>{raw});
}

TEST(Dispatcher, ALaterHandlerReplacesTheEarlierOne) {
  Dispatcher d;
  std::string ran;
  d.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE,
      [&](Context& /*context*/, const ProtoCSReqExample& /*req*/) { ran += "typed "; });
  d.on_package(PROTO_CMD_CS_REQ_EXAMPLE,
               [&](Context& /*context*/, const ProtoPackage& /*package*/) { ran += "package "; });
  RecordingContext c;
  EXPECT_EQ(d.dispatch(c, request_package("x")), Outcome::handled);
  EXPECT_EQ(ran, "package ") << "on_package replaces the typed handler of the same command";

  d.on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE,
      [&](Context& /*context*/, const ProtoCSReqExample& /*req*/) { ran += "typed "; });
  EXPECT_EQ(d.dispatch(c, request_package("x")), Outcome::handled);
  EXPECT_EQ(ran, "package typed ") << "and a typed handler replaces a package handler";
}

TEST(Dispatcher, AnyInt32IsACommandInsideTheIndexedRangeOrOutsideIt) {
  // Commands 0..63 are found by an index, any other int32 in a table: both kinds, and the edges of
  // the index, dispatch to their own handler.
  Dispatcher d;
  std::vector<int> ran;
  const std::vector<int> commands = {0, 63, 64, 1000, -1, INT32_MIN, INT32_MAX};
  for (const int cmd : commands) {
    d.on<ProtoCSReqExample>(static_cast<ProtoCmd>(cmd),
                            [&ran, cmd](Context& /*context*/, const ProtoCSReqExample& req) {
                              EXPECT_EQ(req.testcontext(), std::to_string(cmd));
                              ran.push_back(cmd);
                            });
  }
  RecordingContext c;
  for (const int cmd : commands) {
    EXPECT_TRUE(d.handles(cmd)) << cmd;
    ProtoPackage p = testing::request_package(std::to_string(cmd));
    p.set_cmd(static_cast<ProtoCmd>(cmd));
    EXPECT_EQ(d.dispatch(c, p), Outcome::handled) << cmd;
  }
  EXPECT_EQ(ran, commands);
  for (const int cmd : {1, 62, 65, -2, 999}) {
    EXPECT_FALSE(d.handles(cmd)) << cmd;
    ProtoPackage p;
    p.set_cmd(static_cast<ProtoCmd>(cmd));
    EXPECT_EQ(d.dispatch(c, p), Outcome::unknown) << cmd;
  }
}

TEST(Dispatcher, AHandlerMayTakeFromItsMessageAndTheNextPackageIsParsedAfresh) {
  // A handler taking Message& owns the thread's reused message during its call: what it swaps in
  // or out never shows in the next package's message.
  Dispatcher d;
  std::vector<std::string> seen;
  d.on<ProtoCSReqExample>(PROTO_CMD_CS_REQ_EXAMPLE,
                          [&](Context& /*context*/, ProtoCSReqExample& req) {
                            std::string taken = "left behind by the handler";
                            req.mutable_testcontext()->swap(taken);
                            seen.push_back(taken);
                          });
  RecordingContext c;
  EXPECT_EQ(d.dispatch(c, request_package("first")), Outcome::handled);
  EXPECT_EQ(d.dispatch(c, request_package("")), Outcome::handled);
  EXPECT_EQ(d.dispatch(c, request_package("third")), Outcome::handled);
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "", "third"}));
}

TEST(Dispatcher, APackageViewIsDispatchedLikeThePackage) {
  // What a stream dispatches: the command and a view of the inner bytes read in place.
  Dispatcher d;
  add_echo_example(d);
  std::string ran;
  d.on_package(PROTO_CMD_LUA_TEST, [&](Context& /*context*/, const ProtoPackage& package) {
    ran = package.protocol();
  });
  RecordingContext c;
  const std::string inner = request_package("viewed").protocol();
  EXPECT_EQ(d.dispatch(c, PackageView{PROTO_CMD_CS_REQ_EXAMPLE, inner}), Outcome::handled);
  ASSERT_EQ(c.replies.size(), 1u);
  ProtoCSResExample answer;
  ASSERT_TRUE(answer.ParseFromString(c.replies[0].protocol()));
  EXPECT_EQ(answer.testcontext(), "viewed");
  EXPECT_EQ(d.dispatch(c, PackageView{PROTO_CMD_LUA_TEST, inner}), Outcome::handled);
  EXPECT_EQ(ran, inner) << "a package handler gets the inner bytes as they came";
  EXPECT_EQ(d.dispatch(c, PackageView{PROTO_CMD_CS_REQ_EXAMPLE, std::string_view("\x0a\x10", 2)}),
            Outcome::malformed);
}

TEST(Dispatcher, TheEchoExampleRepliesWithTheSameTestContext) {
  Dispatcher d;
  add_echo_example(d);
  EXPECT_TRUE(d.handles(PROTO_CMD_CS_REQ_EXAMPLE));
  RecordingContext c;
  const std::string all_bytes = testing::bytes({'a', 0x00, 0xff, 'z'});
  EXPECT_EQ(d.dispatch(c, request_package(all_bytes)), Outcome::handled);
  ASSERT_EQ(c.replies.size(), 1u) << "one answer, on the package's own connection";
  EXPECT_EQ(c.replies[0].cmd(), PROTO_CMD_CS_RES_EXAMPLE);
  ProtoCSResExample answer;
  ASSERT_TRUE(answer.ParseFromString(c.replies[0].protocol()));
  EXPECT_EQ(answer.testcontext(), all_bytes);
  EXPECT_FALSE(c.closed);
}

}  // namespace
}  // namespace avant::proto
