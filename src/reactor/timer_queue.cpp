#include "timer_queue.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/timerfd.h>
#include <unistd.h>

#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/trace.hpp>

namespace avant::reactor {

TimerQueue::TimerQueue(EventLoop& loop)
    : loop_(loop),
      timer_fd_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      channel_(loop, timer_fd_.get()) {
  if (!timer_fd_) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  channel_.on_read([this] { handle_expiry(); });
  channel_.enable_reading();
}

TimerQueue::~TimerQueue() {
  channel_.remove();
}

void TimerQueue::add(TimerId id, TimePoint when, Duration period, Task task) {
  loop_.assert_in_loop_thread();
  const bool earliest = order_.empty() || std::make_pair(when, id.value) < *order_.begin();
  order_.emplace(when, id.value);
  newest_id_ = std::max(newest_id_, id.value);
  timers_.emplace(id.value, Timer{when, period, std::move(task)});
  if (earliest) arm();
}

void TimerQueue::cancel(TimerId id) {
  loop_.assert_in_loop_thread();
  if (id.value == running_) running_cancelled_ = true;
  const auto it = timers_.find(id.value);
  if (it == timers_.end()) return;  // already fired or cancelled: nothing to do
  order_.erase({it->second.when, id.value});
  timers_.erase(it);
  // No re-arm: if this was the earliest timer, the timerfd fires early once, handle_expiry finds
  // nothing due and arms for the next one. Cheaper than a timerfd_settime on every cancel.
}

void TimerQueue::handle_expiry() {
  std::uint64_t expirations = 0;
  static_cast<void>(::read(timer_fd_.get(), &expirations, sizeof expirations));

  const TimePoint now = Clock::now();
  // Ids only grow, so timers added by the callbacks below have ids above `limit` and wait for the
  // next batch: a callback that re-adds a due timer cannot keep this loop running forever.
  const std::uint64_t limit = newest_id_;
  while (!order_.empty() && order_.begin()->first <= now && order_.begin()->second <= limit) {
    const std::uint64_t id = order_.begin()->second;
    order_.erase(order_.begin());
    auto node = timers_.extract(id);
    Timer& timer = node.mapped();

    running_ = id;
    running_cancelled_ = false;
    if (trace::on(trace::Topic::reactor)) [[unlikely]]
      trace::emit(trace::Topic::reactor, "timer ", id, " fired",
                  timer.period > Duration::zero() ? " (periodic)" : "");
    timer.task();
    running_ = 0;

    if (timer.period > Duration::zero() && !running_cancelled_) {
      // Fixed rate on the original grid; runs missed while the loop was busy are skipped.
      const auto behind = (now - timer.when) / timer.period + 1;
      timer.when += timer.period * behind;
      order_.emplace(timer.when, id);
      timers_.insert(std::move(node));
    }
  }
  arm();
}

void TimerQueue::arm() {
  itimerspec spec{};
  if (!order_.empty()) {
    // Absolute monotonic time: steady_clock is CLOCK_MONOTONIC, so its count is the kernel's.
    const auto since_boot = order_.begin()->first.time_since_epoch();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_boot).count();
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  }
  if (::timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "timerfd_settime");
  }
}

}  // namespace avant::reactor
