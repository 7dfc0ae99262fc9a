#include <optional>
#include <stdexcept>
#include <utility>

#include <avant/thread/event_loop_thread.hpp>

namespace avant::thread {

reactor::EventLoop& EventLoopThread::start() {
  if (thread_.joinable()) throw std::logic_error("EventLoopThread::start: already started");
  {
    const std::lock_guard lock(mutex_);
    ready_ = false;
    failure_ = nullptr;
  }
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  started_.wait(lock, [this] { return ready_; });
  if (failure_) {
    lock.unlock();
    thread_.join();
    std::rethrow_exception(failure_);
  }
  return *loop_;
}

void EventLoopThread::run() {
  set_thread_name(name_);
  std::optional<reactor::EventLoop> loop;
  try {
    loop.emplace();
    if (init_) init_(*loop);
  } catch (...) {
    {
      const std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
      ready_ = true;
    }
    started_.notify_all();
    return;  // `loop`, if it was built, is destroyed here, on its own thread
  }
  {
    const std::lock_guard lock(mutex_);
    loop_ = &*loop;
    ready_ = true;
  }
  started_.notify_all();
  // Forget the loop before it is destroyed (destruction runs in reverse order): stop() reads
  // loop_ under the mutex and must never reach a loop that is going away.
  struct Forget {
    EventLoopThread& self;
    explicit Forget(EventLoopThread& owner) : self(owner) {}
    Forget(const Forget&) = delete;
    Forget& operator=(const Forget&) = delete;
    Forget(Forget&&) = delete;
    Forget& operator=(Forget&&) = delete;
    ~Forget() {
      const std::lock_guard lock(self.mutex_);
      self.loop_ = nullptr;
    }
  } forget(*this);
  // An exception escaping a task ends the process (std::terminate): a bug, reported loudly.
  loop->run();
}

void EventLoopThread::stop() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    // quit() under our mutex: run() clears loop_ under it too, so the loop still exists here.
    if (loop_ != nullptr) loop_->quit();
  }
  thread_.join();
}

}  // namespace avant::thread
