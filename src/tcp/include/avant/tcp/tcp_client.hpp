// tcp_client.hpp — an outgoing TCP connection on a loop, reconnected with bounded backoff.
//
//   connect() ──> attempt: non-blocking connect(2) ──EINPROGRESS──> wait for writability
//                    │                                               │  (or connect_timeout)
//                    │ refused / unreachable / timed out              │ SO_ERROR == 0
//                    v                                               v
//              wait a backoff delay ──> attempt again         TcpConnection, as a server's:
//                                                             same callbacks, options, filters
//                                                             (TLS client: tls::client_filter)
//                                             closed ──> wait a backoff delay ──> attempt again
//
// Backoff: exponential with full jitter. Before attempt n+1 the client waits a random time in
// [0, min(max, initial * 2^n)) — random, so a fleet of clients cut off together does not come back
// together. A connection that stayed up for `reset_after` starts the next series from `initial`
// again. `retry = false` makes one attempt (and no reconnect); `max_attempts` bounds a series.
// Every attempt, failure and connection is counted (stats()): tests use it to see that a refusing
// or silent server costs a bounded number of attempts, never a busy loop.
//
// Connection ids come from the same process-wide sequence as a server's (connection_id.hpp), with
// the client's loop index as the worker.
//
// Lifetime: destroy the client on its loop's thread, in any state: it cancels what is pending and
// force-closes its connection ("down" callbacks run). Tasks and timers it queued hold a token, not
// `this`, and do nothing once it is gone.
// Threads: callbacks set before connect(); connect(), stop(), connection() and stats() from any
// thread; the callbacks run on the loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/callbacks.hpp>
#include <avant/tcp/connection_filter.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

struct BackoffOptions {
  std::chrono::milliseconds initial{100};       // the first delay's upper bound
  std::chrono::milliseconds max{10'000};        // no delay is longer
  std::chrono::milliseconds reset_after{5000};  // up this long: the next series starts over
  bool retry = true;                            // false: one attempt, no reconnect
  std::size_t max_attempts = 0;  // attempts in a series before giving up; 0: no bound
  // A number in [0, 1) per delay; empty: a random one (full jitter). Tests make it constant.
  std::function<double()> jitter{};
};

struct TcpClientOptions {
  net::SocketAddress server = net::SocketAddress::ipv4_loopback(0);
  std::chrono::milliseconds connect_timeout{5000};  // an attempt still pending is abandoned
  BackoffOptions backoff{};
  ConnectionOptions connection{};  // limits and backpressure, as a server's connections
  FilterFactory filter{};          // e.g. tls::client_filter(context, "server name")
};

class TcpClient {
 public:
  struct Stats {
    std::uint64_t attempts = 0;   // connect(2) calls
    std::uint64_t failures = 0;   // attempts refused, unreachable or timed out
    std::uint64_t connected = 0;  // attempts that became connections
    bool gave_up = false;         // max_attempts reached, or retry off after a failure
  };

  TcpClient(reactor::EventLoop& loop, TcpClientOptions options);
  ~TcpClient();  // loop thread
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  TcpClient(TcpClient&&) = delete;
  TcpClient& operator=(TcpClient&&) = delete;

  // The callbacks, made into one CallbackProtocol (protocol.hpp) for every connection it makes.
  void on_connection(ConnectionCallback cb) { callbacks_.connection = std::move(cb); }
  void on_message(MessageCallback cb) { callbacks_.message = std::move(cb); }
  void on_write_complete(WriteCompleteCallback cb) { callbacks_.write_complete = std::move(cb); }
  void on_high_water(HighWaterCallback cb) { callbacks_.high_water = std::move(cb); }
  // Instead of the callbacks: a protocol object per connection, made by `factory` on the loop
  // before the connection comes up (each reconnect gets a fresh one).
  void set_protocol(ProtocolFactory factory) { factory_ = std::move(factory); }
  // An attempt failed (refused, unreachable, timed out): its errno (ETIMEDOUT for the timeout),
  // after the next attempt, if any, was scheduled (stats().gave_up says whether one was). Runs on
  // the loop; set before connect().
  void on_connect_failed(std::function<void(int error)> cb) { failed_ = std::move(cb); }

  // Any thread: starts connecting (once; later calls do nothing).
  void connect();
  // Any thread: no more attempts; a connection that is up is shut down after its queued output
  // (shutdown()), one still being made is abandoned. Final: a stopped client does not connect.
  void stop();

  // Any thread: the connection while it is up, else nullptr. Its send() works from any thread.
  [[nodiscard]] TcpConnectionPtr connection() const;
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return loop_; }

 private:
  struct Life {
    TcpClient* client;
  };

  void attempt();
  void connect_ready();
  void attempt_failed(int error);
  void established();
  void closed(const TcpConnectionPtr& connection);
  void retry_later();
  void abandon_attempt();
  [[nodiscard]] std::chrono::microseconds next_delay();

  reactor::EventLoop& loop_;
  const TcpClientOptions options_;
  std::shared_ptr<Life> life_;
  // options_.connection and closed() as the close callback (through life_: a connection may
  // outlive this client), shared by each connection this client makes.
  const std::shared_ptr<const ConnectionShared> connection_options_;

  // Loop thread.
  net::Socket socket_{net::FileDescriptor{}};  // the attempt in progress
  std::unique_ptr<reactor::Channel> channel_;  // watching it for writability
  reactor::TimerId connect_timer_{};
  reactor::TimerId retry_timer_{};
  std::size_t series_ = 0;  // failed attempts since the last connection that lasted
  reactor::TimePoint up_since_{};
  bool started_ = false;
  bool stopped_ = false;

  mutable std::mutex mutex_;
  TcpConnectionPtr connection_;  // mutex_
  Stats stats_;                  // mutex_

  CallbackProtocol::Callbacks callbacks_;  // until connect()
  ProtocolFactory factory_;
  std::function<void(int)> failed_;
  std::shared_ptr<CallbackProtocol>
      shared_protocol_;  // loop thread: made from callbacks_ without a factory
};

}  // namespace avant::tcp
