// api.hpp — the public API of module thread that chapter 03's tests use, pinned at compile time
// (see tests/01-sockets/api.hpp for why).
#pragma once

#include <concepts>
#include <functional>
#include <ostream>
#include <vector>

#include <avant/thread/event_loop_thread.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/thread/task_pool.hpp>
#include <avant/thread/threaded_tcp_server.hpp>

namespace avant::thread {
// Lets GoogleTest print submit results by name in failure messages.
inline void PrintTo(SubmitStatus status, std::ostream* out) {
  switch (status) {
    case SubmitStatus::accepted:
      *out << "SubmitStatus::accepted";
      return;
    case SubmitStatus::rejected_full:
      *out << "SubmitStatus::rejected_full";
      return;
    case SubmitStatus::stopped:
      *out << "SubmitStatus::stopped";
      return;
  }
  *out << "SubmitStatus(" << static_cast<int>(status) << ")";
}
}  // namespace avant::thread

namespace avant::thread::api {

template <class T>
concept LoopThread = !std::movable<T> && requires(T t, const T ct) {
  { t.start() } -> std::same_as<reactor::EventLoop&>;
  t.stop();
  { ct.loop() } -> std::same_as<reactor::EventLoop*>;
};

template <class P>
concept LoopPool = !std::movable<P> && requires(P p, const P cp, reactor::EventLoop& loop,
                                                std::function<void(reactor::EventLoop&)> fn) {
  p.start();
  p.stop();
  { p.acquire() } -> std::same_as<reactor::EventLoop&>;
  p.release(loop);
  p.for_each_loop(fn);
  { cp.connections_on(std::size_t{}) } -> std::same_as<std::size_t>;
};

template <class P>
concept BoundedPool = !std::movable<P> && requires(P p, const P cp, std::function<void()> work) {
  { p.submit(work) } -> std::same_as<SubmitStatus>;
  p.stop();
  { cp.queued() } -> std::same_as<std::size_t>;
  { cp.waiting_submitters() } -> std::same_as<std::size_t>;
};

template <class S>
concept MultiLoopServer =
    !std::movable<S> && requires(S s, const S cs, std::function<void()> cb,
                                 std::function<void(reactor::EventLoop&)> fn) {
  s.start();
  s.stop(cb);
  s.for_each_loop(fn, cb);
  { cs.connection_count() } -> std::same_as<std::size_t>;
  { cs.connections_on(std::size_t{}) } -> std::same_as<std::size_t>;
  { cs.connections() } -> std::same_as<std::vector<tcp::TcpConnectionPtr>>;
  { cs.listen_address() } -> std::same_as<const net::SocketAddress&>;
};

static_assert(LoopThread<EventLoopThread>, "EventLoopThread: see event_loop_thread.hpp");
static_assert(LoopPool<EventLoopThreadPool>, "EventLoopThreadPool: see event_loop_thread_pool.hpp");
static_assert(BoundedPool<TaskPool>, "TaskPool: see task_pool.hpp");
static_assert(MultiLoopServer<ThreadedTcpServer>, "ThreadedTcpServer: see threaded_tcp_server.hpp");
static_assert(std::derived_from<EventLoopThreadPool, tcp::LoopSource>,
              "EventLoopThreadPool is the LoopSource a TcpServer takes");

}  // namespace avant::thread::api
