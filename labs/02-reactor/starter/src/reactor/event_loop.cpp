// Lab 02 — the event loop proper. Contract: src/reactor/include/avant/reactor/event_loop.hpp.
// (Construction, timers and assert_in_loop_thread are given, in src/reactor/event_loop_lifecycle.cpp.)
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/poller.hpp>

namespace avant::reactor {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(02): ") + what);
}
}  // namespace

void EventLoop::run() {
  todo(
      "EventLoop::run: until quit_: poll, handle each active channel, run queued tasks, count "
      "the iteration; after quit, run what is still queued (a bounded number of rounds)");
}

void EventLoop::quit() {
  todo("EventLoop::quit: set quit_; from another thread, under mutex_, and wake the loop");
}

void EventLoop::run_in_loop(Task task) {
  static_cast<void>(task);
  todo("EventLoop::run_in_loop: run now on the loop thread, else queue_in_loop");
}

void EventLoop::queue_in_loop(Task task) {
  static_cast<void>(task);
  todo("EventLoop::queue_in_loop: push under mutex_; wake unless called from step 2 of the loop");
}

std::size_t EventLoop::queued_tasks() const {
  todo("EventLoop::queued_tasks");
}

void EventLoop::run_queued_tasks() {
  todo("EventLoop::run_queued_tasks: swap the queue out under the lock, run it outside the lock");
}

void EventLoop::wake_up_locked() {
  todo("EventLoop::wake_up_locked: write a uint64 1 to the eventfd (once per pending wake-up)");
}

void EventLoop::drain_wake_up() {
  todo("EventLoop::drain_wake_up: read the eventfd's counter, clear wake_pending_");
}

void EventLoop::update_channel(Channel& channel) {
  static_cast<void>(channel);
  todo("EventLoop::update_channel: loop thread; pass to the poller");
}

void EventLoop::remove_channel(Channel& channel) {
  static_cast<void>(channel);
  todo(
      "EventLoop::remove_channel: loop thread; null it in active_ if events are being handled, "
      "then remove it from the poller");
}

bool EventLoop::has_channel(const Channel& channel) const {
  static_cast<void>(channel);
  todo("EventLoop::has_channel");
}

}  // namespace avant::reactor
