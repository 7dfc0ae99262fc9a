// event_loop_thread_pool.hpp — N worker loops, each on its own thread, behind one base loop.
//
//   base loop (accepts) ──acquire()──> worker-0 loop   worker-1 loop   ...   worker-(N-1) loop
//                                       its connections for life, never migrating
//
// The pool is a tcp::LoopSource: a TcpServer on the base loop that is given the pool asks
// acquire() where each new connection goes; the pool answers by its placement policy and counts
// the connection on that loop until release(). With 0 threads everything runs on the base loop
// (chapter 02's single-loop server).
//
// Placement: round_robin hands loops out in turn (cheapest, even when connections are alike);
// least_connections picks the loop with the fewest open connections (better when connections
// live for very different times), the lowest index on a tie.
//
// One pool serves every TCP listener of a process (servers borrow it, they do not own it: see
// ThreadedTcpServer). What lives on a loop is set up and torn down by two hooks, each run on the
// loop's own thread: on_loop_start(loop, index) before the loop serves anything (start() returns
// after every one of them ran), on_loop_stop(loop, index) when the loop ends — after stop(), once
// its tasks have run, so after its last connection closed — just before the loop and its
// EventLoop::local<T>() values are destroyed. Each loop knows its index (EventLoop::pool_index()).
// With 0 threads the hooks run for the base loop, index 0: the start hook at start() (inline on
// the base loop's thread, else queued to it), the stop hook when the base loop is destroyed.
// A start hook that throws makes start() throw; a stop hook must not throw.
//
// Threads: start(), stop() and for_each_loop() from any thread except a worker's own; acquire()
// on the base loop's thread; release() and the counters from any thread. acquire(), release() and
// for_each_loop() read the list of loops without a lock: call them between start() and stop()
// (a TcpServer does: its connections are gone before the pool stops). A stopped pool does not
// start again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/loop_source.hpp>
#include <avant/thread/event_loop_thread.hpp>

namespace avant::thread {

enum class Placement : std::uint8_t { round_robin, least_connections };

using LoopHook = std::function<void(reactor::EventLoop& loop, std::size_t index)>;

struct LoopPoolOptions {
  std::size_t threads = 4;  // the original's worker_cnt; 0: the base loop only
  Placement placement = Placement::round_robin;
  std::string name_prefix = "worker-";  // threads are named worker-0, worker-1, ...
  LoopHook on_loop_start{};             // on each loop's thread, before it serves (see above)
  LoopHook on_loop_stop{};              // on each loop's thread, after its last task
};

class EventLoopThreadPool final : public tcp::LoopSource {
 public:
  EventLoopThreadPool(reactor::EventLoop& base, LoopPoolOptions options);
  ~EventLoopThreadPool() override;  // stop()
  EventLoopThreadPool(const EventLoopThreadPool&) = delete;
  EventLoopThreadPool& operator=(const EventLoopThreadPool&) = delete;
  EventLoopThreadPool(EventLoopThreadPool&&) = delete;
  EventLoopThreadPool& operator=(EventLoopThreadPool&&) = delete;

  // Starts every worker thread; returns when all their loops exist. Idempotent.
  void start();
  // Quits and joins every worker (tasks already queued to them still run). Idempotent.
  void stop();

  // Base loop thread: the loop for a new connection, counted on it until release().
  [[nodiscard]] reactor::EventLoop& acquire() override;
  // Any thread: a connection placed on `loop` by acquire() has closed.
  void release(reactor::EventLoop& loop) noexcept override;

  // The worker loops (empty with 0 threads); valid between start() and stop().
  [[nodiscard]] const std::vector<reactor::EventLoop*>& loops() const noexcept { return loops_; }
  // Connections currently counted on worker i.
  [[nodiscard]] std::size_t connections_on(std::size_t i) const noexcept;
  [[nodiscard]] reactor::EventLoop& base() const noexcept { return base_; }

  // Any thread: runs fn on every worker loop, on that loop's thread, then done() on the base loop
  // once all have run (with 0 threads, fn runs on the base loop). Used for broadcasts.
  void for_each_loop(std::function<void(reactor::EventLoop&)> fn, std::function<void()> done = {});

  // The number of worker threads the pool runs (options.threads).
  [[nodiscard]] std::size_t threads() const noexcept { return options_.threads; }

 private:
  // Given (thread_lifecycle.cpp): what every loop of the pool runs first, on its own thread: records
  // its index and runs on_loop_start, and arranges on_loop_stop for the loop's end. start() passes
  // it to each EventLoopThread as the init callback, and runs it for the base loop with 0 threads.
  void loop_started(reactor::EventLoop& loop, std::size_t index);

  reactor::EventLoop& base_;
  const LoopPoolOptions options_;
  std::vector<std::unique_ptr<EventLoopThread>> threads_;
  std::vector<reactor::EventLoop*> loops_;
  std::unique_ptr<std::atomic<std::size_t>[]> counts_;  // one per worker
  std::size_t next_ = 0;                                // round robin cursor (base loop thread)
  bool started_ = false;
};

}  // namespace avant::thread
