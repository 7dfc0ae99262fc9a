// Chapter 08 — the send queue, on a loopback slowed by tc (shaped_loopback.sh runs this program in
// a network namespace of its own): a sender whose socket buffer is full gets EAGAIN, which is
// backpressure, not an error. The endpoint queues what it cannot send, up to max_queued, drops by
// its policy beyond that (the newest or the oldest), and sends the queue, in order, as the socket
// drains.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <avant/testing/harness.hpp>
#include <avant/udp/udp_endpoint.hpp>

#include <gtest/gtest.h>

#include "peer.hpp"

namespace avant::udp {
namespace {

using namespace std::chrono_literals;
using net::SocketAddress;
using testing::Peer;

constexpr int kDatagrams = 40;
constexpr std::size_t kMaxQueued = 8;

// Datagram i: its index, then 1,000 bytes in all (about a tenth of a second each on the wire).
std::string datagram(int i) {
  std::string d = std::to_string(i) + ":";
  d.resize(1000, '.');
  return d;
}

int index_of(const std::string& d) {
  return std::stoi(d.substr(0, d.find(':')));
}

struct Burst {
  std::vector<SendResult> results;
  std::vector<int> arrived;  // the indices the receiver got, in order
  UdpStats stats;
};

// Sends kDatagrams from an endpoint with a small send buffer, as fast as the loop can, then reads
// at the receiver until `expected` have arrived (or 30 s: the shaped link carries about ten a
// second) and the endpoint's queue is empty.
Burst send_burst(WhenFull policy, const std::function<std::size_t(const Burst&)>& expected) {
  harness::LoopThread loop;
  Peer receiver;
  UdpOptions options;
  options.send_buffer = 4096;  // the kernel's minimum, about 4 datagrams of this size in flight
  options.max_queued = kMaxQueued;
  options.when_full = policy;
  Burst run;
  auto endpoint = loop.call([&] {
    auto e = std::make_unique<UdpEndpoint>(loop.loop(), SocketAddress::ipv4_loopback(0), options);
    e->start();
    for (int i = 0; i < kDatagrams; ++i)
      run.results.push_back(e->send_to(datagram(i), receiver.address()));
    return e;
  });
  const std::size_t want = expected(run);
  while (run.arrived.size() < want) {
    const std::optional<std::string> got = receiver.receive(30s);
    if (!got) break;
    run.arrived.push_back(index_of(*got));
  }
  EXPECT_TRUE(harness::eventually(
      [&] { return loop.call([&] { return endpoint->queued_now(); }) == 0; }, 30s));
  run.stats = endpoint->stats();
  loop.call([&] { endpoint.reset(); });
  return run;
}

std::size_t count(const std::vector<SendResult>& results, SendResult r) {
  return static_cast<std::size_t>(std::count(results.begin(), results.end(), r));
}

TEST(UdpSendQueue, AFullSocketQueuesThenDropsTheNewest) {
  const Burst run = send_burst(WhenFull::drop_newest, [](const Burst& r) {
    return count(r.results, SendResult::sent) + count(r.results, SendResult::queued);
  });
  const std::size_t sent = count(run.results, SendResult::sent);
  ASSERT_GE(sent, 1u);
  ASSERT_LT(sent, static_cast<std::size_t>(kDatagrams) - kMaxQueued)
      << "the socket never filled: is the loopback shaped (shaped_loopback.sh)?";
  // sent..., then exactly max_queued queued, then dropped: in that order.
  std::vector<SendResult> want(sent, SendResult::sent);
  want.resize(sent + kMaxQueued, SendResult::queued);
  want.resize(kDatagrams, SendResult::dropped);
  EXPECT_EQ(run.results, want);
  // What was sent or queued arrives, in order; what was dropped does not.
  std::vector<int> indices;
  indices.reserve(sent + kMaxQueued);
  for (int i = 0; i < static_cast<int>(sent + kMaxQueued); ++i)
    indices.push_back(i);
  EXPECT_EQ(run.arrived, indices);
  EXPECT_EQ(run.stats.queued, kMaxQueued);
  EXPECT_EQ(run.stats.dropped, kDatagrams - sent - kMaxQueued);
  EXPECT_EQ(run.stats.send_errors, 0u) << "EAGAIN is backpressure, not an error";
}

TEST(UdpSendQueue, AFullSocketQueuesThenDropsTheOldest) {
  const Burst run = send_burst(WhenFull::drop_oldest, [](const Burst& r) {
    return count(r.results, SendResult::sent) + kMaxQueued;
  });
  const std::size_t sent = count(run.results, SendResult::sent);
  ASSERT_GE(sent, 1u);
  ASSERT_LT(sent, static_cast<std::size_t>(kDatagrams) - kMaxQueued)
      << "the socket never filled: is the loopback shaped (shaped_loopback.sh)?";
  EXPECT_EQ(count(run.results, SendResult::queued), kDatagrams - sent)
      << "the newest is always taken";
  // The first ones went; of the queued ones, the last max_queued arrive, in order.
  std::vector<int> indices;
  indices.reserve(sent + kMaxQueued);
  for (int i = 0; i < static_cast<int>(sent); ++i)
    indices.push_back(i);
  for (int i = kDatagrams - static_cast<int>(kMaxQueued); i < kDatagrams; ++i)
    indices.push_back(i);
  EXPECT_EQ(run.arrived, indices);
  EXPECT_EQ(run.stats.dropped, kDatagrams - sent - kMaxQueued);
}

}  // namespace
}  // namespace avant::udp
