// threaded_tcp_server.hpp — the multi-threaded TCP server: one loop accepts, N worker loops serve.
//
//   "main" thread: base loop ── Acceptor ──acquire()──> "worker-0" loop  ...  "worker-(N-1)" loop
//                                                        each connection lives on one of them
//                                                        from accept to close, never migrating
//
// A tcp::TcpServer given an EventLoopThreadPool as its LoopSource, packaged with the order of
// things that makes it safe: the pool's threads start before the server accepts, the server's
// connections are closed on their own loops before the pool's threads are joined, and nothing
// outlives the object. With workers = 0 there is no pool thread and everything runs on the base
// loop — chapter 02's server.
//
// Callbacks run on the loop that owns the connection, so with workers > 0 they run on several
// threads at once: state shared between connections needs a lock, or better, lives per loop
// (for_each_loop() reaches every loop).
//
// One pool for many listeners: a process with several listeners (HTTP and HTTPS, later WebSocket
// and protobuf streams) builds one EventLoopThreadPool of worker_cnt loops and gives it to every
// server; each server borrows it. The owner starts the pool before the servers and stops it after
// the last server stopped. The constructor that takes a worker count instead owns a pool of its
// own (the one-listener case).
//
// Stopping: stop() stops accepting, shuts every connection down gracefully, force-closes what is
// still open after drain_timeout, joins the worker threads of a pool it owns (a borrowed pool
// keeps running) and then runs `stopped` on the base loop.
//
// Lifetime: the base loop must outlive the server. Destroy the server on the base loop's thread,
// in any state: it closes what is still open (on each connection's own loop) and joins the
// workers before it returns.
// Threads: start() and stop() from any thread except a worker's, not both at once; callbacks set
// before start(); the statistics and connections() from any thread; for_each_loop() from any
// thread before stop() (the worker loops go away when the stop ends).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/tcp_server.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>

namespace avant::thread {

struct ThreadedServerOptions {
  tcp::TcpServerOptions tcp{};  // listener, limits, per-connection options
  std::size_t workers = 0;      // the original's worker_cnt; 0: the base loop serves everything
  Placement placement = Placement::round_robin;
  std::chrono::milliseconds drain_timeout{5000};  // stop(): graceful close, then forced
};

class ThreadedTcpServer {
 public:
  // Binds (throws std::system_error naming the call and address); starts no thread yet. Owns a
  // pool of options.workers loops.
  ThreadedTcpServer(reactor::EventLoop& base, const ThreadedServerOptions& options);
  // The same on a pool it borrows (options.workers and .placement are the pool's then): the pool
  // must outlive the server, and its base loop is the server's.
  ThreadedTcpServer(EventLoopThreadPool& pool, const ThreadedServerOptions& options);
  ~ThreadedTcpServer();
  ThreadedTcpServer(const ThreadedTcpServer&) = delete;
  ThreadedTcpServer& operator=(const ThreadedTcpServer&) = delete;
  ThreadedTcpServer(ThreadedTcpServer&&) = delete;
  ThreadedTcpServer& operator=(ThreadedTcpServer&&) = delete;

  void on_connection(tcp::ConnectionCallback cb) { server_.on_connection(std::move(cb)); }
  void on_message(tcp::MessageCallback cb) { server_.on_message(std::move(cb)); }
  void on_write_complete(tcp::WriteCompleteCallback cb) {
    server_.on_write_complete(std::move(cb));
  }
  void on_high_water(tcp::HighWaterCallback cb) { server_.on_high_water(std::move(cb)); }
  // See tcp::TcpServer::on_drain: how stop() asks each connection to finish.
  void on_drain(tcp::ConnectionCallback cb) { server_.on_drain(std::move(cb)); }
  // See tcp::TcpServer::set_protocol: a protocol object per connection instead of the callbacks.
  void set_protocol(tcp::ProtocolFactory factory) { server_.set_protocol(std::move(factory)); }

  // Starts the worker threads (returns once their loops exist), then accepts. Idempotent; does
  // nothing after stop().
  void start();
  // Stops accepting, drains (see above), joins the workers, then runs `stopped` on the base loop.
  // Asynchronous: returns at once. A second call adds its `stopped` to the first's.
  void stop(std::function<void()> stopped = {});

  // Runs fn on every worker loop (the base loop when workers = 0), on that loop's thread, then
  // done() on the base loop once all have run: a broadcast reaches each loop's connections.
  void for_each_loop(std::function<void(reactor::EventLoop&)> fn, std::function<void()> done = {});

  [[nodiscard]] const net::SocketAddress& listen_address() const noexcept {
    return server_.listen_address();
  }
  [[nodiscard]] std::size_t connection_count() const noexcept { return server_.connection_count(); }
  [[nodiscard]] std::vector<tcp::TcpConnectionPtr> connections() const {
    return server_.connections();
  }
  [[nodiscard]] tcp::TcpServer::Stats stats() const noexcept { return server_.stats(); }
  // The loops this server's connections live on (its own pool, or the one it borrows).
  [[nodiscard]] EventLoopThreadPool& pool() const noexcept { return pool_; }
  // Connections currently placed on worker i, by every server of the pool (tests and metrics).
  [[nodiscard]] std::size_t connections_on(std::size_t worker) const noexcept {
    return pool_.connections_on(worker);
  }
  // Any thread: the open connection with this id, or nullptr once it is gone (an id is never
  // reused within a process). Its send() queues to the connection's own loop.
  [[nodiscard]] tcp::TcpConnectionPtr find(std::uint64_t id) const { return server_.find(id); }
  [[nodiscard]] const ThreadedServerOptions& options() const noexcept { return options_; }
  [[nodiscard]] reactor::EventLoop& base() const noexcept { return base_; }

 private:
  reactor::EventLoop& base_;
  const ThreadedServerOptions options_;
  // Declared before the server: destroyed after it, so its threads outlive every connection.
  std::unique_ptr<EventLoopThreadPool> own_pool_;  // null when the pool is borrowed
  EventLoopThreadPool& pool_;
  tcp::TcpServer server_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace avant::thread
