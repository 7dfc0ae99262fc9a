// Unit tests of the EventLoop's timers (timerfd): order, repetition, cancellation from anywhere.
#include <algorithm>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include <avant/testing/harness.hpp>
#include <avant/testing/threads.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::reactor {
namespace {

using namespace std::chrono_literals;

TEST(Timers, FireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.run_after(30ms, [&] {
    order.push_back(30);
    loop.quit();
  });
  loop.run_after(10ms, [&] { order.push_back(10); });
  loop.run_after(20ms, [&] { order.push_back(20); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

TEST(Timers, SameDeadlineRunsInSchedulingOrder) {
  EventLoop loop;
  std::vector<int> order;
  const TimePoint when = Clock::now() + 5ms;
  for (int i = 0; i < 5; ++i)
    loop.run_at(when, [&order, i] { order.push_back(i); });
  loop.run_at(when, [&] { loop.quit(); });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Timers, NeverFireEarly) {
  EventLoop loop;
  const TimePoint start = Clock::now();
  TimePoint fired{};
  loop.run_after(20ms, [&] {
    fired = Clock::now();
    loop.quit();
  });
  loop.run();
  EXPECT_GE(fired - start, 20ms);
}

TEST(Timers, RepeatUntilCancelledFromInsideTheCallback) {
  EventLoop loop;
  int runs = 0;
  TimerId id;
  id = loop.run_every(2ms, [&] {
    if (++runs == 3) {
      loop.cancel(id);  // cancelling the running timer: it must not be re-armed
      loop.run_after(30ms, [&] { loop.quit(); });
    }
  });
  loop.run();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(loop.timer_count(), 0U);
}

TEST(Timers, CancelBeforeFiringMeansItNeverRuns) {
  EventLoop loop;
  bool ran = false;
  const TimerId id = loop.run_after(10ms, [&] { ran = true; });
  loop.cancel(id);
  loop.run_after(30ms, [&] { loop.quit(); });
  loop.run();
  EXPECT_FALSE(ran);
}

TEST(Timers, CancelAfterFiringIsHarmless) {
  EventLoop loop;
  int first = 0;
  int second = 0;
  const TimerId id = loop.run_after(1ms, [&] { ++first; });
  loop.run_after(5ms, [&] {
    loop.cancel(id);  // already fired
    loop.cancel(id);  // and again
    loop.cancel(TimerId{});
    loop.run_after(1ms, [&] {
      ++second;
      loop.quit();
    });
  });
  loop.run();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1) << "cancelling a fired id must not cancel any other timer";
}

TEST(Timers, ACallbackCanCancelAnotherDueTimer) {
  EventLoop loop;
  const TimePoint when = Clock::now() + 5ms;
  bool second_ran = false;
  TimerId second;
  loop.run_at(when, [&] { loop.cancel(second); });
  second = loop.run_at(when, [&] { second_ran = true; });
  loop.run_after(30ms, [&] { loop.quit(); });
  loop.run();
  EXPECT_FALSE(second_ran) << "both were due in one batch; the first cancelled the second";
}

TEST(Timers, ManyTimersAllFireInOrder) {
  EventLoop loop;
  constexpr int kTimers = 10'000;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> delay_us(0, 50'000);
  std::vector<TimePoint> deadlines;
  std::vector<TimePoint> fired_deadlines;
  deadlines.reserve(kTimers);
  const TimePoint start = Clock::now();
  for (int i = 0; i < kTimers; ++i) {
    const TimePoint when = start + std::chrono::microseconds(delay_us(random));
    deadlines.push_back(when);
    loop.run_at(when, [&fired_deadlines, &loop, when] {
      fired_deadlines.push_back(when);
      if (fired_deadlines.size() == kTimers) loop.quit();
    });
  }
  loop.run();
  ASSERT_EQ(fired_deadlines.size(), static_cast<std::size_t>(kTimers));
  EXPECT_TRUE(std::is_sorted(fired_deadlines.begin(), fired_deadlines.end()));
  EXPECT_EQ(loop.timer_count(), 0U);
}

TEST(Timers, ScheduledFromAnotherThreadRunOnTheLoopThread) {
  harness::LoopThread lt;
  std::promise<avant::testing::ThreadTag> ran_on;
  const avant::testing::ThreadTag loop_thread =
      lt.call([] { return avant::testing::this_thread(); });
  lt.loop().run_after(1ms, [&ran_on] { ran_on.set_value(avant::testing::this_thread()); });
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(harness::kDeadline), std::future_status::ready);
  EXPECT_EQ(future.get(), loop_thread);
}

TEST(Timers, CancelFromAnotherThreadStopsARepeatingTimer) {
  harness::LoopThread lt;
  std::atomic<int> runs{0};
  std::promise<void> twice;
  const TimerId id = lt.loop().run_every(1ms, [&] {
    if (runs.fetch_add(1) + 1 == 2) twice.set_value();
  });
  ASSERT_EQ(twice.get_future().wait_for(harness::kDeadline), std::future_status::ready);
  lt.loop().cancel(id);
  const int after_cancel = lt.call([&] { return runs.load(); });  // runs after the cancel task
  const std::size_t left = lt.call([&] { return lt.loop().timer_count(); });
  EXPECT_EQ(left, 0U);
  EXPECT_EQ(lt.call([&] { return runs.load(); }), after_cancel);
}

TEST(Timers, RejectANonPositivePeriod) {
  EventLoop loop;
  EXPECT_THROW(static_cast<void>(loop.run_every(0ms, [] {})), std::invalid_argument);
}

}  // namespace
}  // namespace avant::reactor
