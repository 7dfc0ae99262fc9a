// event_loop.hpp — the reactor: one thread, one epoll, many descriptors.
//
// One iteration of run():
//
//   1. wait in epoll_wait until a descriptor is ready, a timer is due (timerfd) or another thread
//      queued a task (eventfd) — or up to the poll timeout;
//   2. for each ready Channel, call its callbacks (read, write, close, error);
//   3. run the tasks queued with queue_in_loop, in the order they were queued; tasks queued while
//      these run wait for the next iteration (and wake it at once), so no task starves the loop.
//
// The rule about threads: an EventLoop belongs to the thread that constructed it. Everything it
// owns — channels, connections, timers — is touched on that thread only. Other threads talk to it
// through exactly two doors, run_in_loop() and queue_in_loop(), which take a task and wake the loop
// through an eventfd. The timer calls and cancel() use those doors too, and quit() sets a flag
// and writes the same eventfd, so all of them are safe from any thread. A thread has at most one
// EventLoop (the constructor enforces it).
//
// Lifetime: the loop must outlive every Channel registered with it; destroy it on its own thread,
// after run() returned. Tasks still queued at destruction are dropped without running. A quit()
// or queue_in_loop() from another thread may race with the loop's own exit: the loop's destructor
// waits until such a call is done with it, so "quit(), then join the loop's thread" is safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <avant/net/file_descriptor.hpp>
#include <avant/reactor/timer.hpp>

namespace avant::reactor {

class Channel;
class Poller;
class TimerQueue;
class EventLoop;

namespace detail {
// The loop made on the calling thread and not yet destroyed, or null: set at the end of its
// constructor, cleared in its destructor (event_loop_lifecycle.cpp). constinit: read without the
// call a thread_local that might need a dynamic initializer costs.
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): per-thread state by design
extern constinit thread_local EventLoop* t_current_loop;
}  // namespace detail

class EventLoop {
 public:
  using Task = std::function<void()>;

  // Throws std::logic_error if this thread already has an EventLoop, std::system_error if the
  // epoll, eventfd or timerfd cannot be created.
  EventLoop();
  // Loop thread only (asserted).
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  EventLoop(EventLoop&&) = delete;
  EventLoop& operator=(EventLoop&&) = delete;

  // Loop thread only. Runs iterations until quit() is called; returns after the iteration in
  // which quit took effect, once the tasks queued by then have run (and the tasks they queue, for
  // up to 16 rounds).
  void run();
  // Any thread. Makes run() return after its current iteration.
  void quit();

  // Any thread. On the loop thread runs `task` now; elsewhere queues it (queue_in_loop).
  void run_in_loop(Task task);
  // Any thread. Runs `task` on the loop thread in step 3 of an iteration, after every task queued
  // before it (FIFO per loop), and wakes the loop if needed.
  void queue_in_loop(Task task);
  // Any thread. Tasks queued and not yet started.
  [[nodiscard]] std::size_t queued_tasks() const;

  // Timers; any thread. The task runs on the loop thread. run_every repeats with a fixed period
  // from the first expiry (a late run does not shift later ones, and missed runs are not replayed).
  TimerId run_at(TimePoint when, Task task);
  TimerId run_after(Duration delay, Task task);
  TimerId run_every(Duration period, Task task);
  // Any thread. Cancels a pending timer; a timer that already fired, was already cancelled, or is
  // running right now (cancelling itself from its own callback) is fine: a repeating timer then
  // stops, a one-shot simply does not run again.
  void cancel(TimerId id);

  [[nodiscard]] bool is_in_loop_thread() const noexcept {
    // The thread's own loop pointer first: one load, no call, on the hot path (a send, a write
    // from a handler). The id covers what it does not: a loop still being made or destroyed.
    return detail::t_current_loop == this || thread_id_ == std::this_thread::get_id();
  }
  // Aborts the process, naming both threads, when called off the loop thread: a threading bug is
  // found at its cause, not as memory corruption later.
  void assert_in_loop_thread() const noexcept {
    if (!is_in_loop_thread()) abort_not_in_loop_thread();
  }
  // The loop of the calling thread, or nullptr.
  [[nodiscard]] static EventLoop* of_current_thread() noexcept;

  // Any thread. Completed iterations of run() (how busy the loop is: tests count them).
  [[nodiscard]] std::uint64_t iterations() const noexcept {
    return iterations_.load(std::memory_order_relaxed);
  }
  // Loop thread. When the current iteration's epoll_wait returned.
  [[nodiscard]] TimePoint poll_time() const noexcept { return poll_time_; }

  // Channel plumbing, called by Channel; loop thread only.
  void update_channel(Channel& channel);
  void remove_channel(Channel& channel);
  [[nodiscard]] bool has_channel(const Channel& channel) const;
  // Loop thread. Channels registered, including the loop's own two (wake-up eventfd, timerfd):
  // tests check that everything else is gone when its owner is.
  [[nodiscard]] std::size_t channel_count() const;
  // Loop thread. Timers scheduled and not yet fired or cancelled.
  [[nodiscard]] std::size_t timer_count() const;

  // Per-loop storage: one T per loop, made (default-constructed) on first use on the loop's thread
  // and destroyed with the loop, on that thread, in the reverse order of first use. What lives on
  // a loop (a Lua VM, metrics counters, a cache) goes here, so the hot path needs no lock:
  //
  //   auto& counters = loop.local<HttpCounters>();   // this loop's own
  //
  // A slot is found by a per-type index (a vector lookup, no hashing). Loop thread only.
  template <class T>
  T& local() {
    assert_in_loop_thread();
    const std::size_t slot = local_slot<T>();
    if (slot >= locals_.size()) locals_.resize(slot + 1);
    Local& entry = locals_[slot];
    if (entry.value == nullptr) {
      entry.value = new T();  // NOLINT(cppcoreguidelines-owning-memory): owned by entry
      // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): the slot owns what local() made
      entry.destroy = [](void* p) { delete static_cast<T*>(p); };
      local_order_.push_back(slot);
    }
    return *static_cast<T*>(entry.value);
  }
  // Loop thread. Runs `task` when the loop is destroyed, before its local<T>() values are (tasks
  // newest first): the place to tear down what lives on the loop while all of it still exists.
  void run_at_end(Task task) {
    assert_in_loop_thread();
    at_end_.push_back(std::move(task));
  }

  // The loop's index in the pool that runs it (worker-<index>), set by the pool before the loop
  // serves anything; 0 for a loop that is in no pool. Part of every connection id (the original's
  // GID layout, docs/original-avant.md). Any thread once set.
  [[nodiscard]] std::size_t pool_index() const noexcept {
    return pool_index_.load(std::memory_order_relaxed);
  }
  void set_pool_index(std::size_t index) noexcept {
    pool_index_.store(index, std::memory_order_relaxed);
  }

 private:
  struct Local {
    void* value = nullptr;
    void (*destroy)(void*) = nullptr;
  };
  // A process-wide index per type T, handed out on first use.
  static std::size_t next_local_slot() noexcept;
  template <class T>
  static std::size_t local_slot() noexcept {
    static const std::size_t slot = next_local_slot();
    return slot;
  }

  [[noreturn]] void abort_not_in_loop_thread() const noexcept;
  void wake_up_locked();  // mutex_ held
  void drain_wake_up();
  void run_queued_tasks();

  const std::thread::id thread_id_;
  std::atomic<bool> quit_{false};
  std::atomic<std::uint64_t> iterations_{0};
  TimePoint poll_time_{};
  bool handling_events_ = false;  // loop thread only

  std::unique_ptr<Poller> poller_;
  std::unique_ptr<TimerQueue> timers_;
  net::FileDescriptor wake_fd_;
  std::unique_ptr<Channel> wake_channel_;
  std::vector<Channel*> active_;

  mutable std::mutex mutex_;
  std::vector<Task> queue_;  // guarded by mutex_
  // queue_ is not empty (written under mutex_): an iteration with nothing queued takes no lock.
  std::atomic<bool> has_tasks_{false};
  std::atomic<bool> wake_pending_{false};
  std::atomic<std::uint64_t> next_timer_id_{1};

  std::atomic<std::size_t> pool_index_{0};
  std::vector<Task> at_end_;              // loop thread only
  std::vector<Local> locals_;             // loop thread only; by slot
  std::vector<std::size_t> local_order_;  // slots in order of first use, for destruction
};

}  // namespace avant::reactor
