// tcp_server.hpp — a listener and the connections it accepted, on one EventLoop.
//
//   TcpServer ── owns ──> Acceptor (listening socket)
//       │                    │ new socket
//       ├── owns ──> { id -> TcpConnectionPtr }  <── creates, on the loop ──┘
//       └── owns ──> IdleWheel (when idle_timeout > 0)
//
// Chapter 02's server runs everything on the one loop it is given. (Chapter 03 spreads
// connections over a pool of loops; the server's loop then only accepts.)
//
// Limits, all explicit: max_connections (a connection over it is accepted and closed at once, and
// counted), idle_timeout, and each connection's ConnectionOptions (high-water mark, max output,
// overflow policy, max input).
//
// Lifetime: destroy the server on its loop's thread; it closes every connection it still has
// (their "down" callbacks run) before it returns.
// Threads: start() and the statistics from any thread; callbacks must be set before start(), and
// run on the loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include <avant/tcp/acceptor.hpp>
#include <avant/tcp/callbacks.hpp>
#include <avant/tcp/idle_wheel.hpp>
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
};

class TcpServer {
 public:
  struct Stats {
    std::uint64_t accepted = 0;                 // connections established
    std::uint64_t refused_max_connections = 0;  // closed at once: max_connections reached
    std::uint64_t refused_no_fds = 0;           // closed at once: out of descriptors
    std::uint64_t idle_closed = 0;              // closed by idle_timeout
  };

  // Binds (throws std::system_error naming the call and address); does not listen yet.
  TcpServer(reactor::EventLoop& loop, const TcpServerOptions& options);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;
  TcpServer(TcpServer&&) = delete;
  TcpServer& operator=(TcpServer&&) = delete;

  void on_connection(ConnectionCallback cb) { connection_cb_ = std::move(cb); }
  void on_message(MessageCallback cb) { message_cb_ = std::move(cb); }
  void on_write_complete(WriteCompleteCallback cb) { write_complete_cb_ = std::move(cb); }
  void on_high_water(HighWaterCallback cb) { high_water_cb_ = std::move(cb); }

  // Any thread; idempotent. Listens and starts accepting (on the loop).
  void start();

  [[nodiscard]] const net::SocketAddress& listen_address() const noexcept {
    return acceptor_.local_address();
  }
  [[nodiscard]] std::size_t connection_count() const noexcept { return count_.load(); }
  [[nodiscard]] Stats stats() const noexcept;
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return loop_; }
  [[nodiscard]] const TcpServerOptions& options() const noexcept { return options_; }

 private:
  void new_connection(net::Socket socket, const net::SocketAddress& peer);
  void remove_connection(const TcpConnectionPtr& connection);

  reactor::EventLoop& loop_;
  const TcpServerOptions options_;
  Acceptor acceptor_;
  std::unique_ptr<IdleWheel> idle_;
  std::unordered_map<std::uint64_t, TcpConnectionPtr> connections_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> started_{false};
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> established_{0};
  std::atomic<std::uint64_t> refused_max_{0};

  ConnectionCallback connection_cb_;
  MessageCallback message_cb_;
  WriteCompleteCallback write_complete_cb_;
  HighWaterCallback high_water_cb_;
};

}  // namespace avant::tcp
