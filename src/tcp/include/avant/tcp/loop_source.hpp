// loop_source.hpp — where a TcpServer puts the connections it accepts.
//
// Chapter 02's server keeps every connection on its own loop. Chapter 03 hands the server a
// LoopSource — a pool of worker loops (thread::EventLoopThreadPool implements this interface) —
// and the server asks it, for each accepted connection, which loop will own that connection for
// life. The interface lives here, in chapter 02, so that the tcp module never depends on the
// thread module above it.
//
// Threads: acquire() on the server's loop thread; release() from any thread.
#pragma once

#include <avant/reactor/event_loop.hpp>

namespace avant::tcp {

class LoopSource {
 public:
  LoopSource() = default;
  virtual ~LoopSource() = default;
  LoopSource(const LoopSource&) = delete;
  LoopSource& operator=(const LoopSource&) = delete;
  LoopSource(LoopSource&&) = delete;
  LoopSource& operator=(LoopSource&&) = delete;

  // The loop for a new connection; the source counts the connection there until release().
  // The loop must keep running until the connection is destroyed.
  [[nodiscard]] virtual reactor::EventLoop& acquire() = 0;
  // A connection placed on `loop` by acquire() is gone.
  virtual void release(reactor::EventLoop& loop) noexcept = 0;
};

}  // namespace avant::tcp
