// An outgoing connection with reconnect and backoff (tcp_client.hpp).
#include <algorithm>
#include <cerrno>
#include <exception>
#include <random>
#include <string>
#include <utility>

#include <avant/net/io.hpp>
#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/tcp/connection_id.hpp>
#include <avant/tcp/tcp_client.hpp>

namespace avant::tcp {

TcpClient::TcpClient(reactor::EventLoop& loop, TcpClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      life_(std::make_shared<Life>(Life{this})),
      connection_options_(std::make_shared<const ConnectionShared>(
          ConnectionShared{{options_.connection}, [life = life_](const TcpConnectionPtr& c) {
                             if (TcpClient* self = life->client) self->closed(c);
                           }})) {
  net::ignore_sigpipe();  // a peer that resets mid-write costs its connection, not the process
}

TcpClient::~TcpClient() {
  loop_.assert_in_loop_thread();
  life_->client = nullptr;  // tasks and timers still queued do nothing now
  stopped_ = true;
  abandon_attempt();
  loop_.cancel(retry_timer_);
  TcpConnectionPtr connection;
  {
    const std::lock_guard lock(mutex_);
    connection = std::move(connection_);
  }
  if (connection) {
    // The owner is going away with the connection open: "down" runs now, the descriptor closes.
    connection->connect_destroyed();
  }
}

void TcpClient::connect() {
  loop_.run_in_loop([life = life_] {
    TcpClient* self = life->client;
    if (self == nullptr || self->started_ || self->stopped_) return;
    self->started_ = true;
    if (!self->factory_)
      self->shared_protocol_ = std::make_shared<CallbackProtocol>(std::move(self->callbacks_));
    self->attempt();
  });
}

void TcpClient::stop() {
  loop_.run_in_loop([life = life_] {
    TcpClient* self = life->client;
    if (self == nullptr || self->stopped_) return;
    self->stopped_ = true;
    self->abandon_attempt();
    self->loop_.cancel(self->retry_timer_);
    if (const TcpConnectionPtr connection = self->connection()) connection->shutdown();
  });
}

TcpConnectionPtr TcpClient::connection() const {
  const std::lock_guard lock(mutex_);
  return connection_;
}

TcpClient::Stats TcpClient::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

void TcpClient::attempt() {
  loop_.assert_in_loop_thread();
  if (stopped_) return;
  {
    const std::lock_guard lock(mutex_);
    ++stats_.attempts;
  }
  try {
    socket_ = net::Socket::create(options_.server.family(), net::SocketType::tcp);
  } catch (const std::exception& e) {
    // Out of descriptors: an attempt that failed, retried after a delay like any other.
    reactor::log::warn("tcp-client", options_.server.to_string() + ": " + e.what());
    attempt_failed(EMFILE);
    return;
  }
  const net::IoResult r = socket_.connect(options_.server);
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "client: connecting to ",
                         options_.server.to_string(), " (attempt ", stats().attempts, ")");
  if (r.status == net::IoStatus::ok) {
    established();
  } else if (r.status == net::IoStatus::would_block) {
    // EINPROGRESS: writability says it is decided; SO_ERROR says how.
    channel_ = std::make_unique<reactor::Channel>(loop_, socket_.fd());
    channel_->on_write([this] { connect_ready(); });
    channel_->on_error([this] { connect_ready(); });
    channel_->on_close([this] { connect_ready(); });
    channel_->enable_writing();
    connect_timer_ = loop_.run_after(options_.connect_timeout, [life = life_] {
      if (TcpClient* self = life->client; self != nullptr && self->channel_) {
        self->abandon_attempt();
        self->attempt_failed(ETIMEDOUT);
      }
    });
  } else {
    attempt_failed(r.error);
  }
}

void TcpClient::connect_ready() {
  if (!channel_) return;
  const int error = socket_.pending_error();
  channel_->disable_all();
  channel_->remove();
  // Not destroyed here: this runs inside the Channel's own callback. The loop drops it later.
  loop_.queue_in_loop([channel = std::shared_ptr<reactor::Channel>(std::move(channel_))] {});
  loop_.cancel(connect_timer_);
  if (error != 0) {
    socket_ = net::Socket{net::FileDescriptor{}};
    attempt_failed(error);
    return;
  }
  // A connect to a port of this host with no listener can connect to itself (the kernel picks
  // the same ephemeral port): that is not the server.
  if (socket_.local_address() == options_.server) {
    socket_ = net::Socket{net::FileDescriptor{}};
    attempt_failed(ECONNREFUSED);
    return;
  }
  established();
}

void TcpClient::abandon_attempt() {
  if (channel_) {
    channel_->disable_all();
    channel_->remove();
    channel_.reset();
  }
  loop_.cancel(connect_timer_);
  socket_ = net::Socket{net::FileDescriptor{}};
}

void TcpClient::attempt_failed(int error) {
  {
    const std::lock_guard lock(mutex_);
    ++stats_.failures;
  }
  ++series_;
  reactor::log::debug("tcp-client",
                      options_.server.to_string() + ": connect: " + net::error_text(error));
  retry_later();
  if (failed_) failed_(error);
}

void TcpClient::established() {
  auto connection =
      std::make_shared<TcpConnection>(loop_, next_connection_id(loop_.pool_index()),
                                      std::move(socket_), options_.server, connection_options_);
  if (factory_) {
    connection->set_protocol(factory_(connection));
  } else {
    connection->set_protocol(shared_protocol_);
    connection->want_write_complete(shared_protocol_->wants_write_complete());
  }
  if (options_.filter) connection->set_filter(options_.filter());
  up_since_ = reactor::Clock::now();
  connection->connect_established();
  // Published only once established: another thread that sees it can send on it at once.
  const std::lock_guard lock(mutex_);
  if (connection->connected()) connection_ = connection;  // a callback may have closed it
  ++stats_.connected;
}

void TcpClient::closed(const TcpConnectionPtr& connection) {
  {
    const std::lock_guard lock(mutex_);
    if (connection_ == connection) connection_.reset();
  }
  // The last step after close, from a task: this runs inside the connection's own callback.
  loop_.queue_in_loop([connection] { connection->connect_destroyed(); });
  if (reactor::Clock::now() - up_since_ >= options_.backoff.reset_after) series_ = 0;
  ++series_;  // a reconnect waits like a failed attempt: a server that accepts and closes at
              // once is not hammered
  retry_later();
}

void TcpClient::retry_later() {
  const BackoffOptions& b = options_.backoff;
  const bool exhausted = b.max_attempts != 0 && series_ >= b.max_attempts;
  if (stopped_ || !b.retry || exhausted) {
    if (!stopped_) {
      const std::lock_guard lock(mutex_);
      stats_.gave_up = true;
    }
    return;
  }
  retry_timer_ = loop_.run_after(next_delay(), [life = life_] {
    if (TcpClient* self = life->client) self->attempt();
  });
}

std::chrono::microseconds TcpClient::next_delay() {
  const BackoffOptions& b = options_.backoff;
  // initial * 2^(series - 1), capped; the shift is bounded so it cannot overflow.
  const auto doublings =
      static_cast<unsigned>(std::min<std::size_t>(series_ == 0 ? 0 : series_ - 1, 30));
  const auto cap = std::min<std::int64_t>(b.max.count(), b.initial.count() << doublings);
  double fraction = 0;
  if (b.jitter) {
    fraction = std::clamp(b.jitter(), 0.0, 1.0);
  } else {
    thread_local std::minstd_rand random{std::random_device{}()};
    fraction = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  }
  return std::chrono::microseconds(
      static_cast<std::int64_t>(static_cast<double>(cap) * 1000.0 * fraction));
}

}  // namespace avant::tcp
