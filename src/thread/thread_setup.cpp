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
