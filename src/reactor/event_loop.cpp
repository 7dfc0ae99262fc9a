// The event loop proper: run, quit, the task queue and its wake-up (event_loop.hpp).
// Lab 02 rewrites this file; construction, timers and checks are in event_loop_lifecycle.cpp.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include <unistd.h>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/poller.hpp>
#include <avant/reactor/trace.hpp>

namespace avant::reactor {

namespace {

// Nothing needs a periodic wake-up (timers have the timerfd, tasks the eventfd); the timeout only
// bounds how long a loop sleeps if something is ever missed.
constexpr std::chrono::milliseconds kPollTimeout{10'000};

// Rounds of queued tasks run after quit(): tasks that keep queueing tasks cannot hold the exit.
constexpr int kDrainRounds = 16;

}  // namespace

void EventLoop::run() {
  assert_in_loop_thread();
  while (!quit_.load(std::memory_order_acquire)) {
    active_.clear();
    poller_->poll(kPollTimeout, active_);
    poll_time_ = Clock::now();
    handling_events_ = true;
    if (trace::on(trace::Topic::reactor)) [[unlikely]]
      trace::emit(trace::Topic::reactor, "woke: ", active_.size(), " ready");
    for (Channel* channel : active_) {
      // remove_channel() nulls entries of channels removed by an earlier callback this iteration.
      if (channel == nullptr) continue;
      if (trace::on(trace::Topic::reactor)) [[unlikely]]
        trace::emit(trace::Topic::reactor, "fd ", channel->fd(),
                    " ready: ", trace::events_text(channel->revents()));
      channel->handle_event();
    }
    handling_events_ = false;
    run_queued_tasks();
    iterations_.fetch_add(1, std::memory_order_relaxed);
  }
  // Tasks queued before quit() took effect still run (and what they queue, for a few rounds):
  // "post a close, then stop the loop" must close.
  for (int round = 0; round < kDrainRounds && queued_tasks() > 0; ++round)
    run_queued_tasks();
  quit_.store(false, std::memory_order_relaxed);  // the loop can be run again
}

void EventLoop::quit() {
  if (is_in_loop_thread()) {
    quit_.store(true, std::memory_order_release);
    return;
  }
  // Under the mutex: the loop may leave run() and be destroyed as soon as it sees the flag, and
  // its destructor takes the mutex first, so it waits until this call no longer touches it.
  const std::lock_guard lock(mutex_);
  quit_.store(true, std::memory_order_release);
  wake_up_locked();
}

void EventLoop::run_in_loop(Task task) {
  if (is_in_loop_thread()) {
    task();
  } else {
    queue_in_loop(std::move(task));
  }
}

void EventLoop::queue_in_loop(Task task) {
  const std::lock_guard lock(mutex_);
  queue_.push_back(std::move(task));
  has_tasks_.store(true, std::memory_order_release);
  // Only a task queued by a callback of step 2 is sure to run without a wake-up (step 3 follows).
  // From another thread the loop may be asleep in epoll_wait; from a task of step 3, or before
  // run(), the next epoll_wait would otherwise sleep with the task waiting. The wake-up is written
  // under the mutex for the reason given in quit().
  if (!is_in_loop_thread() || !handling_events_) wake_up_locked();
}

std::size_t EventLoop::queued_tasks() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

void EventLoop::run_queued_tasks() {
  // Nothing queued, the common case of a busy loop: no lock. A task queued from another thread
  // after this load has written a wake-up, and drain_wake_up()'s exchange makes its flag seen.
  if (!has_tasks_.load(std::memory_order_acquire)) return;
  std::vector<Task> tasks;
  {
    const std::lock_guard lock(mutex_);
    tasks.swap(queue_);
    has_tasks_.store(false, std::memory_order_relaxed);
  }
  if (trace::on(trace::Topic::reactor) && !tasks.empty()) [[unlikely]]
    trace::emit(trace::Topic::reactor, "running ", tasks.size(), " queued task(s)");
  for (Task& task : tasks)
    task();
}

void EventLoop::wake_up_locked() {
  // One pending wake-up is enough: drain_wake_up() clears the flag before the queue is swapped,
  // so a task queued after that point always writes again.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  const std::uint64_t one = 1;
  if (::write(wake_fd_.get(), &one, sizeof one) != sizeof one && errno != EAGAIN) {
    std::perror("avant: eventfd write");
  }
}

void EventLoop::drain_wake_up() {
  std::uint64_t count = 0;
  static_cast<void>(::read(wake_fd_.get(), &count, sizeof count));
  // An exchange, not a store: reading the producer's flag (its release) makes its has_tasks_
  // visible to run_queued_tasks() below, even when its wake-up was the one still pending.
  static_cast<void>(wake_pending_.exchange(false, std::memory_order_acq_rel));
}

void EventLoop::update_channel(Channel& channel) {
  assert_in_loop_thread();
  poller_->update_channel(channel);
}

void EventLoop::remove_channel(Channel& channel) {
  assert_in_loop_thread();
  if (handling_events_)
    std::replace(active_.begin(), active_.end(), &channel, static_cast<Channel*>(nullptr));
  poller_->remove_channel(channel);
}

bool EventLoop::has_channel(const Channel& channel) const {
  assert_in_loop_thread();
  return poller_->has_channel(channel);
}

}  // namespace avant::reactor
