// The given lifecycle of tcp_connection.hpp: names, construction, the send() overloads, set-up and
// tear-down with the owner (connect_established, connect_destroyed), send_file, the half-close
// and errors. Lab 02 does not replace this file; what lies above the socket (the protocol's
// events, its switch, the filter) is in tcp_connection_protocol.cpp.
#include <algorithm>
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
                             const net::SocketAddress& peer,
                             std::shared_ptr<const ConnectionShared> options)
    : id_(id),
      socket_(std::move(socket)),
      channel_(loop, socket_.fd()),
      peer_(peer),
      options_(std::move(options)),
      // Empty until bytes stay unread: reads go to the thread's buffer (read_buffer()).
      input_(net::BufferOptions{.initial_size = 0, .max_size = options_->max_input}),
      output_(net::BufferOptions{.initial_size = 0, .max_size = options_->max_output}),
      protocol_(dropping_protocol()) {
  channel_.set_handler(*this);
  // Edge-triggered (chapter 02, "A connection is edge-triggered"): epoll reports the connections
  // with new bytes in the order the bytes arrived, not in the same order round after round, which
  // keeps the tail latency of many busy connections down. on_readable() comes back for what a
  // read leaves in the socket.
  channel_.set_edge_triggered(true);
  if (options_->no_delay) socket_.set_no_delay(true);
}

TcpConnection::~TcpConnection() = default;

SendStatus TcpConnection::send(std::string_view bytes) {
  const SendStatus status = reserve(bytes.size());
  if (status == SendStatus::dropped) return status;
  if (loop().is_in_loop_thread()) {
    deliver(bytes, bytes.size());
  } else {
    loop().queue_in_loop([self = shared_from_this(), copy = std::string(bytes)] {
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
  if (loop().is_in_loop_thread()) {
    deliver(bytes, bytes.size());
  } else {
    loop().queue_in_loop([self = shared_from_this(), moved = std::move(bytes)] {
      self->deliver(moved, moved.size());
    });
  }
  return status;
}

void TcpConnection::set_reading(bool on) {
  loop().assert_in_loop_thread();
  reading_wanted_ = on;
  update_reading();
}

void TcpConnection::connect_established() {
  loop().assert_in_loop_thread();
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": state -> connected, peer ",
                         peer_.to_string(), ", fd ", socket_.fd());
  state_.store(State::connected, std::memory_order_release);
  last_activity_ = reactor::Clock::now();
  channel_.tie(shared_from_this());
  if (filter_) {
    filter_->handshake_timer = loop().run_after(
        options_->handshake_timeout, [weak = weak_from_this(), ms = options_->handshake_timeout] {
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
  if (!filter_ || filter_->filter->ready()) report_up();
  if (filter_) flush_filter(0);  // a client filter's first handshake message
}

net::IoResult TcpConnection::send_file(int file_fd, std::uint64_t offset, std::size_t count) {
  loop().assert_in_loop_thread();
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
      last_activity_ = loop().poll_time();
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
    filter_->filter->close();
    std::string goodbye;
    static_cast<void>(filter_->filter->take_output(goodbye));
    // Best effort and direct: the output has drained, so a short record fits the socket buffer.
    if (!goodbye.empty()) static_cast<void>(socket_.write(goodbye));
  }
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": half-closed (FIN sent)");
  static_cast<void>(socket_.shutdown_write());
}

void TcpConnection::connect_destroyed() {
  loop().assert_in_loop_thread();
  const State s = state();
  if (s == State::connected || s == State::disconnecting) {
    // The owner is going away with the connection still open (server shutdown).
    state_.store(State::disconnected, std::memory_order_release);
    channel_.disable_all();
    report_down();
  }
  channel_.remove();
  if (filter_) {
    loop().cancel(filter_->handshake_timer);
    queued_.fetch_sub(std::exchange(filter_->held_reserved, 0), std::memory_order_relaxed);
  }
  // Close the descriptor now, not when the last reference goes: the application may keep a
  // TcpConnectionPtr for a while, and the peer must see the close when it happens.
  socket_ = net::Socket{net::FileDescriptor{}};
}

void TcpConnection::on_readable() {
  // Edge-triggered, an event reports what arrived once. Three reads leave something behind that
  // no new edge will report, so the connection comes back for it itself:
  // - one that took all the room it had (Buffer::read_fd reads into the writable part and a
  //   kExtraRead side buffer, up to max_size: buffer.hpp): more bytes may wait in the socket;
  // - one that got bytes while the peer had closed its side (EPOLLRDHUP, or EPOLLHUP when both
  //   sides are): the end of the stream waits behind them;
  // - one that got bytes while urgent data was pending (EPOLLPRI): a read stops at the urgent
  //   mark, with bytes after it still in the socket.
  // The next read runs from the loop's queue, after the other connections' events of this round
  // (where a level-triggered poll would have put it). A shorter read emptied the socket: bytes
  // that come later raise a new edge.
  // The room of the buffer read_buffer() picks: the thread's (kExtraRead, empty) when input_ is
  // empty and max_input allows a whole one, else input_. (Worked out here rather than asked of
  // read_buffer(): its thread-local costs a call. Should the thread's buffer be busy, which reads
  // never nest for, input_ is read and this errs towards one read too many.)
  const std::size_t max_input = options_->max_input;
  const std::size_t room = input_.empty() && max_input >= net::Buffer::kExtraRead
                               ? net::Buffer::kExtraRead
                               : std::min(input_.writable_bytes() + net::Buffer::kExtraRead,
                                          max_input - std::min(max_input, input_.readable_bytes()));
  const std::uint64_t before = bytes_read_.load(std::memory_order_relaxed);
  handle_read();
  const std::uint64_t got = bytes_read_.load(std::memory_order_relaxed) - before;
  const bool more_behind = (channel_.revents() & (EPOLLRDHUP | EPOLLHUP | EPOLLPRI)) != 0;
  if (got > 0 && (got >= room || more_behind) && state() != State::disconnected &&
      channel_.is_reading()) {
    loop().queue_in_loop([weak = weak_from_this()] {
      if (const auto self = weak.lock(); self && self->channel_.is_reading()) self->on_readable();
    });
  }
}

void TcpConnection::on_writable() {
  handle_write();
}

void TcpConnection::on_hang_up() {
  handle_close();
}

void TcpConnection::on_error() {
  handle_error();
}

void TcpConnection::handle_error() {
  const int error = socket_.pending_error();
  reactor::log::debug("tcp",
                      "connection " + std::to_string(id_) + " error: " + net::error_text(error));
  // epoll reports EPOLLERR until the descriptor is gone (level-triggered, or with each new edge):
  // close, do not spin.
  handle_close();
}

}  // namespace avant::tcp
