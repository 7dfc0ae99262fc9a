// Unit tests of EventLoopThread and EventLoopThreadPool: threads that own loops, their names,
// placement policies, broadcasts, and shutdown in any state.
#include <array>
#include <atomic>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include <avant/testing/threads.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::thread {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// Runs f on `loop`'s thread and waits for its result.
template <class F>
auto on_loop(reactor::EventLoop& loop, F f) -> std::invoke_result_t<F> {
  std::packaged_task<std::invoke_result_t<F>()> task(std::move(f));
  auto result = task.get_future();
  loop.run_in_loop([&task] { task(); });
  if (result.wait_for(kDeadline) != std::future_status::ready) throw std::runtime_error("timeout");
  return result.get();
}

using avant::testing::this_thread_name;

TEST(EventLoopThread, RunsItsLoopOnItsOwnNamedThread) {
  EventLoopThread worker("worker-7");
  reactor::EventLoop& loop = worker.start();
  EXPECT_EQ(worker.loop(), &loop);
  EXPECT_FALSE(loop.is_in_loop_thread()) << "the loop belongs to the new thread, not this one";
  EXPECT_EQ(on_loop(loop, [] { return this_thread_name(); }), "worker-7");
  EXPECT_EQ(on_loop(loop, [&] { return reactor::EventLoop::of_current_thread(); }), &loop);
  worker.stop();
  EXPECT_EQ(worker.loop(), nullptr);
  worker.stop();  // idempotent
}

TEST(EventLoopThread, InitRunsOnTheLoopThreadBeforeStartReturns) {
  avant::testing::ThreadTag init_thread;
  EventLoopThread worker("init", [&](reactor::EventLoop& loop) {
    EXPECT_TRUE(loop.is_in_loop_thread());
    init_thread = avant::testing::this_thread();
  });
  reactor::EventLoop& loop = worker.start();
  EXPECT_EQ(init_thread, on_loop(loop, [] { return avant::testing::this_thread(); }));
}

TEST(EventLoopThread, AFailingInitIsRethrownByStart) {
  EventLoopThread worker("fails", [](reactor::EventLoop&) { throw std::runtime_error("no"); });
  EXPECT_THROW(static_cast<void>(worker.start()), std::runtime_error);
  EXPECT_EQ(worker.loop(), nullptr);
}

TEST(EventLoopThread, DestructionIsSafeInAnyState) {
  { EventLoopThread never_started("idle"); }
  {
    EventLoopThread running("running");
    static_cast<void>(running.start());
  }  // the destructor stops and joins
  EventLoopThread twice("twice");
  static_cast<void>(twice.start());
  EXPECT_THROW(static_cast<void>(twice.start()), std::logic_error);
}

TEST(EventLoopThread, TasksQueuedBeforeStopStillRun) {
  EventLoopThread worker("drain");
  reactor::EventLoop& loop = worker.start();
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i)
    loop.queue_in_loop([&ran] { ran.fetch_add(1); });
  worker.stop();
  EXPECT_EQ(ran.load(), 1000);
}

// The index of `loop` in the pool (what a failure should print, rather than a pointer); -1 for a
// loop that is not one of the pool's workers (the base loop).
int index_of(const EventLoopThreadPool& pool, const reactor::EventLoop& loop) {
  const auto& loops = pool.loops();
  for (std::size_t i = 0; i < loops.size(); ++i) {
    if (loops[i] == &loop) return static_cast<int>(i);
  }
  return -1;
}

TEST(EventLoopThreadPool, RoundRobinHandsLoopsOutInTurn) {
  reactor::EventLoop base;
  EventLoopThreadPool pool(base, LoopPoolOptions{.threads = 3});
  pool.start();
  ASSERT_EQ(pool.loops().size(), 3U);
  const std::set<reactor::EventLoop*> distinct(pool.loops().begin(), pool.loops().end());
  EXPECT_EQ(distinct.size(), 3U);
  std::vector<int> order;  // loop indexes, in the order acquire() handed them out
  order.reserve(6);
  for (int i = 0; i < 6; ++i)
    order.push_back(index_of(pool, pool.acquire()));
  const auto& loops = pool.loops();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(pool.connections_on(0), 2U);
  pool.release(*loops[0]);
  EXPECT_EQ(pool.connections_on(0), 1U);
}

TEST(EventLoopThreadPool, LeastConnectionsFillsTheEmptiestLoop) {
  reactor::EventLoop base;
  EventLoopThreadPool pool(
      base, LoopPoolOptions{.threads = 3, .placement = Placement::least_connections});
  pool.start();
  const auto& loops = pool.loops();
  EXPECT_EQ(index_of(pool, pool.acquire()), 0);
  EXPECT_EQ(index_of(pool, pool.acquire()), 1);
  EXPECT_EQ(index_of(pool, pool.acquire()), 2);
  pool.release(*loops[1]);  // loop 1 now has the fewest
  EXPECT_EQ(index_of(pool, pool.acquire()), 1);
  pool.release(*loops[2]);
  pool.release(*loops[0]);
  EXPECT_EQ(index_of(pool, pool.acquire()), 0) << "a tie goes to the lowest index";
  EXPECT_EQ(pool.connections_on(0), 1U);
  EXPECT_EQ(pool.connections_on(1), 1U);
  EXPECT_EQ(pool.connections_on(2), 0U);
}

TEST(EventLoopThreadPool, WithoutThreadsTheBaseLoopDoesEverything) {
  reactor::EventLoop base;
  EventLoopThreadPool pool(base, LoopPoolOptions{.threads = 0});
  pool.start();
  EXPECT_TRUE(pool.loops().empty());
  EXPECT_EQ(&pool.acquire(), &base);
}

TEST(EventLoopThreadPool, ForEachLoopRunsOnEveryWorkerThenDoneOnTheBase) {
  EventLoopThread base_thread("base");
  reactor::EventLoop& base = base_thread.start();
  EventLoopThreadPool pool(base, LoopPoolOptions{.threads = 4});
  pool.start();
  std::mutex mutex;
  std::set<avant::testing::ThreadTag> ran_on;
  std::promise<bool> done;
  pool.for_each_loop(
      [&](reactor::EventLoop& loop) {
        EXPECT_TRUE(loop.is_in_loop_thread());
        const std::lock_guard lock(mutex);
        ran_on.insert(avant::testing::this_thread());
      },
      [&] { done.set_value(base.is_in_loop_thread()); });
  auto finished = done.get_future();
  ASSERT_EQ(finished.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(finished.get()) << "done() runs on the base loop";
  const std::lock_guard lock(mutex);
  EXPECT_EQ(ran_on.size(), 4U) << "once on each worker thread";
}

TEST(EventLoopThreadPool, StopJoinsEveryWorker) {
  reactor::EventLoop base;
  EventLoopThreadPool pool(base, LoopPoolOptions{.threads = 2, .name_prefix = "w-"});
  pool.start();
  std::vector<std::string> names;
  for (reactor::EventLoop* loop : pool.loops()) {
    names.push_back(on_loop(*loop, [] { return this_thread_name(); }));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"w-0", "w-1"}));
  pool.stop();
  EXPECT_TRUE(pool.loops().empty());
  pool.stop();
}

}  // namespace
}  // namespace avant::thread
