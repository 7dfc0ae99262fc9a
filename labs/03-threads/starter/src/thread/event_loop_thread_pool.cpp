// Lab 03 — EventLoopThreadPool: N worker loops behind one base loop.
// The given parts (construction, accessors) are in src/thread/thread_lifecycle.cpp.
// Contract: src/thread/include/avant/thread/event_loop_thread_pool.hpp. Tests: ctest -L ch03.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <avant/thread/event_loop_thread_pool.hpp>

namespace avant::thread {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(03): ") + what);
}
}  // namespace

void EventLoopThreadPool::start() {
  todo(
      "EventLoopThreadPool::start: once only; create options_.threads EventLoopThreads named "
      "name_prefix + index, each with an init callback calling loop_started(loop, index); start "
      "each and keep its loop in loops_; with 0 threads run loop_started(base_, 0) on the base "
      "loop (run_in_loop)");
}

void EventLoopThreadPool::stop() {
  if (threads_.empty()) return;
  todo("EventLoopThreadPool::stop: stop (quit + join) every thread, then forget threads and loops");
}

reactor::EventLoop& EventLoopThreadPool::acquire() {
  todo(
      "EventLoopThreadPool::acquire: base loop thread only; no workers -> the base loop; "
      "round_robin -> the next loop in turn; least_connections -> the fewest counted, lowest "
      "index on a tie; count the connection on the chosen loop");
}

void EventLoopThreadPool::release(reactor::EventLoop& loop) noexcept {
  static_cast<void>(loop);
  // noexcept: a TODO cannot be thrown from here, so the lab says it loudly and stops.
  std::fputs("TODO(03): EventLoopThreadPool::release: uncount a connection on `loop`\n", stderr);
  std::abort();
}

void EventLoopThreadPool::for_each_loop(std::function<void(reactor::EventLoop&)> fn,
                                        std::function<void()> done) {
  static_cast<void>(fn);
  static_cast<void>(done);
  todo(
      "EventLoopThreadPool::for_each_loop: run fn on every worker loop (the base loop if none); "
      "the last one to finish queues done() on the base loop");
}

}  // namespace avant::thread
