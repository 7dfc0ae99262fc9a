// event_loop_thread.hpp — an EventLoop running on a thread of its own.
//
// start() launches the thread, which constructs its EventLoop (so the loop belongs to that
// thread), runs an optional init function on it, and then runs the loop; start() returns once the
// loop exists. stop() quits the loop and joins the thread. The thread is named (visible in
// `top -H` and `ps -L`), as the original Avant named its threads: "main", "worker-<i>", "other".
//
// Lifetime: the EventLoop lives on the thread's stack and is gone after stop(); objects owned by
// the loop (connections, timers) must be destroyed on it before that, from a task. Tasks queued
// before stop() still run: the loop drains its queue before its thread ends.
// Threads: start(), stop() and the destructor from any thread except the loop's own.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <avant/reactor/event_loop.hpp>

namespace avant::thread {

class EventLoopThread {
 public:
  using InitCallback = std::function<void(reactor::EventLoop&)>;

  // `name`: at most 15 characters are shown by the kernel (pthread_setname_np).
  explicit EventLoopThread(std::string name, InitCallback init = {});
  // Stops and joins if still running.
  ~EventLoopThread();
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;
  EventLoopThread(EventLoopThread&&) = delete;
  EventLoopThread& operator=(EventLoopThread&&) = delete;

  // Starts the thread and returns its loop once it exists. Throws std::logic_error if already
  // started, and rethrows what the loop's construction or the init callback threw.
  reactor::EventLoop& start();
  // Quits the loop and joins the thread; idempotent.
  void stop();

  // The loop while the thread runs, else nullptr.
  [[nodiscard]] reactor::EventLoop* loop() const;
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  void run();

  const std::string name_;
  InitCallback init_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable started_;
  reactor::EventLoop* loop_ = nullptr;  // guarded by mutex_
  std::exception_ptr failure_;          // guarded by mutex_
  bool ready_ = false;                  // guarded by mutex_
};

// Names the calling thread, as `top -H` and `ps -L` show it; Linux keeps 15 characters. Naming a
// process's first thread renames the process too (`ps`, `pkill`): see docs/architecture.md.
void set_thread_name(const std::string& name);

}  // namespace avant::thread
