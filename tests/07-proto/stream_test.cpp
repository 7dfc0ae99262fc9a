// Chapter 07 — ProtoPackages over TCP streams, with real sockets: the original's echo example byte
// for byte, 100 frames in one write answered in order, a frame dribbled a byte at a time, an
// empty frame, a package in an unusual field order, answers larger than the read's batch, many
// clients at once on two worker loops, a package sent to another connection by its id (from a
// handler and from any thread; a stale id dropped), and the peers that are closed with one logged
// reason while another client keeps being served: a length over the limit (before its body
// arrives), a body that is not a ProtoPackage, a malformed inner message, an unknown command under
// the close policy (ignored and counted under the default one).
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <avant/proto/dispatcher.hpp>
#include <avant/proto/frame_codec.hpp>
#include <avant/proto/stream.hpp>
#include <avant/testing/harness.hpp>
#include <avant/thread/threaded_tcp_server.hpp>

#include <gtest/gtest.h>

#include "relay.hpp"
#include "wire.hpp"

namespace avant::proto {
namespace {

using testing::bytes;
using testing::echo_answer;
using testing::echo_request;

using namespace std::chrono_literals;

std::string request_frame(const std::string& text) {
  std::string out;
  append_frame(out, testing::request_package(text));
  return out;
}

std::string answer_frame(const std::string& text) {
  std::string out;
  append_frame(out, testing::answer_package(text));
  return out;
}

std::shared_ptr<Dispatcher> echo_dispatcher() {
  auto dispatcher = std::make_shared<Dispatcher>();
  add_echo_example(*dispatcher);
  return dispatcher;
}

// `dispatcher` (the echo example by default) on a ThreadedTcpServer (two worker loops) whose base
// loop has a thread; the server is a route of the dispatcher's directory.
class EchoServer {
 public:
  explicit EchoServer(StreamOptions options = {},
                      std::shared_ptr<Dispatcher> dispatcher = echo_dispatcher())
      : dispatcher_(std::move(dispatcher)) {
    service_ = std::make_unique<StreamService>(dispatcher_, options);
    thread::ThreadedServerOptions o;
    o.workers = 2;
    server_ = base_.call([&] {
      auto s = std::make_unique<thread::ThreadedTcpServer>(base_.loop(), o);
      s->set_protocol(service_->factory());
      s->start();
      return s;
    });
    route_ = dispatcher_->directory().add(
        stream_route([server = server_.get()](std::uint64_t id) { return server->find(id); }));
  }
  ~EchoServer() {
    try {
      dispatcher_->directory().remove(route_);
      base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  EchoServer(EchoServer&&) = delete;
  EchoServer& operator=(EchoServer&&) = delete;

  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  [[nodiscard]] StreamService::Stats stats() const { return service_->stats(); }
  [[nodiscard]] std::size_t connection_count() const { return server_->connection_count(); }

 private:
  std::shared_ptr<Dispatcher> dispatcher_;
  Directory::RouteId route_ = 0;
  harness::LoopThread base_;
  std::unique_ptr<StreamService> service_;  // outlives the server (declared before it)
  std::unique_ptr<thread::ThreadedTcpServer> server_;
};

// A second client is answered while `bad` is being refused.
void expect_others_served(const EchoServer& server) {
  harness::Client other(server.address());
  ASSERT_TRUE(other.send_all(echo_request));
  EXPECT_EQ(other.receive(echo_answer.size()), echo_answer);
}

TEST(ProtoStream, TheEchoExampleIsAnsweredByteForByte) {
  EchoServer server;
  harness::Client c(server.address());
  ASSERT_TRUE(c.send_all(echo_request));
  EXPECT_EQ(c.receive(echo_answer.size()), echo_answer);
  EXPECT_EQ(server.stats().packages, 1u);
}

TEST(ProtoStream, AHundredFramesInOneWriteAreAnsweredInOrder) {
  EchoServer server;
  harness::Client c(server.address());
  std::string requests;
  std::string answers;
  for (int i = 0; i < 100; ++i) {
    requests += request_frame("message " + std::to_string(i));
    answers += answer_frame("message " + std::to_string(i));
  }
  ASSERT_TRUE(c.send_all(requests));
  EXPECT_EQ(c.receive(answers.size()), answers);
}

TEST(ProtoStream, AFrameDribbledAByteAtATimeIsOneFrame) {
  EchoServer server;
  harness::Client c(server.address());
  for (const char b : echo_request)
    ASSERT_TRUE(c.send_all(std::string(1, b)));
  EXPECT_EQ(c.receive(echo_answer.size()), echo_answer);
}

TEST(ProtoStream, AnEmptyFrameIsCommandZeroWithNothingInIt) {
  EchoServer server;
  harness::Client c(server.address());
  ASSERT_TRUE(c.send_all(std::string(8, '\0')));
  // The answer of an empty request: cmd 1 and an empty ProtoCSResExample, which proto3 does not
  // write at all (an empty bytes field is its default): 2 bytes.
  EXPECT_EQ(c.receive(10), bytes({0, 0, 0, 0, 0, 0, 0, 2, 0x08, 0x01}));
}

TEST(ProtoStream, APackageInAnyFieldOrderIsAnsweredLikeTheUsualOne) {
  // `protocol` before `cmd`, and the 0 command written out: protobuf's parser takes it, the
  // in-place reader of the usual encoding does not; the answer is the same.
  const std::string inner = bytes({0x0a, 0x08}) + std::string(8, 'a');
  const std::string body = bytes({0x12, 0x0a}) + inner + bytes({0x08, 0x00});
  std::string frame;
  append_frame(frame, body);
  EchoServer server;
  harness::Client c(server.address());
  ASSERT_TRUE(c.send_all(frame + echo_request));
  EXPECT_EQ(c.receive(2 * echo_answer.size()), echo_answer + echo_answer);
  EXPECT_EQ(server.stats().refused, 0u);
}

TEST(ProtoStream, AnswersLargerThanTheBatchGoOutWholeAndInOrder) {
  // Each answer is 40 KiB: the read's batch is handed to the connection whenever it reaches
  // 64 KiB, mid-read, and the answers must still arrive whole, once each, in order; every other
  // one is a package reply (framed apart, then batched), the others typed replies.
  constexpr std::size_t kAnswer = 40u << 10;
  auto dispatcher = std::make_shared<Dispatcher>();
  dispatcher->on<ProtoCSReqExample>(
      PROTO_CMD_CS_REQ_EXAMPLE, [](Context& context, const ProtoCSReqExample& request) {
        ProtoCSResExample answer;
        answer.set_testcontext(std::string(kAnswer, request.testcontext().at(0)));
        if (request.testcontext().at(0) % 2 == 0) {
          context.reply(PROTO_CMD_CS_RES_EXAMPLE, answer);
        } else {
          ProtoPackage package;
          package.set_cmd(PROTO_CMD_CS_RES_EXAMPLE);
          package.set_protocol(answer.SerializeAsString());
          context.reply(package);
        }
      });
  EchoServer server({}, dispatcher);
  harness::Client c(server.address());
  std::string requests;
  std::string answers;
  for (char letter = 'a'; letter < 'a' + 12; ++letter) {
    requests += request_frame(std::string(1, letter));
    answers += answer_frame(std::string(kAnswer, letter));
  }
  ASSERT_TRUE(c.send_all(requests));  // 12 small frames: one read, almost always
  const std::string got = c.receive(answers.size());
  ASSERT_EQ(got.size(), answers.size());
  EXPECT_TRUE(got == answers) << "the answers are not the 12 frames in order";
  // Counted once the read is handled, which may be after the last answer went (mid-read).
  EXPECT_TRUE(harness::eventually([&] { return server.stats().packages == 12u; }));
}

TEST(ProtoStream, ManyClientsOnTwoLoopsEachGetTheirOwnAnswers) {
  EchoServer server;
  constexpr int kClients = 50;
  constexpr int kEchoes = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      harness::Client c(server.address());
      for (int i = 0; i < kEchoes; ++i) {
        const std::string text = std::to_string(t) + "/" + std::to_string(i);
        const std::string want = answer_frame(text);
        if (!c.send_all(request_frame(text)) || c.receive(want.size()) != want) {
          wrong.fetch_add(1);
          return;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(server.stats().packages, std::uint64_t{kClients} * kEchoes);
}

TEST(ProtoStream, ALengthOverTheLimitClosesBeforeItsBodyWhileOthersAreServed) {
  EchoServer server;
  harness::Client bad(server.address());
  std::string head(8, '\0');
  write_length(std::uint64_t{1} << 63U, std::span<char, kHeaderSize>(head.data(), kHeaderSize));
  ASSERT_TRUE(bad.send_all(head));  // the head alone: no body is ever sent
  EXPECT_TRUE(bad.receive_until_closed()) << "the connection was not closed";
  expect_others_served(server);
  EXPECT_EQ(server.stats().refused, 1u);
}

TEST(ProtoStream, GarbageAndMalformedMessagesCloseWhileOthersAreServed) {
  EchoServer server;
  for (const std::string& frames : {
           [] {  // a body that is not a ProtoPackage
             std::string f;
             append_frame(f, bytes({0xff, 0xff, 0xff, 0xff}));
             return f;
           }(),
           [] {  // command 0 whose inner bytes are not a ProtoCSReqExample
             ProtoPackage p;
             p.set_protocol(bytes({0x0a, 0x7f}));  // field 1, 127 bytes promised, none given
             std::string f;
             append_frame(f, p);
             return f;
           }(),
       }) {
    harness::Client bad(server.address());
    ASSERT_TRUE(bad.send_all(frames + echo_request));  // nothing after the bad frame is answered
    std::string got;
    EXPECT_TRUE(bad.receive_until_closed(&got));
    EXPECT_EQ(got, "");
    expect_others_served(server);
  }
  EXPECT_EQ(server.stats().refused, 2u);
}

TEST(ProtoStream, UnknownCommandsAreCountedOrCloseByPolicy) {
  ProtoPackage unknown;
  unknown.set_cmd(PROTO_CMD_LUA_TEST);  // no handler in the echo server
  std::string frame;
  append_frame(frame, unknown);
  {
    EchoServer server;  // default: ignore and count
    harness::Client c(server.address());
    ASSERT_TRUE(c.send_all(frame + echo_request));
    EXPECT_EQ(c.receive(echo_answer.size()), echo_answer) << "the connection goes on";
    EXPECT_EQ(server.stats().unknown, 1u);
  }
  {
    StreamOptions close_unknown;
    close_unknown.unknown = UnknownCommands::close;
    EchoServer server(close_unknown);
    harness::Client c(server.address());
    ASSERT_TRUE(c.send_all(frame + echo_request));
    std::string got;
    EXPECT_TRUE(c.receive_until_closed(&got));
    EXPECT_EQ(got, "");
    EXPECT_EQ(server.stats().refused, 1u);
  }
}

std::string ask(harness::Client& client, const std::string& text, const std::string& answer) {
  if (!client.send_all(request_frame(text))) return "(send failed)";
  const std::string want = answer_frame(answer);
  return client.receive(want.size());
}

TEST(ProtoStream, ASendToAnIdReachesThatConnectionFromAHandlerOrAnyThread) {
  auto dispatcher = std::make_shared<Dispatcher>();
  testing::add_relay(*dispatcher);
  EchoServer server({}, dispatcher);
  harness::Client a(server.address());
  std::optional<harness::Client> b_client(server.address());
  harness::Client& b = *b_client;
  // B's id, as the server knows it (the answer's length is not known before: read the head).
  ASSERT_TRUE(b.send_all(request_frame("whoami")));
  const std::string head = b.receive(kHeaderSize);
  ASSERT_EQ(head.size(), kHeaderSize);
  ProtoPackage package;
  ASSERT_TRUE(parse_package(
      b.receive(read_length(std::span<const char, kHeaderSize>(head.data(), kHeaderSize))),
      package));
  ProtoCSResExample who;
  ASSERT_TRUE(who.ParseFromString(package.protocol()));
  const std::uint64_t b_id = std::stoull(who.testcontext());
  ASSERT_NE(b_id, 0u);

  // From a handler on A's connection (possibly another loop than B's).
  const std::string to_b = "to:" + std::to_string(b_id) + ":";
  EXPECT_EQ(ask(a, to_b + "from a", "ok"), answer_frame("ok"));
  EXPECT_EQ(b.receive(answer_frame("from a").size()), answer_frame("from a"));

  // From a thread that is no loop at all.
  ProtoPackage from_test;
  from_test.set_cmd(PROTO_CMD_CS_RES_EXAMPLE);
  ProtoCSResExample text;
  text.set_testcontext("from the test");
  from_test.set_protocol(text.SerializeAsString());
  EXPECT_EQ(dispatcher->directory().send(b_id, from_test), tcp::SendStatus::ok);
  EXPECT_EQ(b.receive(answer_frame("from the test").size()), answer_frame("from the test"));

  // An id nobody has, and B's once B is gone: dropped, and A is still served.
  EXPECT_EQ(ask(a, "to:12345:lost", "dropped"), answer_frame("dropped"));
  b_client.reset();
  ASSERT_TRUE(harness::eventually([&] { return server.connection_count() == 1; }));
  EXPECT_EQ(ask(a, to_b + "lost", "dropped"), answer_frame("dropped"));
  EXPECT_EQ(dispatcher->directory().send(b_id, from_test), tcp::SendStatus::dropped);
}

}  // namespace
}  // namespace avant::proto
