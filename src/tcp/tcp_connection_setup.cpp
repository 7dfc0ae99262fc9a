// The given half of tcp_connection.hpp: names, construction, the send overloads, set-up and
// tear-down with the owner. Lab 02 does not replace this file.
#include <cstring>
#include <string>

#include <avant/reactor/log.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

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
      input_(net::BufferOptions{.initial_size = 2048, .max_size = options.max_input}),
      output_(net::BufferOptions{.initial_size = 0, .max_size = options.max_output}),
      connection_cb_([](const TcpConnectionPtr&) {}),
      message_cb_([](const TcpConnectionPtr&, net::Buffer& in) { in.retrieve_all(); }) {
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
    send_in_loop(bytes, bytes.size());
  } else {
    loop_.queue_in_loop([self = shared_from_this(), copy = std::string(bytes)] {
      self->send_in_loop(copy, copy.size());
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
    send_in_loop(bytes, bytes.size());
  } else {
    loop_.queue_in_loop([self = shared_from_this(), moved = std::move(bytes)] {
      self->send_in_loop(moved, moved.size());
    });
  }
  return status;
}

void TcpConnection::set_reading(bool on) {
  loop_.assert_in_loop_thread();
  reading_wanted_ = on;
  update_reading();
}

void TcpConnection::connect_established() {
  loop_.assert_in_loop_thread();
  state_.store(State::connected, std::memory_order_release);
  last_activity_ = reactor::Clock::now();
  channel_.tie(shared_from_this());
  update_reading();
  connection_cb_(shared_from_this());
}

void TcpConnection::connect_destroyed() {
  loop_.assert_in_loop_thread();
  const State s = state();
  if (s == State::connected || s == State::disconnecting) {
    // The owner is going away with the connection still open (server shutdown).
    state_.store(State::disconnected, std::memory_order_release);
    channel_.disable_all();
    connection_cb_(shared_from_this());
  }
  channel_.remove();
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
