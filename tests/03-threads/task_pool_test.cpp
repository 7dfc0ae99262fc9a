// Unit tests of TaskPool: work off the loops, results back on the loop, and the bounded queue.
#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

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

// Submits a task that holds a pool thread until the gate opens, and waits until it does hold it.
void occupy(TaskPool& pool, Gate& gate) {
  auto busy = std::make_shared<std::atomic<bool>>(false);
  ASSERT_EQ(pool.submit([busy, &gate] {
    *busy = true;
    gate.wait();
  }),
            SubmitStatus::accepted);
  ASSERT_TRUE(eventually([&] { return busy->load(); })) << "a pool thread took the task";
}

TEST(TaskPool, RunsWorkOffTheCallingThread) {
  TaskPool pool(TaskPoolOptions{.threads = 2});
  std::promise<std::thread::id> ran_on;
  ASSERT_EQ(pool.submit([&] { ran_on.set_value(std::this_thread::get_id()); }),
            SubmitStatus::accepted);
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(kDeadline), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
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
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::accepted);
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::accepted);
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::rejected_full) << "max_queued = 2";
  EXPECT_EQ(pool.queued(), 2U);
  gate.open();
  ASSERT_TRUE(eventually([&] { return pool.queued() == 0; }));
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::accepted) << "room again";
}

TEST(TaskPool, AFullQueueBlocksTheSubmitterUntilThereIsRoom) {
  TaskPool pool(
      TaskPoolOptions{.threads = 1, .max_queued = 1, .when_full = QueueFullPolicy::block});
  Gate gate;
  occupy(pool, gate);
  ASSERT_EQ(pool.submit([] {}), SubmitStatus::accepted);  // fills the queue
  std::promise<SubmitStatus> third;
  std::thread submitter([&] { third.set_value(pool.submit([] {})); });
  ASSERT_TRUE(eventually([&] { return pool.waiting_submitters() == 1; }))
      << "the third submit waits for room instead of growing the queue";
  EXPECT_EQ(pool.queued(), 1U);
  gate.open();
  auto status = third.get_future();
  ASSERT_EQ(status.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(status.get(), SubmitStatus::accepted);
  submitter.join();
}

TEST(TaskPool, StopRunsWhatIsQueuedThenRefuses) {
  std::atomic<int> ran{0};
  TaskPool pool(TaskPoolOptions{.threads = 2, .max_queued = 1000});
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(pool.submit([&] { ran.fetch_add(1); }), SubmitStatus::accepted);
  pool.stop();
  EXPECT_EQ(ran.load(), 500);
  EXPECT_EQ(pool.submit([] {}), SubmitStatus::stopped);
  pool.stop();  // idempotent
}

TEST(TaskPool, StopReleasesBlockedSubmitters) {
  TaskPool pool(
      TaskPoolOptions{.threads = 1, .max_queued = 1, .when_full = QueueFullPolicy::block});
  Gate gate;
  occupy(pool, gate);
  ASSERT_EQ(pool.submit([] {}), SubmitStatus::accepted);
  std::promise<SubmitStatus> blocked;
  std::thread submitter([&] { blocked.set_value(pool.submit([] {})); });
  ASSERT_TRUE(eventually([&] { return pool.waiting_submitters() == 1; }));
  std::thread stopper([&] { pool.stop(); });
  auto status = blocked.get_future();
  ASSERT_EQ(status.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(status.get(), SubmitStatus::stopped);
  gate.open();
  stopper.join();
  submitter.join();
}

}  // namespace
}  // namespace avant::thread
