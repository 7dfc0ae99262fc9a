#include <avant/reactor/log.hpp>
#include <avant/thread/event_loop_thread.hpp>
#include <avant/thread/task_pool.hpp>

namespace avant::thread {

TaskPool::TaskPool(TaskPoolOptions options) : options_(std::move(options)) {
  threads_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this, i] { run(i); });
  }
}

SubmitStatus TaskPool::submit(std::function<void()> work) {
  std::unique_lock lock(mutex_);
  if (stopping_) return SubmitStatus::stopped;
  if (queue_.size() >= options_.max_queued) {
    if (options_.when_full == QueueFullPolicy::reject) return SubmitStatus::rejected_full;
    ++waiting_;
    has_room_.wait(lock, [this] { return stopping_ || queue_.size() < options_.max_queued; });
    --waiting_;
    if (stopping_) return SubmitStatus::stopped;
  }
  queue_.push_back(std::move(work));
  lock.unlock();
  has_work_.notify_one();
  return SubmitStatus::accepted;
}

void TaskPool::run(std::size_t index) {
  set_thread_name(options_.name_prefix + std::to_string(index));
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been taken
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    has_room_.notify_one();
    try {
      work();
    } catch (const std::exception& e) {
      reactor::log::error("task-pool", std::string("a task threw: ") + e.what());
    } catch (...) {
      reactor::log::error("task-pool", "a task threw a non-exception");
    }
  }
}

void TaskPool::stop() {
  std::call_once(stopped_, [this] {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    has_work_.notify_all();
    has_room_.notify_all();
    for (std::thread& thread : threads_)
      thread.join();
  });
}

}  // namespace avant::thread
