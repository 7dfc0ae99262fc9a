// task_pool.hpp — a bounded pool of threads for blocking work, off the event loops.
//
//   loop thread ──submit(work, loop, done)──> [ queue: at most max_queued ] ──> worker threads
//        ^                                                                        │
//        └─────────────── done(result) via loop.queue_in_loop ───────────────────┘
//
// Event loops must never block; file I/O, DNS lookups and Lua calls that may block go here, and
// their results come back to the loop that asked, through its task queue. The queue is bounded:
// when it is full, submit() answers rejected_full (QueueFullPolicy::reject, the default and the
// only sensible choice on a loop thread) or waits for room (QueueFullPolicy::block, for producers
// that may wait). Nothing here is ever unbounded.
//
// Threads: every method from any thread, except stop() and the destructor from a task of the pool
// itself (a thread cannot join itself). The destructor runs what is already queued, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <avant/reactor/event_loop.hpp>

namespace avant::thread {

enum class QueueFullPolicy : std::uint8_t { reject, block };

struct TaskPoolOptions {
  std::size_t threads = 2;        // worker threads
  std::size_t max_queued = 1024;  // tasks waiting for a thread, at most
  QueueFullPolicy when_full = QueueFullPolicy::reject;
  std::string name_prefix = "task-";  // threads are named task-0, task-1, ...
};

enum class [[nodiscard]] SubmitStatus : std::uint8_t{accepted, rejected_full, stopped};

class TaskPool {
 public:
  explicit TaskPool(TaskPoolOptions options = {});  // starts the threads
  ~TaskPool();                                      // stop()
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;
  TaskPool(TaskPool&&) = delete;
  TaskPool& operator=(TaskPool&&) = delete;

  // Queues `work` for a worker thread.
  SubmitStatus submit(std::function<void()> work);

  // Runs `work` on a worker thread, then `done(result, error)` on `loop`'s thread: error is null,
  // or what `work` threw (result is then default-constructed). If the submit is refused, done is
  // never called: the caller handles the returned status on the spot.
  template <class R>
  SubmitStatus submit(std::function<R()> work, reactor::EventLoop& loop,
                      std::function<void(R, std::exception_ptr)> done) {
    return submit([work = std::move(work), &loop, done = std::move(done)]() mutable {
      R result{};
      std::exception_ptr error;
      try {
        result = work();
      } catch (...) {
        error = std::current_exception();
      }
      // Everything moves to the loop: no reference to the exception stays on this thread, where
      // its last release would race (as far as TSan can see) with the loop reading it.
      loop.queue_in_loop(
          [done = std::move(done), result = std::move(result), error = std::move(error)]() mutable {
            done(std::move(result), std::move(error));
          });
    });
  }

  // Stops taking work, runs what is queued, joins the threads. Idempotent.
  void stop();

  [[nodiscard]] std::size_t queued() const;
  // Submitters waiting for room (QueueFullPolicy::block), for tests and metrics.
  [[nodiscard]] std::size_t waiting_submitters() const;

 private:
  void run(std::size_t index);

  const TaskPoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable has_work_;
  std::condition_variable has_room_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  std::size_t waiting_ = 0;                  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
  std::once_flag stopped_;
};

}  // namespace avant::thread
