#include <avant/thread/event_loop_thread_pool.hpp>

namespace avant::thread {

void EventLoopThreadPool::start() {
  if (started_) return;
  started_ = true;
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.push_back(std::make_unique<EventLoopThread>(
        options_.name_prefix + std::to_string(i),
        [this, i](reactor::EventLoop& loop) { loop_started(loop, i); }));
    loops_.push_back(&threads_.back()->start());
  }
  if (options_.threads == 0) base_.run_in_loop([this] { loop_started(base_, 0); });
}

void EventLoopThreadPool::stop() {
  for (auto& thread : threads_)
    thread->stop();
  threads_.clear();
  loops_.clear();
}

reactor::EventLoop& EventLoopThreadPool::acquire() {
  base_.assert_in_loop_thread();
  if (loops_.empty()) return base_;
  std::size_t chosen = 0;
  if (options_.placement == Placement::round_robin) {
    chosen = next_;
    next_ = (next_ + 1) % loops_.size();
  } else {
    for (std::size_t i = 1; i < loops_.size(); ++i) {
      if (counts_[i].load(std::memory_order_relaxed) <
          counts_[chosen].load(std::memory_order_relaxed)) {
        chosen = i;
      }
    }
  }
  counts_[chosen].fetch_add(1, std::memory_order_relaxed);
  return *loops_[chosen];
}

void EventLoopThreadPool::release(reactor::EventLoop& loop) noexcept {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i] == &loop) {
      counts_[i].fetch_sub(1, std::memory_order_relaxed);
      return;
    }
  }
}

void EventLoopThreadPool::for_each_loop(std::function<void(reactor::EventLoop&)> fn,
                                        std::function<void()> done) {
  if (loops_.empty()) {
    base_.run_in_loop([base = &base_, fn = std::move(fn), done = std::move(done)] {
      fn(*base);
      if (done) done();
    });
    return;
  }
  // Shared by the per-loop tasks: the last one to finish hands `done` to the base loop.
  auto remaining = std::make_shared<std::atomic<std::size_t>>(loops_.size());
  auto shared_fn = std::make_shared<std::function<void(reactor::EventLoop&)>>(std::move(fn));
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (reactor::EventLoop* loop : loops_) {
    loop->run_in_loop([this, loop, remaining, shared_fn, shared_done] {
      (*shared_fn)(*loop);
      if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1 && *shared_done) {
        base_.queue_in_loop([shared_done] { (*shared_done)(); });
      }
    });
  }
}

}  // namespace avant::thread
