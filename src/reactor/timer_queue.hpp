// timer_queue.hpp — the timers of one EventLoop, on one timerfd (private to module reactor).
//
// Timers are ordered by (expiry, id) in a std::set — O(log n) insert and cancel, the earliest at
// begin() — and the timerfd is armed for the earliest one (after a cancel, possibly for an earlier
// deadline that is gone: it then fires once for nothing and is armed again). Expired timers run one
// at a time, taken from the front of the set, so a callback that cancels another due timer really
// prevents it; timers added by callbacks during a batch wait for the next batch (no starvation).
// Threads: the loop thread only; EventLoop's run_at/run_every/cancel marshal calls here.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <unordered_map>
#include <utility>

#include <avant/net/file_descriptor.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/timer.hpp>

namespace avant::reactor {

class EventLoop;

class TimerQueue {
 public:
  using Task = std::function<void()>;

  explicit TimerQueue(EventLoop& loop);  // throws std::system_error naming timerfd_create
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;
  TimerQueue(TimerQueue&&) = delete;
  TimerQueue& operator=(TimerQueue&&) = delete;

  // period == 0: one-shot.
  void add(TimerId id, TimePoint when, Duration period, Task task);
  void cancel(TimerId id);
  [[nodiscard]] std::size_t size() const noexcept { return timers_.size(); }

 private:
  struct Timer {
    TimePoint when;
    Duration period;
    Task task;
  };

  void handle_expiry();
  void arm();

  EventLoop& loop_;
  net::FileDescriptor timer_fd_;
  Channel channel_;
  std::set<std::pair<TimePoint, std::uint64_t>> order_;
  std::unordered_map<std::uint64_t, Timer> timers_;
  std::uint64_t newest_id_ = 0;     // the largest id ever added
  std::uint64_t running_ = 0;       // id of the timer whose task is running, or 0
  bool running_cancelled_ = false;  // that timer cancelled itself (or was cancelled) meanwhile
};

}  // namespace avant::reactor
