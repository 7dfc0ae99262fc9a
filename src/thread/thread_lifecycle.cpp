// The given parts of module thread: construction, destruction and accessors of EventLoopThread,
// EventLoopThreadPool and TaskPool, and set_thread_name(). Lab 03 does not replace this file.
#include <string>
#include <utility>

#include <pthread.h>

#include <avant/thread/event_loop_thread.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/thread/task_pool.hpp>

namespace avant::thread {

void set_thread_name(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

// --- EventLoopThread ---

EventLoopThread::EventLoopThread(std::string name, InitCallback init)
    : name_(std::move(name)), init_(std::move(init)) {}

EventLoopThread::~EventLoopThread() {
  stop();
}

reactor::EventLoop* EventLoopThread::loop() const {
  const std::lock_guard lock(mutex_);
  return loop_;
}

// --- EventLoopThreadPool ---

EventLoopThreadPool::EventLoopThreadPool(reactor::EventLoop& base, LoopPoolOptions options)
    : base_(base),
      options_(std::move(options)),
      counts_(std::make_unique<std::atomic<std::size_t>[]>(options_.threads)) {}

EventLoopThreadPool::~EventLoopThreadPool() {
  stop();
}

void EventLoopThreadPool::loop_started(reactor::EventLoop& loop, std::size_t index) {
  loop.set_pool_index(index);
  if (options_.on_loop_stop) {
    // When the loop ends, on its thread, after run() returned and its last task ran, before its
    // per-loop values go. A copy of the hook: the pool may be gone by then (0 threads).
    loop.run_at_end([hook = options_.on_loop_stop, &loop, index] { hook(loop, index); });
  }
  if (options_.on_loop_start) options_.on_loop_start(loop, index);
}

std::size_t EventLoopThreadPool::connections_on(std::size_t i) const noexcept {
  return i < options_.threads ? counts_[i].load(std::memory_order_relaxed) : 0;
}

// --- TaskPool (the constructor, which starts the threads, is the lab's) ---

TaskPool::~TaskPool() {
  stop();
}

std::size_t TaskPool::queued() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t TaskPool::waiting_submitters() const {
  const std::lock_guard lock(mutex_);
  return waiting_;
}

}  // namespace avant::thread
