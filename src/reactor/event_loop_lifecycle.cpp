// The given half of event_loop.hpp: construction and destruction (one loop per thread), timers,
// and the threading check. Lab 02 does not replace this file.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <sys/eventfd.h>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/poller.hpp>

#include "timer_queue.hpp"

namespace avant::reactor {

// The one loop of each thread (one loop per thread is enforced through it).
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): per-thread state by design
constinit thread_local EventLoop* detail::t_current_loop = nullptr;

namespace {

std::thread::id claim_this_thread() {
  if (detail::t_current_loop != nullptr) {
    throw std::logic_error(
        "EventLoop: this thread already has an event loop (one loop per thread)");
  }
  return std::this_thread::get_id();
}

}  // namespace

EventLoop::EventLoop()
    : thread_id_(claim_this_thread()),
      poller_(std::make_unique<Poller>()),
      timers_(std::make_unique<TimerQueue>(*this)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!wake_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  wake_channel_ = std::make_unique<Channel>(*this, wake_fd_.get());
  wake_channel_->on_read([this] { drain_wake_up(); });
  wake_channel_->enable_reading();
  detail::t_current_loop = this;
}

EventLoop::~EventLoop() {
  assert_in_loop_thread();
  // Wait for a quit() or queue_in_loop() still inside its critical section on another thread.
  { const std::lock_guard lock(mutex_); }
  // The end tasks, then the per-loop values, newest first, while the loop they may use (timers,
  // channels) is whole. Either may add more of both: they are taken until none is left.
  while (!at_end_.empty() || !local_order_.empty()) {
    if (!at_end_.empty()) {
      const Task task = std::move(at_end_.back());
      at_end_.pop_back();
      task();
      continue;
    }
    Local& entry = locals_[local_order_.back()];
    local_order_.pop_back();
    entry.destroy(std::exchange(entry.value, nullptr));
  }
  wake_channel_->remove();
  wake_channel_.reset();
  timers_.reset();
  detail::t_current_loop = nullptr;
}

std::size_t EventLoop::next_local_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

EventLoop* EventLoop::of_current_thread() noexcept {
  return detail::t_current_loop;
}

TimerId EventLoop::run_at(TimePoint when, Task task) {
  const TimerId id{next_timer_id_.fetch_add(1, std::memory_order_relaxed)};
  run_in_loop([this, id, when, task = std::move(task)]() mutable {
    timers_->add(id, when, Duration::zero(), std::move(task));
  });
  return id;
}

TimerId EventLoop::run_after(Duration delay, Task task) {
  return run_at(Clock::now() + delay, std::move(task));
}

TimerId EventLoop::run_every(Duration period, Task task) {
  if (period <= Duration::zero()) throw std::invalid_argument("EventLoop::run_every: period <= 0");
  const TimerId id{next_timer_id_.fetch_add(1, std::memory_order_relaxed)};
  run_in_loop([this, id, period, task = std::move(task)]() mutable {
    timers_->add(id, Clock::now() + period, period, std::move(task));
  });
  return id;
}

void EventLoop::cancel(TimerId id) {
  if (!id.valid()) return;
  run_in_loop([this, id] { timers_->cancel(id); });
}

std::size_t EventLoop::channel_count() const {
  assert_in_loop_thread();
  return poller_->channel_count();
}

std::size_t EventLoop::timer_count() const {
  assert_in_loop_thread();
  return timers_->size();
}

void EventLoop::abort_not_in_loop_thread() const noexcept {
  std::ostringstream text;
  text << "avant: EventLoop " << static_cast<const void*>(this) << " belongs to thread "
       << thread_id_ << " but was used from thread " << std::this_thread::get_id()
       << " (use run_in_loop/queue_in_loop to cross threads)\n";
  std::fputs(text.str().c_str(), stderr);
  std::abort();
}

}  // namespace avant::reactor
