// Per-loop storage (EventLoop::local<T>), end tasks (run_at_end) and connection ids in the
// original's GID layout (tcp::next_connection_id).
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <avant/tcp/connection_id.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::reactor {
namespace {

// Appends to a shared log when destroyed, to see the order of the loop's end.
struct Logged {
  std::vector<std::string>* log = nullptr;
  std::string name;
  Logged() = default;
  Logged(const Logged&) = delete;
  Logged& operator=(const Logged&) = delete;
  Logged(Logged&&) = delete;
  Logged& operator=(Logged&&) = delete;
  ~Logged() {
    if (log != nullptr) log->push_back("destroyed " + name);
  }
};
struct First : Logged {};
struct Second : Logged {};

TEST(EventLoopLocal, OneValuePerLoopMadeOnFirstUseAndKept) {
  EventLoop loop;
  int& a = loop.local<int>();
  EXPECT_EQ(a, 0) << "value-initialised on first use";
  a = 41;
  ++loop.local<int>();
  EXPECT_EQ(loop.local<int>(), 42) << "the same value on every use";
  EXPECT_EQ(&loop.local<int>(), &a);
  std::thread other([] {
    EventLoop its_own;
    EXPECT_EQ(its_own.local<int>(), 0) << "another loop has its own value";
  });
  other.join();
}

TEST(EventLoopLocal, EndTasksRunFirstThenValuesGoNewestFirst) {
  std::vector<std::string> log;
  {
    EventLoop loop;
    auto& first = loop.local<First>();
    first.log = &log;
    first.name = "first";
    auto& second = loop.local<Second>();
    second.log = &log;
    second.name = "second";
    loop.run_at_end(
        [&log, &loop] { log.push_back("end task sees second: " + loop.local<Second>().name); });
  }
  EXPECT_EQ(log, (std::vector<std::string>{"end task sees second: second", "destroyed second",
                                           "destroyed first"}));
}

TEST(ConnectionId, HoldsTheTimeASequenceAndTheWorkerAsTheOriginalsGid) {
  const auto now =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::uint64_t a = tcp::next_connection_id(5);
  const std::uint64_t b = tcp::next_connection_id(511);
  const tcp::ConnectionIdParts pa = tcp::split_connection_id(a);
  const tcp::ConnectionIdParts pb = tcp::split_connection_id(b);
  EXPECT_EQ(pa.worker, 5U);
  EXPECT_EQ(pb.worker, 511U);
  EXPECT_GE(pa.unix_seconds, now);
  EXPECT_LE(pa.unix_seconds, now + 5);
  EXPECT_EQ(pb.sequence, (pa.sequence + 1) & ((1U << tcp::kGidSequenceBits) - 1))
      << "one sequence for the process";
  EXPECT_EQ(a, (std::uint64_t{pa.unix_seconds} << 32) | (std::uint64_t{pa.sequence} << 9) | 5U)
      << "(unix_seconds << 32) | (seq & 0x7FFFFF) << 9 | worker_index";
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 10000; ++i)
    ids.insert(tcp::next_connection_id(static_cast<std::size_t>(i % 4)));
  EXPECT_EQ(ids.size(), 10000U) << "no id repeats";
}

}  // namespace
}  // namespace avant::reactor
