// tcp_server.hpp — a listener and the connections it accepted, on one loop or spread over many.
//
//   TcpServer ── owns ──> Acceptor (listening socket, on the server's loop)
//       │                    │ new socket
//       │                    v
//       │        loop = workers ? workers->acquire() : the server's loop
//       │                    │ the connection is built here and established on `loop`,
//       │                    │ which owns it for life (it never migrates)
//       ├── owns ──> { id -> TcpConnectionPtr }  (one mutex; never taken per message)
//       └── owns ──> one IdleWheel per loop that has connections (when idle_timeout > 0)
//
// Chapter 02 runs everything on the one loop the server is given. Chapter 03 passes a LoopSource
// (a pool of worker loops): the server's loop then only accepts, and every callback of a
// connection runs on the worker loop that owns it — so with workers, callbacks run on several
// threads at once and must be written for that.
//
// Limits, all explicit: max_connections (a connection over it is accepted and closed at once, and
// counted), idle_timeout, and each connection's ConnectionOptions (high-water mark, max output,
// overflow policy, max input).
//
// Stopping: stop() stops accepting, half-closes every connection once its queued output is
// written (TcpConnection::shutdown, or the owner's on_drain callback), and force-closes what is still open after the drain
// deadline; `stopped` runs on the server's loop when the last connection is gone. A stopped server
// does not start again.
//
// Lifetime: destroy the server on its loop's thread, in any state (never started, running,
// stopping, stopped; a stop in progress then ends without running its `stopped` callbacks). It
// closes every connection it still has, each on its own loop (their "down" callbacks run there)
// and waits for that, so the worker loops must still be running: destroy the server before the
// pool (thread::ThreadedTcpServer gets the order right).
// Threads: start(), stop() and the statistics from any thread; callbacks must be set before
// start().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <avant/tcp/acceptor.hpp>
#include <avant/tcp/callbacks.hpp>
#include <avant/tcp/connection_filter.hpp>
#include <avant/tcp/id_table.hpp>
#include <avant/tcp/idle_wheel.hpp>
#include <avant/tcp/loop_source.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

struct TcpServerOptions {
  net::SocketAddress listen = net::SocketAddress::ipv4_loopback(0);  // port 0: ephemeral
  int backlog = SOMAXCONN;                                           // kernel accept queue
  bool reuse_port = false;                                           // SO_REUSEPORT
  std::size_t accept_per_tick = 100;          // the original's accept_per_tick
  std::size_t max_connections = 20000;        // the original's max_client_cnt
  std::chrono::milliseconds idle_timeout{0};  // close after this long without traffic; 0 = never
  ConnectionOptions connection{};             // per-connection limits and backpressure
  FilterFactory filter{};  // a filter per connection, e.g. TLS (tls::server_filter); empty: none
};

class TcpServer {
 public:
  struct Stats {
    std::uint64_t accepted = 0;  // TCP connections established (with TLS, failed handshakes too)
    std::uint64_t refused_max_connections = 0;  // closed at once: max_connections reached
    std::uint64_t refused_no_fds = 0;           // closed at once: out of descriptors
    std::uint64_t idle_closed = 0;              // closed by idle_timeout
  };

  // Binds (throws std::system_error naming the call and address); does not listen yet. With
  // `workers`, connections go to the loops it hands out; it must outlive the server. Ignores
  // SIGPIPE for the process (net::ignore_sigpipe): a peer that resets mid-write costs its
  // connection, never the server.
  TcpServer(reactor::EventLoop& loop, const TcpServerOptions& options,
            LoopSource* workers = nullptr);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;
  TcpServer(TcpServer&&) = delete;
  TcpServer& operator=(TcpServer&&) = delete;

  // The callbacks, made into one CallbackProtocol (protocol.hpp) that every connection shares.
  void on_connection(ConnectionCallback cb) { callbacks_.connection = std::move(cb); }
  void on_message(MessageCallback cb) { callbacks_.message = std::move(cb); }
  void on_write_complete(WriteCompleteCallback cb) { callbacks_.write_complete = std::move(cb); }
  void on_high_water(HighWaterCallback cb) { callbacks_.high_water = std::move(cb); }
  // How a stop asks a connection to finish, on the connection's loop. Without it, stop() calls
  // shutdown() (FIN once the queued output is written). A protocol with work in flight (an HTTP
  // response not yet produced) sets this and calls shutdown() itself when that work is done; the
  // drain deadline still force-closes whatever is open then.
  void on_drain(ConnectionCallback cb) { callbacks_.drain = std::move(cb); }
  // Instead of the callbacks: a protocol object per connection (its typed state: a session, a
  // parser), made by `factory` on the connection's loop before it comes up. A factory that throws
  // costs that connection only (logged, closed).
  void set_protocol(ProtocolFactory factory) { factory_ = std::move(factory); }

  // Any thread; idempotent. Listens and starts accepting (on the loop). Does nothing once stop()
  // was called.
  void start();
  // Any thread; runs on the server's loop. Stops accepting (the listening socket is closed),
  // shuts every connection down gracefully, force-closes those still open after `drain`, and then
  // runs `stopped` on the server's loop. A second call only adds its `stopped` to the first's.
  void stop(std::chrono::milliseconds drain, std::function<void()> stopped = {});

  [[nodiscard]] const net::SocketAddress& listen_address() const noexcept {
    return acceptor_.local_address();
  }
  [[nodiscard]] std::size_t connection_count() const noexcept { return count_.load(); }
  // Any thread: the open connections, for a broadcast. Each send() then queues to its own loop.
  [[nodiscard]] std::vector<TcpConnectionPtr> connections() const;
  // Any thread: the open connection with this id (connection_id.hpp: unique in the process, never
  // reused), or nullptr once it is gone — a stale id finds nothing, it never reaches freed memory.
  // Its send() from any thread queues to the connection's own loop.
  [[nodiscard]] TcpConnectionPtr find(std::uint64_t id) const;
  [[nodiscard]] Stats stats() const noexcept;
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return loop_; }
  [[nodiscard]] const TcpServerOptions& options() const noexcept { return options_; }

 private:
  // Shared with tasks queued on the server's loop: they do nothing once the server is gone.
  struct Life {
    TcpServer* server;
  };

  void new_connection(net::Socket socket, const net::SocketAddress& peer);
  void establish(const TcpConnectionPtr& connection);
  void remove_connection(const TcpConnectionPtr& connection);
  void stop_in_loop(std::chrono::milliseconds drain, std::function<void()> stopped);
  void drain_expired();
  void retire_wheels();
  void finish_stop();
  // Loop thread of `loop`: closes this server's connections owned by `loop`, drops its wheel.
  void close_on(reactor::EventLoop& loop);

  reactor::EventLoop& loop_;
  const TcpServerOptions options_;
  // options_.connection and remove_connection as the close callback, shared by every connection.
  const std::shared_ptr<const ConnectionShared> connection_options_ =
      std::make_shared<const ConnectionShared>(ConnectionShared{
          {options_.connection}, [this](const TcpConnectionPtr& c) { remove_connection(c); }});
  LoopSource* const workers_;
  Acceptor acceptor_;
  std::shared_ptr<Life> life_;

  mutable std::mutex mutex_;
  IdTable<TcpConnectionPtr> connections_;                                       // mutex_
  std::unordered_map<reactor::EventLoop*, std::unique_ptr<IdleWheel>> wheels_;  // mutex_
  bool stopping_ = false;                                                       // mutex_
  std::uint64_t retired_idle_closed_ = 0;                                       // mutex_

  // Loop thread: the stop in progress.
  std::vector<std::function<void()>> stopped_callbacks_;
  reactor::TimerId drain_timer_;
  bool stop_finished_ = false;

  std::atomic<bool> started_{false};
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> established_{0};
  std::atomic<std::uint64_t> refused_max_{0};

  CallbackProtocol::Callbacks callbacks_;  // until start()
  ProtocolFactory factory_;
  std::shared_ptr<CallbackProtocol>
      shared_protocol_;  // made by start() from callbacks_, without a factory
};

}  // namespace avant::tcp
