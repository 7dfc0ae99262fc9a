// Chapter 06 — WebSocketServer with real sockets: the upgrade on a route of a site that keeps
// serving HTTP, echo, frames in the upgrade's own write, fragments with a ping inside, both
// close handshakes, refusals with their codes while others are served, send and close by id from
// another thread, broadcasts every session receives once, groups, slow consumers under both
// policies, pings without pongs, closes without answers, the 1001 of a stop, permessage-deflate
// and a zip bomb, a never-ending fragmented message and a ping flood from a peer that never reads.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <avant/http/http_server.hpp>
#include <avant/http/router.hpp>
#include <avant/testing/harness.hpp>
#include <avant/websocket/deflate.hpp>
#include <avant/websocket/server.hpp>

#include <gtest/gtest.h>

#include "site.hpp"
#include "ws_client.hpp"

namespace avant::websocket {
namespace {

using harness::eventually;
using testing::client_frame;
using testing::WsClient;
using namespace std::chrono_literals;
using Event = MessageParser::Event;
using testing::echo_handlers;
using testing::Seen;
using testing::Site;
using testing::ws_options;

std::string http_get(const net::SocketAddress& address, std::string_view target) {
  harness::Client c(address);
  if (!c.send_all("GET " + std::string(target) +
                  " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
    return {};
  std::string all;
  (void)c.receive_until_closed(&all);
  return all;
}

TEST(WebSocketServer, EchoesTextAndBinaryWhileTheRestOfTheSiteStaysHttp) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101) << c.head();
  EXPECT_EQ(c.field("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(c.field("Upgrade"), "websocket");
  EXPECT_EQ(c.field("Connection"), "Upgrade");
  ASSERT_TRUE(c.send_text("Hello"));
  const auto text = c.next();
  ASSERT_TRUE(text) << c.error();
  EXPECT_EQ(text->opcode, Opcode::text);
  EXPECT_EQ(text->payload, "Hello");
  const std::string bytes = harness::pattern(70000);  // a 64-bit length
  ASSERT_TRUE(c.send_binary(bytes));
  const auto binary = c.next();
  ASSERT_TRUE(binary) << c.error();
  EXPECT_EQ(binary->opcode, Opcode::binary);
  EXPECT_EQ(binary->payload, bytes);
  // The same port still serves HTTP, and a plain GET of the WebSocket route is told to upgrade.
  EXPECT_TRUE(http_get(site.address(), "/hello").starts_with("HTTP/1.1 200 OK\r\n"));
  const std::string plain = http_get(site.address(), "/ws");
  EXPECT_TRUE(plain.starts_with("HTTP/1.1 426 ")) << plain;
  EXPECT_NE(plain.find("Upgrade: websocket\r\n"), std::string::npos) << plain;
  EXPECT_EQ(site.ws().stats().accepted, 1u);
  EXPECT_EQ(site.ws().stats().messages_in, 2u);
}

TEST(WebSocketServer, FramesInTheUpgradeRequestsOwnWriteAreNotLost) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws", {},
                        client_frame(Opcode::text, "early") + client_frame(Opcode::text, "bird")),
            101);
  EXPECT_EQ(c.message().value_or(c.error()), "early");
  EXPECT_EQ(c.message().value_or(c.error()), "bird");
}

TEST(WebSocketServer, AFragmentedMessageWithAPingInsideIsOneMessageAfterThePong) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(c.send(client_frame(Opcode::text, "frag", false) +
                     client_frame(Opcode::ping, "are you there") +
                     client_frame(Opcode::continuation, "ment", false) +
                     client_frame(Opcode::continuation, "ed", true)));
  const auto pong = c.next();
  ASSERT_TRUE(pong) << c.error();
  EXPECT_EQ(pong->event, Event::pong);
  EXPECT_EQ(pong->payload, "are you there");
  const auto message = c.next();
  ASSERT_TRUE(message) << c.error();
  EXPECT_EQ(message->event, Event::message);
  EXPECT_EQ(message->payload, "fragmented");
}

TEST(WebSocketServer, TheClientsCloseIsAnsweredAndReportedOnce) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(c.send_close(close_code::kNormal, "bye"));
  EXPECT_EQ(c.close_code(), close_code::kNormal);
  EXPECT_TRUE(c.ends()) << "the server ends the TCP connection after the close handshake";
  c.hang_up();
  ASSERT_TRUE(eventually([&] { return seen.closes().size() == 1; }));
  EXPECT_EQ(seen.closes()[0], std::make_pair(close_code::kNormal, std::string("bye")));
  EXPECT_TRUE(eventually([&] { return site.ws().stats().open == 0; }));
}

// A frame the parser refuses closes that session with its code; another one goes on.
void expect_refused(Site& site, const std::string& frames, std::uint16_t code) {
  WsClient other(site.address());
  ASSERT_EQ(other.handshake("/ws"), 101);
  WsClient bad(site.address());
  ASSERT_EQ(bad.handshake("/ws"), 101);
  ASSERT_TRUE(bad.send(frames));
  EXPECT_EQ(bad.close_code(), code);
  EXPECT_TRUE(bad.ends());
  ASSERT_TRUE(other.send_text("still here"));
  EXPECT_EQ(other.message().value_or(other.error()), "still here");
}

TEST(WebSocketServer, RefusedFramesCloseWithTheirCodeWhileOthersAreServed) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  expect_refused(site, client_frame(Opcode::text, "unmasked", true, false),
                 close_code::kProtocolError);
  expect_refused(site, client_frame(Opcode::text, "caf\xc3"), close_code::kInvalidPayload);
  expect_refused(site, client_frame(Opcode::binary, std::string((1u << 20) + 1, 'x')),
                 close_code::kMessageTooBig);
  expect_refused(site, client_frame(Opcode::text, "rsv1 without deflate", true, true, true),
                 close_code::kProtocolError);
  EXPECT_EQ(site.ws().stats().protocol_errors, 4u);
}

TEST(WebSocketServer, ANeverEndingFragmentedMessageIsClosedWith1009WhileOthersAreServed) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));  // 1 MiB per message
  WsClient other(site.address());
  ASSERT_EQ(other.handshake("/ws"), 101);
  WsClient endless(site.address());
  ASSERT_EQ(endless.handshake("/ws"), 101);
  // A message begun and never finished: 4 KiB fragments, none of them the last. The server must
  // stop it at the limit (1 MiB), not collect it for ever; the sender keeps going until it is cut
  // off (a send may then fail: the server has closed).
  const std::string fragment(4096, 'f');
  ASSERT_TRUE(endless.send(client_frame(Opcode::binary, fragment, false)));
  for (int i = 0; i < 400; ++i) {
    if (!endless.send(client_frame(Opcode::continuation, fragment, false))) break;
  }
  EXPECT_EQ(endless.close_code(), close_code::kMessageTooBig) << endless.error();
  ASSERT_TRUE(other.send_text("still here"));
  EXPECT_EQ(other.message().value_or(other.error()), "still here");
}

TEST(WebSocketServer, APingFloodFromAPeerThatDoesNotReadCostsAtMostTheLimit) {
  Seen seen;
  ServerOptions o = ws_options();
  o.max_buffered = 64u << 10;
  Site site(o, echo_handlers(seen));
  WsClient other(site.address());
  ASSERT_EQ(other.handshake("/ws"), 101);
  WsClient flood(site.address());
  ASSERT_EQ(flood.handshake("/ws"), 101);
  // 200,000 pings of 125 bytes (26 MB) without reading a byte, then a close. Answering them all
  // would queue 25 MB of pongs behind a peer that does not read; past max_buffered they are not
  // queued (kernel buffers hold a few MB at most), and the session stays: a ping is no offence.
  const std::string ping = client_frame(Opcode::ping, std::string(125, 'p'));
  std::string burst;
  for (int i = 0; i < 1000; ++i)
    burst += ping;
  constexpr int kPings = 200'000;
  for (int i = 0; i < kPings / 1000; ++i)
    ASSERT_TRUE(flood.send(burst));
  ASSERT_TRUE(other.send_text("served during the flood"));
  EXPECT_EQ(other.message().value_or(other.error()), "served during the flood");
  ASSERT_TRUE(flood.send_close(close_code::kNormal));
  int pongs = 0;
  std::uint16_t code = 0;
  for (;;) {
    const auto r = flood.next();
    ASSERT_TRUE(r) << flood.error();
    if (r->event == Event::pong) {
      ++pongs;
      continue;
    }
    ASSERT_EQ(r->event, Event::close);
    code = r->code;
    break;
  }
  EXPECT_EQ(code, close_code::kNormal);
  EXPECT_GT(pongs, 0);
  EXPECT_LT(pongs, kPings / 2) << "every ping was answered: the pongs were queued past the limit";
}

TEST(WebSocketServer, SendAndCloseByIdFromAnotherThread) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 1; }));
  const std::uint64_t id = seen.ids()[0];
  EXPECT_NE(site.ws().send(id, "pushed"), tcp::SendStatus::dropped);
  EXPECT_EQ(c.message().value_or(c.error()), "pushed");
  site.ws().close(id, 4000, "done here");
  const auto close = c.next();
  ASSERT_TRUE(close) << c.error();
  EXPECT_EQ(close->event, Event::close);
  EXPECT_EQ(close->code, 4000);
  EXPECT_EQ(close->reason, "done here");
  ASSERT_TRUE(c.send_close(4000));
  EXPECT_TRUE(c.ends());
  c.hang_up();
  ASSERT_TRUE(eventually([&] { return seen.closes().size() == 1; }));
  EXPECT_EQ(seen.closes()[0].first, 4000);
}

TEST(WebSocketServer, ASessionKeptAfterItsConnectionIsGoneDropsWhatIsSentToIt) {
  std::mutex mutex;
  std::shared_ptr<Session> kept;
  std::atomic<std::uint16_t> closed_with{0};
  Handlers handlers{.open =
                        [&](Session& s) {
                          const std::lock_guard lock(mutex);
                          kept = s.shared_from_this();
                        },
                    .message = {},
                    .close = [&](Session& /*s*/, std::uint16_t code,
                                 std::string_view /*reason*/) { closed_with = code; }};
  Site site(ws_options(), std::move(handlers));
  {
    WsClient c(site.address());
    ASSERT_EQ(c.handshake("/ws"), 101);
    ASSERT_TRUE(eventually([&] {
      const std::lock_guard lock(mutex);
      return kept != nullptr;
    }));
  }  // the client goes without a close frame
  ASSERT_TRUE(eventually([&] { return closed_with.load() != 0; }));
  EXPECT_EQ(closed_with.load(), close_code::kAbnormal);
  ASSERT_TRUE(eventually([&] { return site.ws().stats().open == 0; }));
  const std::lock_guard lock(mutex);
  EXPECT_FALSE(kept->is_open());
  EXPECT_EQ(kept->send("too late"), tcp::SendStatus::dropped);
  kept->close();  // harmless
  EXPECT_EQ(kept->buffered(), 0u);
}

TEST(WebSocketServer, ABroadcastReachesEachOfAThousandSessionsExactlyOnce) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  constexpr std::size_t kSessions = 1000;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (std::size_t i = 0; i < kSessions; ++i) {
    clients.push_back(std::make_unique<WsClient>(site.address()));
    ASSERT_EQ(clients.back()->handshake("/ws"), 101) << "session " << i;
  }
  ASSERT_TRUE(eventually([&] { return site.ws().stats().open == kSessions; }));
  std::atomic<std::size_t> delivered{0};
  std::atomic<bool> done{false};
  site.ws().broadcast("news", MessageType::text, [&](std::size_t n) {
    delivered = n;
    done = true;
  });
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  EXPECT_EQ(delivered.load(), kSessions);
  site.ws().broadcast("end");
  for (std::size_t i = 0; i < kSessions; ++i) {
    ASSERT_EQ(clients[i]->message().value_or(clients[i]->error()), "news") << "session " << i;
    ASSERT_EQ(clients[i]->message().value_or(clients[i]->error()), "end") << "session " << i;
  }
}

TEST(WebSocketServer, AGroupBroadcastReachesItsMembersOnly) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient in1(site.address());
  WsClient in2(site.address());
  WsClient out(site.address());
  for (WsClient* c : {&in1, &in2, &out})
    ASSERT_EQ(c->handshake("/ws"), 101);
  for (WsClient* c : {&in1, &in2}) {
    ASSERT_TRUE(c->send_text("join:room"));
    ASSERT_EQ(c->message().value_or(c->error()), "joined");
  }
  std::atomic<std::size_t> delivered{99};
  site.ws().broadcast_to("room", "for the room", MessageType::text,
                         [&](std::size_t n) { delivered = n; });
  EXPECT_EQ(in1.message().value_or(in1.error()), "for the room");
  EXPECT_EQ(in2.message().value_or(in2.error()), "for the room");
  ASSERT_TRUE(eventually([&] { return delivered.load() != 99; }));
  EXPECT_EQ(delivered.load(), 2u);
  // The one outside gets its own echo first: nothing from the room came before it.
  ASSERT_TRUE(out.send_text("mine"));
  EXPECT_EQ(out.message().value_or(out.error()), "mine");
}

// Pushes 256 KiB messages to a session whose peer does not read, until `stop` holds.
template <class Stop>
bool push_until(Site& site, std::uint64_t id, Stop stop) {
  const std::string chunk(256u << 10, 'z');
  for (int i = 0; i < 2000; ++i) {
    if (stop()) return true;
    (void)site.ws().send(id, chunk, MessageType::binary);
    if (i % 16 == 15) (void)eventually(stop, 50ms);
  }
  return stop();
}

TEST(WebSocketServer, ASlowConsumerLosesMessagesUnderTheDropPolicyAndStays) {
  Seen seen;
  ServerOptions o = ws_options();
  o.max_buffered = 1u << 20;
  o.slow_consumer = SlowConsumer::drop;
  Site site(o, echo_handlers(seen));
  WsClient slow(site.address());
  ASSERT_EQ(slow.handshake("/ws"), 101);
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 1; }));
  ASSERT_TRUE(push_until(site, seen.ids()[0], [&] { return site.ws().stats().dropped > 0; }));
  // Reading again, it gets what was queued, then its own echo: the session stayed.
  ASSERT_TRUE(slow.send_text("after"));
  for (;;) {
    const auto m = slow.next();
    ASSERT_TRUE(m) << slow.error();
    ASSERT_EQ(m->event, Event::message);
    if (m->payload == "after") break;
  }
  EXPECT_EQ(site.ws().stats().slow_closed, 0u);
}

TEST(WebSocketServer, ASlowConsumerIsClosedWithTryAgainLaterUnderTheClosePolicy) {
  Seen seen;
  ServerOptions o = ws_options();
  o.max_buffered = 1u << 20;
  o.close_timeout = 10s;
  Site site(o, echo_handlers(seen));
  WsClient slow(site.address());
  ASSERT_EQ(slow.handshake("/ws"), 101);
  // The slow one's id first: the two sessions open on two loops, in either order.
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 1; }));
  WsClient other(site.address());
  ASSERT_EQ(other.handshake("/ws"), 101);
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 2; }));
  ASSERT_TRUE(push_until(site, seen.ids()[0], [&] { return site.ws().stats().slow_closed > 0; }));
  ASSERT_TRUE(other.send_text("unaffected"));
  EXPECT_EQ(other.message().value_or(other.error()), "unaffected");
  EXPECT_EQ(slow.close_code(), close_code::kTryAgainLater) << slow.error();
}

TEST(WebSocketServer, OneMessageLargerThanMaxBufferedStillGoesOutOnAnEmptyQueue) {
  Seen seen;
  ServerOptions o = ws_options();
  o.max_buffered = 64u << 10;  // the limit bounds what piles up, not one message's size
  Site site(o, echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  const std::string big = harness::pattern(256u << 10, 3);
  ASSERT_TRUE(c.send_binary(big));
  EXPECT_EQ(c.message().value_or(c.error()), big);
  EXPECT_EQ(site.ws().stats().slow_closed, 0u);
}

TEST(WebSocketServer, APeerThatNeverAnswersPingsIsClosed) {
  Seen seen;
  ServerOptions o = ws_options();
  o.ping_interval = 100ms;
  Site site(o, echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  const auto ping = c.next();
  ASSERT_TRUE(ping) << c.error();
  EXPECT_EQ(ping->event, Event::ping);
  EXPECT_TRUE(c.ends()) << "no pong: the connection is closed";
  EXPECT_EQ(site.ws().stats().ping_timeouts, 1u);
  ASSERT_TRUE(eventually([&] { return seen.closes().size() == 1; }));
  EXPECT_EQ(seen.closes()[0].first, close_code::kAbnormal);
}

TEST(WebSocketServer, APeerThatAnswersPingsStays) {
  Seen seen;
  ServerOptions o = ws_options();
  o.ping_interval = 200ms;  // the pong's deadline too: room for a loaded machine's scheduling
  Site site(o, echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  for (int i = 0; i < 4; ++i) {
    const auto ping = c.next();
    ASSERT_TRUE(ping) << c.error();
    ASSERT_EQ(ping->event, Event::ping);
    ASSERT_TRUE(c.send(client_frame(Opcode::pong, ping->payload)));
  }
  ASSERT_TRUE(c.send_text("alive"));
  EXPECT_EQ(c.message().value_or(c.error()), "alive");
  EXPECT_EQ(site.ws().stats().ping_timeouts, 0u);
}

TEST(WebSocketServer, APeerThatNeverAnswersTheCloseIsClosedAfterTheTimeout) {
  Seen seen;
  ServerOptions o = ws_options();
  o.close_timeout = 200ms;
  Site site(o, echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 1; }));
  site.ws().close(seen.ids()[0], close_code::kNormal);
  EXPECT_EQ(c.close_code(), close_code::kNormal);
  EXPECT_TRUE(c.ends()) << "no answer to the close: the connection is closed";
}

TEST(WebSocketServer, StoppingTheServerSaysGoingAwayAndWaitsForTheAnswer) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws"), 101);
  ASSERT_TRUE(eventually([&] { return site.ws().stats().open == 1; }));
  site.stop();
  EXPECT_EQ(c.close_code(), close_code::kGoingAway);
  ASSERT_TRUE(c.send_close(close_code::kGoingAway));
  EXPECT_TRUE(c.ends());
  c.hang_up();
  ASSERT_TRUE(eventually([&] { return seen.closes().size() == 1; }));
  EXPECT_EQ(seen.closes()[0].first, close_code::kGoingAway);
}

TEST(WebSocketServer, PermessageDeflateIsNegotiatedAndAZipBombClosesWith1009) {
  Seen seen;
  ServerOptions o = ws_options();
  o.deflate.enabled = true;
  Site site(o, echo_handlers(seen));
  WsClient c(site.address());
  ASSERT_EQ(c.handshake("/ws", "Sec-WebSocket-Extensions: permessage-deflate\r\n"), 101);
  EXPECT_EQ(c.field("Sec-WebSocket-Extensions"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  const std::string text(1000, 'a');
  std::string compressed;
  Deflater(15, false).compress(text, compressed);
  ASSERT_TRUE(c.send(client_frame(Opcode::text, compressed, true, true, true)));
  c.accept_compression();
  const auto echoed = c.next();
  ASSERT_TRUE(echoed) << c.error();
  EXPECT_TRUE(echoed->compressed) << "over min_size: the echo is compressed too";
  EXPECT_EQ(echoed->payload, text);
  ASSERT_TRUE(c.send_text("tiny"));
  const auto tiny = c.next();
  ASSERT_TRUE(tiny) << c.error();
  EXPECT_FALSE(tiny->compressed) << "under min_size: sent as it is";
  EXPECT_EQ(tiny->payload, "tiny");

  WsClient bomber(site.address());
  ASSERT_EQ(bomber.handshake("/ws", "Sec-WebSocket-Extensions: permessage-deflate\r\n"), 101);
  const std::string zeros(16u << 20, '\0');
  std::string bomb;
  Deflater(15, false).compress(zeros, bomb);
  ASSERT_LT(bomb.size(), 64u << 10);  // well under the 1 MiB limit as sent
  ASSERT_TRUE(bomber.send(client_frame(Opcode::binary, bomb, true, true, true)));
  EXPECT_EQ(bomber.close_code(), close_code::kMessageTooBig);
}

}  // namespace
}  // namespace avant::websocket
