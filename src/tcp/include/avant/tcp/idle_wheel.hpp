// idle_wheel.hpp — closes connections that have been silent for longer than a timeout.
//
// A timing wheel with `slots` buckets, advanced by one timer every timeout / slots:
//
//        cursor ──┐
//                 v
//   [ s0 ][ s1 ][ s2 ][ s3 ][ s4 ][ s5 ][ s6 ][ s7 ]     each bucket: weak references
//            ^ a connection added now waits here for one full turn (= timeout)
//
// Traffic costs nothing here: a connection only stores the time of its last read or write
// (TcpConnection::last_activity). When the cursor reaches a connection's bucket, the wheel looks
// at that time once: silent for the whole timeout -> force_close(); otherwise the connection moves
// to the bucket where its own timeout would end. So the cost per event is O(1) whatever the number
// of connections, and the cost per tick is the number of connections in one bucket. Timeouts fire
// between `timeout` and `timeout + timeout / slots` after the last activity.
//
// Ownership: holds weak references only; a closed connection simply drops out.
// Threads: loop thread only (the loop that owns the connections); closed() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/callbacks.hpp>

namespace avant::tcp {

class IdleWheel {
 public:
  // Starts the wheel's timer. timeout must be > 0.
  IdleWheel(reactor::EventLoop& loop, std::chrono::milliseconds timeout, std::size_t slots = 8);
  ~IdleWheel();
  IdleWheel(const IdleWheel&) = delete;
  IdleWheel& operator=(const IdleWheel&) = delete;
  IdleWheel(IdleWheel&&) = delete;
  IdleWheel& operator=(IdleWheel&&) = delete;

  // Starts watching a connection (call once, when it is established).
  void add(const TcpConnectionPtr& connection);
  // Connections closed for being idle.
  [[nodiscard]] std::uint64_t closed() const noexcept { return closed_.load(); }
  [[nodiscard]] std::size_t watched() const noexcept;

 private:
  void tick();

  reactor::EventLoop& loop_;
  const reactor::Duration timeout_;
  const reactor::Duration tick_;
  std::vector<std::vector<std::weak_ptr<TcpConnection>>> slots_;
  std::size_t cursor_ = 0;
  reactor::TimerId timer_;
  std::atomic<std::uint64_t> closed_{0};
};

}  // namespace avant::tcp
