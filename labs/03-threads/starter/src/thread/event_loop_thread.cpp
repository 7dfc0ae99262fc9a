// Lab 03 — EventLoopThread: a loop that lives on a thread of its own.
// The given parts (construction, accessors) are in src/thread/thread_lifecycle.cpp.
// Contract: src/thread/include/avant/thread/event_loop_thread.hpp. Tests: ctest -L ch03.
#include <stdexcept>
#include <string>

#include <avant/thread/event_loop_thread.hpp>

namespace avant::thread {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(03): ") + what);
}
}  // namespace

reactor::EventLoop& EventLoopThread::start() {
  todo(
      "EventLoopThread::start: throw logic_error if already started; launch thread_ running "
      "run(); wait on started_ (under mutex_) until ready_; on failure_ join and rethrow it; "
      "return *loop_");
}

void EventLoopThread::run() {
  todo(
      "EventLoopThread::run: name the thread; build the EventLoop HERE (it belongs to the thread "
      "that builds it) and call init_; publish &loop (or the exception) under mutex_ and notify "
      "started_; run the loop; clear loop_ under mutex_ before the loop is destroyed");
}

void EventLoopThread::stop() {
  if (!thread_.joinable()) return;
  todo(
      "EventLoopThread::stop: quit() the loop while holding mutex_ (run() clears loop_ under it, "
      "so the loop cannot vanish under you), then join the thread");
}

}  // namespace avant::thread
