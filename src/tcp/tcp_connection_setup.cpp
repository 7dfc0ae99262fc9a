// The given half of tcp_connection.hpp: names, construction, the send overloads, set-up and
// tear-down with the owner, the events for the protocol and its switch, and the connection filter
// (TLS) plumbing. Lab 02 does not replace this file.
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <sys/sendfile.h>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

namespace {

// Until the owner sets one: a protocol that drops what it reads. One for the process.
const ProtocolPtr& dropping_protocol() {
  static const ProtocolPtr dropping =
      std::make_shared<CallbackProtocol>(CallbackProtocol::Callbacks{});
  return dropping;
}

}  // namespace

std::string_view to_string(SendStatus status) noexcept {
  switch (status) {
    case SendStatus::ok:
      return "ok";
    case SendStatus::backpressure:
      return "backpressure";
    case SendStatus::dropped:
      return "dropped";
  }
  return "unknown";
}

std::string_view to_string(OverflowPolicy policy) noexcept {
  switch (policy) {
    case OverflowPolicy::pause_reading:
      return "pause_reading";
    case OverflowPolicy::drop:
      return "drop";
    case OverflowPolicy::close:
      return "close";
  }
  return "unknown";
}

TcpConnection::TcpConnection(reactor::EventLoop& loop, std::uint64_t id, net::Socket socket,
                             const net::SocketAddress& peer, const ConnectionOptions& options)
    : loop_(loop),
      id_(id),
      socket_(std::move(socket)),
      channel_(loop, socket_.fd()),
      peer_(peer),
      options_(options),
      // Empty until bytes come: read_fd's stack side buffer takes a first read of any size.
      input_(net::BufferOptions{.initial_size = 0, .max_size = options.max_input}),
      output_(net::BufferOptions{.initial_size = 0, .max_size = options.max_output}),
      filtered_(net::BufferOptions{.initial_size = 0, .max_size = options.max_input}),
      protocol_(dropping_protocol()) {
  channel_.on_read([this] { handle_read(); });
  channel_.on_write([this] { handle_write(); });
  channel_.on_close([this] { handle_close(); });
  channel_.on_error([this] { handle_error(); });
  if (options_.no_delay) socket_.set_no_delay(true);
}

TcpConnection::~TcpConnection() = default;

SendStatus TcpConnection::send(std::string_view bytes) {
  const SendStatus status = reserve(bytes.size());
  if (status == SendStatus::dropped) return status;
  if (loop_.is_in_loop_thread()) {
    deliver(bytes, bytes.size());
  } else {
    loop_.queue_in_loop([self = shared_from_this(), copy = std::string(bytes)] {
      self->deliver(copy, copy.size());
    });
  }
  return status;
}

SendStatus TcpConnection::send(std::span<const std::byte> bytes) {
  return send(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

SendStatus TcpConnection::send(std::string&& bytes) {
  const SendStatus status = reserve(bytes.size());
  if (status == SendStatus::dropped) return status;
  if (loop_.is_in_loop_thread()) {
    deliver(bytes, bytes.size());
  } else {
    loop_.queue_in_loop([self = shared_from_this(), moved = std::move(bytes)] {
      self->deliver(moved, moved.size());
    });
  }
  return status;
}

void TcpConnection::set_reading(bool on) {
  loop_.assert_in_loop_thread();
  reading_wanted_ = on;
  update_reading();
}

void TcpConnection::set_filter(std::unique_ptr<ConnectionFilter> filter) {
  filter_ = std::move(filter);
  // reserve() caps what the application sends at max_output; the filter adds its own bytes (TLS:
  // 22 per record of up to 16 KiB, handshake flights, tickets). The output buffer leaves room for
  // them, so an accepted send is never cut off by the buffer's own limit.
  output_ = net::Buffer(net::BufferOptions{
      .initial_size = 0, .max_size = options_.max_output + options_.max_output / 64 + (64u << 10)});
}

void TcpConnection::connect_established() {
  loop_.assert_in_loop_thread();
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": state -> connected, peer ",
                         peer_.to_string(), ", fd ", socket_.fd());
  state_.store(State::connected, std::memory_order_release);
  last_activity_ = reactor::Clock::now();
  channel_.tie(shared_from_this());
  if (filter_) {
    handshake_timer_ = loop_.run_after(
        options_.handshake_timeout, [weak = weak_from_this(), ms = options_.handshake_timeout] {
          const TcpConnectionPtr self = weak.lock();
          if (!self || self->up_ || self->state() == State::disconnected) return;
          reactor::log::warn("tcp", "connection " + std::to_string(self->id_) + " from " +
                                        self->peer_.to_string() + ": handshake not done after " +
                                        std::to_string(ms.count()) + " ms, closing");
          self->force_close();
        });
  }
  update_reading();
  // With a filter, "up" waits for its handshake (filtered_input) unless it has nothing to
  // negotiate.
  if (!filter_ || filter_->ready()) report_up();
  if (filter_) flush_filter(0);  // a client filter's first handshake message
}

void TcpConnection::report_up() {
  up_ = true;
  if (filter_) loop_.cancel(handshake_timer_);
  protocol_->on_up(shared_from_this());
}

void TcpConnection::report_down() {
  if (up_) protocol_->on_down(shared_from_this());  // "down" after an "up" only
}

void TcpConnection::report_high_water(std::size_t queued) {
  // The handshake's own flights queue too: the protocol hears of the output from "up" on.
  if (!up_) return;
  loop_.queue_in_loop(
      [self = shared_from_this(), queued] { self->protocol_->on_high_water(self, queued); });
}

void TcpConnection::report_write_complete() {
  release_if_empty(output_);  // the output drained: an idle connection holds no buffer
  if (!write_complete_wanted_) return;
  loop_.queue_in_loop([self = shared_from_this()] {
    if (self->up_ && self->write_complete_wanted_) self->protocol_->on_write_complete(self);
  });
}

void TcpConnection::pass_up(net::Buffer& wire) {
  if (filter_) {
    filtered_input(wire);
    release_if_empty(filtered_);
  } else {
    dispatch(wire);
  }
  // Everything was consumed (the common case between requests): give the memory back, so that an
  // idle connection costs no buffer. The next read starts in read_fd's stack side buffer.
  release_if_empty(wire);
}

void TcpConnection::release_if_empty(net::Buffer& buffer) {
  if (buffer.empty() && buffer.capacity() > net::Buffer::kCheapPrepend) buffer.shrink();
}

void TcpConnection::dispatch(net::Buffer& input) {
  const TcpConnectionPtr self = shared_from_this();
  dispatching_ = true;
  try {
    for (;;) {
      Protocol* const reader = protocol_.get();
      reader->on_message(self, input);
      // Switched inside on_message: the next protocol reads what is left (switch_protocol).
      if (protocol_.get() == reader || input.empty() || state() == State::disconnected) break;
    }
  } catch (...) {
    dispatching_ = false;
    throw;
  }
  dispatching_ = false;
}

bool TcpConnection::switch_protocol(ProtocolPtr next) {
  loop_.assert_in_loop_thread();
  if (!next || state() != State::connected || !up_) return false;
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": protocol switched, ",
                         (filter_ ? filtered_ : input_).readable_bytes(),
                         " unread bytes handed over");
  // The old protocol may be what called us: it is released from a task, after it returned.
  loop_.queue_in_loop([old = std::exchange(protocol_, std::move(next))] {});
  const TcpConnectionPtr self = shared_from_this();
  protocol_->on_up(self);
  net::Buffer& input = filter_ ? filtered_ : input_;
  // Inside on_message, dispatch() hands the rest over once that returns.
  if (!dispatching_ && !input.empty() && state() != State::disconnected) dispatch(input);
  return true;
}

void TcpConnection::drain() {
  loop_.assert_in_loop_thread();
  if (!connected()) return;
  if (up_) {
    protocol_->on_drain(shared_from_this());
  } else {
    shutdown();  // a handshake still in progress: the protocol has nothing in flight
  }
}

void TcpConnection::deliver(std::string_view bytes, std::size_t reserved) {
  loop_.assert_in_loop_thread();
  if (!filter_) {
    send_in_loop(bytes, reserved);
    return;
  }
  if (state() == State::disconnected) {
    queued_.fetch_sub(reserved, std::memory_order_relaxed);
    return;
  }
  if (filter_->send(bytes) != ConnectionFilter::Status::ok) {
    queued_.fetch_sub(reserved, std::memory_order_relaxed);
    filter_failed();
    return;
  }
  if (!filter_->ready()) {
    // Held by the filter until the handshake is done: still counted in queued_, so max_output
    // bounds what waits there too.
    held_reserved_ += reserved;
    return;
  }
  flush_filter(reserved);
}

void TcpConnection::flush_filter(std::size_t reserved) {
  std::string wire;
  static_cast<void>(filter_->take_output(wire));
  // queued_ counts what goes to the socket: the filter's records, not the bytes reserved for them.
  if (wire.size() > reserved) {
    queued_.fetch_add(wire.size() - reserved, std::memory_order_relaxed);
  } else {
    queued_.fetch_sub(reserved - wire.size(), std::memory_order_relaxed);
  }
  if (!wire.empty()) send_in_loop(wire, wire.size());
}

void TcpConnection::filtered_input(net::Buffer& wire) {
  const ConnectionFilter::Status status = filter_->receive(wire.view(), filtered_);
  wire.retrieve_all();
  // Handshake messages, alerts, answers the filter owes the peer; and, once the handshake is
  // done, the records of what was held until then (counted since its send()).
  flush_filter(filter_->ready() ? std::exchange(held_reserved_, 0) : 0);
  if (status == ConnectionFilter::Status::error) {
    filter_failed();
    return;
  }
  if (!up_ && filter_->ready()) report_up();
  if (up_ && !filtered_.empty() && state() != State::disconnected) dispatch(filtered_);
  if (status == ConnectionFilter::Status::closed) shutdown();  // answer the peer's goodbye
}

void TcpConnection::filter_failed() {
  reactor::log::warn("tcp", "connection " + std::to_string(id_) + " from " + peer_.to_string() +
                                ": " + filter_->error() + "; closing");
  force_close();
}

net::IoResult TcpConnection::send_file(int file_fd, std::uint64_t offset, std::size_t count) {
  loop_.assert_in_loop_thread();
  if (state() != State::connected || filter_)
    return {.status = net::IoStatus::error, .error = EINVAL};
  if (!output_.empty()) {
    // The queued bytes go first; handle_write reports write-complete once they are out.
    if (!channel_.is_writing()) channel_.enable_writing();
    return {.status = net::IoStatus::would_block};
  }
  auto off = static_cast<off_t>(offset);
  for (;;) {
    const ssize_t n = ::sendfile(socket_.fd(), file_fd, &off, count);
    if (n >= 0) {
      const auto sent = static_cast<std::size_t>(n);
      bytes_written_.fetch_add(sent, std::memory_order_relaxed);
      last_activity_ = loop_.poll_time();
      // The socket may be full: handle_write, with nothing queued, reports write-complete when
      // it is writable again.
      if (sent < count && !channel_.is_writing()) channel_.enable_writing();
      return {.status = net::IoStatus::ok, .bytes = sent};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!channel_.is_writing()) channel_.enable_writing();
      return {.status = net::IoStatus::would_block};
    }
    const int error = errno;
    reactor::log::debug(
        "tcp", "connection " + std::to_string(id_) + " sendfile: " + net::error_text(error));
    force_close();
    return {.status = net::IoStatus::error, .error = error};
  }
}

void TcpConnection::half_close() {
  if (filter_ && up_) {
    filter_->close();
    std::string goodbye;
    static_cast<void>(filter_->take_output(goodbye));
    // Best effort and direct: the output has drained, so a short record fits the socket buffer.
    if (!goodbye.empty()) static_cast<void>(socket_.write(goodbye));
  }
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": half-closed (FIN sent)");
  static_cast<void>(socket_.shutdown_write());
}

void TcpConnection::connect_destroyed() {
  loop_.assert_in_loop_thread();
  const State s = state();
  if (s == State::connected || s == State::disconnecting) {
    // The owner is going away with the connection still open (server shutdown).
    state_.store(State::disconnected, std::memory_order_release);
    channel_.disable_all();
    report_down();
  }
  channel_.remove();
  loop_.cancel(handshake_timer_);
  queued_.fetch_sub(std::exchange(held_reserved_, 0), std::memory_order_relaxed);
  // Close the descriptor now, not when the last reference goes: the application may keep a
  // TcpConnectionPtr for a while, and the peer must see the close when it happens.
  socket_ = net::Socket{net::FileDescriptor{}};
}

void TcpConnection::handle_error() {
  const int error = socket_.pending_error();
  reactor::log::debug("tcp",
                      "connection " + std::to_string(id_) + " error: " + net::error_text(error));
  // Level-triggered epoll reports EPOLLERR until the descriptor is gone: close, do not spin.
  handle_close();
}

}  // namespace avant::tcp
