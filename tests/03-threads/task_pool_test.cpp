// Unit tests of TaskPool: work off the loops, results back on the loop, and the bounded queue.
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <avant/testing/threads.hpp>
#include <avant/testing/watchdog.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::thread {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// A gate the test opens: tasks that wait on it keep the pool's threads busy on purpose.
class Gate {
 public:
  void wait() { opened_.wait(); }
  void open() { promise_.set_value(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_ = promise_.get_future().share();
};

// Waits, with a deadline, for a condition another thread makes true (yielding, never sleeping).
template <class P>
bool eventually(P done) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

using avant::testing::Within;
using namespace std::chrono_literals;

// What the watchdog prints when a submit() does not come back while a task runs.
constexpr const char* kSubmitMustNotWait =
    "submit() must not wait for a running task to finish (only for room, and only under "
    "QueueFullPolicy::block): does run() hold mutex_ while it runs a task?";

// submit() that must come back within 2 s whatever it answers (the watchdog fails the test if not).
SubmitStatus submit_now(TaskPool& pool, std::function<void()> work) {
  const Within limit(2s, "submit() while a task runs", kSubmitMustNotWait);
  return pool.submit(std::move(work));
}

// Submits a task that holds a pool thread until the gate opens, and waits until it does hold it.
void occupy(TaskPool& pool, Gate& gate) {
  auto busy = std::make_shared<std::atomic<bool>>(false);
  ASSERT_EQ(pool.submit([busy, &gate] {
    *busy = true;
    gate.wait();
  }),
            SubmitStatus::accepted);
  ASSERT_TRUE(eventually([&] { return busy->load(); }))
      << "no pool thread took the task within 10 s: does run() wait on has_work_ with a "
         "predicate, and does submit() notify has_work_ after queueing?";
}

TEST(TaskPool, RunsWorkOffTheCallingThread) {
  TaskPool pool(TaskPoolOptions{.threads = 2});
  std::promise<avant::testing::ThreadTag> ran_on;
  ASSERT_EQ(pool.submit([&] { ran_on.set_value(avant::testing::this_thread()); }),
            SubmitStatus::accepted);
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(kDeadline), std::future_status::ready);
  EXPECT_NE(future.get(), avant::testing::this_thread());
}

TEST(TaskPool, ResultsComeBackOnTheLoopThatAsked) {
  EventLoopThread loop_thread("asker");
  reactor::EventLoop& loop = loop_thread.start();
  TaskPool pool;
  std::promise<std::pair<int, bool>> delivered;
  std::promise<SubmitStatus> submitted;
  loop.run_in_loop([&] {
    submitted.set_value(pool.submit<int>(
        [] { return 6 * 7; }, loop,
        [&](int value, const std::exception_ptr& error) {
          delivered.set_value({value, loop.is_in_loop_thread() && error == nullptr});
        }));
  });
  EXPECT_EQ(submitted.get_future().get(), SubmitStatus::accepted);
  auto future = delivered.get_future();
  ASSERT_EQ(future.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(future.get(), std::make_pair(42, true));
}

TEST(TaskPool, AnExceptionComesBackAsAValue) {
  EventLoopThread loop_thread("asker");
  reactor::EventLoop& loop = loop_thread.start();
  TaskPool pool;
  std::promise<std::string> delivered;
  ASSERT_EQ(pool.submit<int>([]() -> int { throw std::runtime_error("disk on fire"); }, loop,
                             [&](int, const std::exception_ptr& error) {
                               try {
                                 std::rethrow_exception(error);
                               } catch (const std::exception& e) {
                                 delivered.set_value(e.what());
                               }
                             }),
            SubmitStatus::accepted);
  auto future = delivered.get_future();
  ASSERT_EQ(future.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(future.get(), "disk on fire");
}

TEST(TaskPool, AFullQueueRejectsAndStaysBounded) {
  TaskPool pool(TaskPoolOptions{.threads = 1, .max_queued = 2});
  Gate gate;
  occupy(pool, gate);
  EXPECT_EQ(submit_now(pool, [] {}), SubmitStatus::accepted);
  EXPECT_EQ(submit_now(pool, [] {}), SubmitStatus::accepted);
  EXPECT_EQ(submit_now(pool, [] {}), SubmitStatus::rejected_full) << "max_queued = 2";
  EXPECT_EQ(pool.queued(), 2U);
  gate.open();
  ASSERT_TRUE(eventually([&] { return pool.queued() == 0; }))
      << "the gate opened but the queued tasks did not run within 10 s: does run() take the "
         "next task after one finishes?";
  EXPECT_EQ(submit_now(pool, [] {}), SubmitStatus::accepted) << "room again";
}

TEST(TaskPool, AFullQueueBlocksTheSubmitterUntilThereIsRoom) {
  TaskPool pool(
      TaskPoolOptions{.threads = 1, .max_queued = 1, .when_full = QueueFullPolicy::block});
  Gate gate;
  occupy(pool, gate);
  ASSERT_EQ(submit_now(pool, [] {}), SubmitStatus::accepted);  // fills the queue
  std::promise<SubmitStatus> third;
  std::thread submitter([&] { third.set_value(pool.submit([] {})); });
  ASSERT_TRUE(eventually([&] { return pool.waiting_submitters() == 1; }))
      << "the third submit waits for room instead of growing the queue: under "
         "QueueFullPolicy::block, submit() counts itself in waiting_ and waits on has_room_";
  EXPECT_EQ(pool.queued(), 1U);
  gate.open();
  auto status = third.get_future();
  ASSERT_EQ(status.wait_for(kDeadline), std::future_status::ready)
      << "the blocked submit did not return within 10 s of room appearing: does run() notify "
         "has_room_ after taking a task?";
  EXPECT_EQ(status.get(), SubmitStatus::accepted);
  submitter.join();
}

TEST(TaskPool, StopRunsWhatIsQueuedThenRefuses) {
  std::atomic<int> ran{0};
  TaskPool pool(TaskPoolOptions{.threads = 2, .max_queued = 1000});
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(pool.submit([&] { ran.fetch_add(1); }), SubmitStatus::accepted);
  {
    const Within limit(5s, "stop() with 500 short tasks queued",
                       "stop() sets stopping_, wakes every worker and joins them; a worker "
                       "leaves run() only when stopping_ is set AND the queue is empty");
    pool.stop();
  }
  EXPECT_EQ(ran.load(), 500);
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::stopped);
  pool.stop();  // idempotent
}

TEST(TaskPool, StopReleasesBlockedSubmitters) {
  TaskPool pool(
      TaskPoolOptions{.threads = 1, .max_queued = 1, .when_full = QueueFullPolicy::block});
  Gate gate;
  occupy(pool, gate);
  ASSERT_EQ(submit_now(pool, [] {}), SubmitStatus::accepted);
  std::promise<SubmitStatus> blocked;
  std::thread submitter([&] { blocked.set_value(pool.submit([] {})); });
  ASSERT_TRUE(eventually([&] { return pool.waiting_submitters() == 1; }));
  std::thread stopper([&] { pool.stop(); });
  auto status = blocked.get_future();
  ASSERT_EQ(status.wait_for(kDeadline), std::future_status::ready)
      << "a submitter waiting for room was not released by stop() within 10 s: stop() must "
         "notify has_room_ too, and the waiting submit() must check stopping_";
  EXPECT_EQ(status.get(), SubmitStatus::stopped);
  gate.open();
  stopper.join();
  submitter.join();
}

}  // namespace
}  // namespace avant::thread
