// Unit tests of the EventLoop and Channel: the two doors between threads, wake-ups, quit, the
// one-loop-per-thread rule, and a Channel on a pipe.
#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <avant/testing/harness.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::reactor {
namespace {

using harness::kDeadline;
using harness::LoopThread;

TEST(EventLoop, QueuedTasksRunInOrderFromAnotherThread) {
  LoopThread lt;
  constexpr int kTasks = 10'000;
  std::vector<int> seen;  // touched on the loop thread only
  std::promise<void> done;
  for (int i = 0; i < kTasks; ++i) {
    lt.loop().queue_in_loop([&seen, i] { seen.push_back(i); });
  }
  lt.loop().queue_in_loop([&done] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(kDeadline), std::future_status::ready);
  const std::vector<int> copy = lt.call([&seen] { return seen; });
  ASSERT_EQ(copy.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i)
    ASSERT_EQ(copy[static_cast<std::size_t>(i)], i) << "at " << i;
}

TEST(EventLoop, TwoProducersKeepTheirOwnOrder) {
  LoopThread lt;
  constexpr int kEach = 5'000;
  std::vector<std::pair<int, int>> seen;
  auto produce = [&](int who) {
    for (int i = 0; i < kEach; ++i)
      lt.loop().queue_in_loop([&seen, who, i] { seen.emplace_back(who, i); });
  };
  std::thread a(produce, 0);
  std::thread b(produce, 1);
  a.join();
  b.join();
  const auto copy = lt.call([&seen] { return seen; });
  ASSERT_EQ(copy.size(), 2U * kEach);
  std::array<int, 2> next{0, 0};
  for (const auto& [who, i] : copy) {
    ASSERT_EQ(i, next[static_cast<std::size_t>(who)]) << "producer " << who << " out of order";
    ++next[static_cast<std::size_t>(who)];
  }
}

TEST(EventLoop, NoWakeUpIsLost) {
  // Each round waits for its task with a deadline: a lost wake-up would leave the loop asleep in
  // epoll_wait (for its 10 s safety timeout) and fail the round.
  LoopThread lt;
  for (int round = 0; round < 2'000; ++round) {
    std::promise<void> ran;
    lt.loop().queue_in_loop([&ran] { ran.set_value(); });
    ASSERT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready)
        << "round " << round;
  }
}

TEST(EventLoop, RunInLoopRunsAtOnceOnTheLoopThread) {
  LoopThread lt;
  const bool inline_run = lt.call([&lt] {
    bool ran = false;
    lt.loop().run_in_loop([&ran] { ran = true; });
    return ran;
  });
  EXPECT_TRUE(inline_run);
  const bool deferred = lt.call([&lt] {
    auto ran = std::make_shared<bool>(false);  // outlives this call: the task runs later
    lt.loop().queue_in_loop([ran] { *ran = true; });
    return *ran;  // queue_in_loop never runs the task before returning
  });
  EXPECT_FALSE(deferred);
}

TEST(EventLoop, TaskQueuedByATaskRunsWithoutAnotherEvent) {
  LoopThread lt;
  std::promise<void> second;
  lt.loop().queue_in_loop([&] { lt.loop().queue_in_loop([&second] { second.set_value(); }); });
  EXPECT_EQ(second.get_future().wait_for(kDeadline), std::future_status::ready);
}

TEST(EventLoop, QuitFromAnotherThreadEndsRun) {
  std::promise<EventLoop*> started;
  std::promise<void> finished;
  std::thread t([&] {
    EventLoop loop;
    started.set_value(&loop);
    loop.run();
    finished.set_value();
  });
  EventLoop* loop = started.get_future().get();
  loop->quit();
  const auto status = finished.get_future().wait_for(kDeadline);
  t.join();
  EXPECT_EQ(status, std::future_status::ready);
}

TEST(EventLoop, QuitBeforeRunMakesRunReturnAtOnce) {
  EventLoop loop;
  loop.quit();
  loop.run();  // returns: the test would time out otherwise
  EXPECT_EQ(loop.iterations(), 0U);
  loop.queue_in_loop([&loop] { loop.quit(); });
  loop.run();  // and the loop can run again
  EXPECT_EQ(loop.iterations(), 1U);
}

TEST(EventLoop, TasksQueuedBeforeQuitStillRun) {
  EventLoop loop;
  bool closed = false;
  loop.queue_in_loop([&] {
    // "Post a close, then stop the loop": the close must still happen.
    loop.queue_in_loop([&closed] { closed = true; });
    loop.quit();
  });
  loop.run();
  EXPECT_TRUE(closed);
}

TEST(EventLoop, OneLoopPerThread) {
  EventLoop first;
  EXPECT_EQ(EventLoop::of_current_thread(), &first);
  EXPECT_THROW(EventLoop second, std::logic_error);
  EXPECT_EQ(EventLoop::of_current_thread(), &first) << "a refused loop leaves the first in place";
}

TEST(EventLoop, ThreadHasNoLoopAfterItsLoopIsGone) {
  { EventLoop loop; }
  EXPECT_EQ(EventLoop::of_current_thread(), nullptr);
  EventLoop again;  // a new loop is allowed once the old one is destroyed
  EXPECT_EQ(EventLoop::of_current_thread(), &again);
}

TEST(EventLoopDeathTest, UsingALoopFromAnotherThreadAborts) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(
      {
        EventLoop loop;
        std::thread other([&loop] { loop.assert_in_loop_thread(); });
        other.join();
      },
      "belongs to thread");
}

TEST(Channel, ReportsReadinessOfAPipeUntilDisabled) {
  EventLoop loop;
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe2(fds.data(), O_NONBLOCK | O_CLOEXEC), 0);
  const net::FileDescriptor read_end(fds[0]);
  const net::FileDescriptor write_end(fds[1]);
  Channel channel(loop, read_end.get());
  int reads = 0;
  channel.on_read([&] {
    ++reads;
    char c = 0;
    static_cast<void>(::read(read_end.get(), &c, 1));
    if (reads == 2) loop.quit();
  });
  channel.enable_reading();
  EXPECT_EQ(loop.channel_count(), 3U) << "the loop's own wake-up and timer channels, and ours";
  ASSERT_EQ(::write(write_end.get(), "ab", 2), 2);
  loop.run();  // level-triggered: two bytes read one at a time give two events
  EXPECT_EQ(reads, 2);

  channel.disable_reading();
  ASSERT_EQ(::write(write_end.get(), "c", 1), 1);
  loop.queue_in_loop([&loop] { loop.quit(); });
  loop.run();
  EXPECT_EQ(reads, 2) << "a disabled channel gets no callbacks";

  channel.remove();
  EXPECT_EQ(loop.channel_count(), 2U) << "nothing of ours left in the poller";
}

TEST(Channel, HangUpOfThePeerReachesTheCloseCallback) {
  EventLoop loop;
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe2(fds.data(), O_NONBLOCK | O_CLOEXEC), 0);
  const net::FileDescriptor read_end(fds[0]);
  net::FileDescriptor write_end(fds[1]);
  Channel channel(loop, read_end.get());
  bool closed = false;
  channel.on_close([&] {
    closed = true;
    channel.disable_all();
    loop.quit();
  });
  channel.enable_reading();
  write_end.close();
  loop.run();
  EXPECT_TRUE(closed);
  channel.remove();
}

TEST(Channel, RemovedDuringAnEventGetsNoCallbacks) {
  // Two readable pipes in one iteration; the first callback removes the second channel. Its
  // pending event must not be delivered (its owner may already be gone).
  EventLoop loop;
  std::array<int, 2> a{};
  std::array<int, 2> b{};
  ASSERT_EQ(::pipe2(a.data(), O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b.data(), O_NONBLOCK | O_CLOEXEC), 0);
  const std::array<net::FileDescriptor, 4> owned{
      net::FileDescriptor(a[0]), net::FileDescriptor(a[1]), net::FileDescriptor(b[0]),
      net::FileDescriptor(b[1])};
  Channel first(loop, a[0]);
  Channel second(loop, b[0]);
  int calls = 0;
  first.on_read([&] {
    ++calls;
    second.remove();
    first.remove();
    loop.quit();
  });
  second.on_read([&] {
    ++calls;
    first.remove();
    second.remove();
    loop.quit();
  });
  first.enable_reading();
  second.enable_reading();
  ASSERT_EQ(::write(a[1], "x", 1), 1);
  ASSERT_EQ(::write(b[1], "y", 1), 1);
  loop.run();
  EXPECT_EQ(calls, 1) << "exactly one of the two callbacks ran";
}

}  // namespace
}  // namespace avant::reactor
