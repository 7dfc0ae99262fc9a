// signals.hpp — the process's signals as events on a loop: stop, reload, reopen logs.
//
//   SIGINT, SIGTERM ──> actions.stop(signo)     the first one only; later ones are logged
//   SIGUSR1         ──> actions.reload()        (chapter 10 reloads the Lua scripts)
//   SIGHUP          ──> actions.reopen_logs()   (after a log rotation)
//
// Nothing runs inside a signal handler: the four signals are blocked and read from a signalfd, a
// descriptor the loop watches like any other, so an action is ordinary code on the loop's thread.
// The mask is per thread and inherited by the threads a thread creates, so construct the watcher
// on the main thread before any other thread starts (pools, TaskPools, daemon(3)'s fork are fine
// after): then no thread takes these signals the default way and the signalfd sees them all.
//
// Lifetime: destroy it on the loop's thread (it stops watching; the signals stay blocked, so one
// that arrives after that waits, pending, instead of ending the process).
// Threads: construction and destruction on the loop's thread; the actions run there.
#pragma once

#include <functional>

#include <avant/net/file_descriptor.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>

namespace avant::reactor {

struct SignalActions {
  std::function<void(int signo)> stop{};  // SIGINT or SIGTERM: stop, e.g. with a drain
  std::function<void()> reload{};         // SIGUSR1; empty: logged and ignored
  std::function<void()> reopen_logs{};    // SIGHUP; empty: logged and ignored
};

class SignalWatcher {
 public:
  // Blocks the four signals in the calling thread and watches them on `loop`, whose thread this
  // must be. Throws std::system_error naming the failed call.
  SignalWatcher(EventLoop& loop, SignalActions actions);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  SignalWatcher(SignalWatcher&&) = delete;
  SignalWatcher& operator=(SignalWatcher&&) = delete;

  // Whether a stop signal has arrived.
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }

 private:
  void handle_read();

  EventLoop& loop_;
  SignalActions actions_;
  net::FileDescriptor fd_;
  Channel channel_;
  bool stopping_ = false;
};

}  // namespace avant::reactor
