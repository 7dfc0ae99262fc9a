// TcpConnection's data path: reserve, send_in_loop, reading, writing, closing
// (tcp_connection.hpp). Lab 02 rewrites this file; the rest is in tcp_connection_lifecycle.cpp
// and tcp_connection_protocol.cpp.
#include <cerrno>
#include <cstring>
#include <string>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

SendStatus TcpConnection::reserve(std::size_t n) {
  if (state() != State::connected) return SendStatus::dropped;
  std::size_t queued = queued_.load(std::memory_order_relaxed);
  do {
    if (n > options_->max_output || queued > options_->max_output - n) {
      if (options_->overflow == OverflowPolicy::close) {
        reactor::log::warn("tcp", "connection " + std::to_string(id_) + " to " + peer_.to_string() +
                                      ": output over max_output (" +
                                      std::to_string(options_->max_output) + " bytes), closing");
        force_close();
      }
      return SendStatus::dropped;
    }
  } while (!queued_.compare_exchange_weak(queued, queued + n, std::memory_order_relaxed));
  return queued + n >= options_->high_water_mark ? SendStatus::backpressure : SendStatus::ok;
}

void TcpConnection::send_in_loop(std::string_view bytes, std::size_t reserved) {
  loop().assert_in_loop_thread();
  if (state() == State::disconnected) {  // closed while the bytes were on their way
    queued_.fetch_sub(reserved, std::memory_order_relaxed);
    return;
  }
  std::size_t written = 0;
  if (!channel_.is_writing() && output_.empty() && !bytes.empty()) {
    // Nothing queued ahead: try the socket directly and copy only what it does not take.
    const net::IoResult r = socket_.write(bytes);
    if (r.ok()) {
      written = r.bytes;
      bytes_written_.fetch_add(written, std::memory_order_relaxed);
      last_activity_ = loop().poll_time();
    } else if (r.status == net::IoStatus::error) {
      // EPIPE or ECONNRESET: the peer is gone. Close from a task, not from inside the caller
      // (which may be a message callback still using the connection).
      queued_.fetch_sub(reserved, std::memory_order_relaxed);
      force_close();
      return;
    }
  }
  const std::size_t remaining = bytes.size() - written;
  if (remaining > 0) {
    const std::size_t before = output_.readable_bytes();
    // Cannot be refused: reserve() kept every queued byte within max_output == output_'s limit.
    const bool appended = output_.append(bytes.substr(written));
    static_cast<void>(appended);
    const std::size_t after = output_.readable_bytes();
    if (before < options_->high_water_mark && after >= options_->high_water_mark) {
      report_high_water(after);
      if (options_->overflow == OverflowPolicy::pause_reading) {
        paused_by_backpressure_ = true;
        update_reading();
      }
    }
    if (!channel_.is_writing()) channel_.enable_writing();
  }
  queued_.fetch_sub(written, std::memory_order_relaxed);
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": send ", bytes.size(),
                         " bytes: ", written, " written at once, ", remaining, " queued (output ",
                         output_.readable_bytes(), ")");
  if (remaining == 0 && written > 0) report_write_complete();
}

void TcpConnection::shutdown() {
  State expected = State::connected;
  if (!state_.compare_exchange_strong(expected, State::disconnecting)) return;
  // Queued, never run inline: sends queued before this call (from any thread) are written first.
  loop().queue_in_loop([self = shared_from_this()] {
    if (self->state() != State::disconnected && !self->channel_.is_writing()) {
      self->half_close();
    }
  });
}

void TcpConnection::force_close() {
  State s = state();
  while (s == State::connected || s == State::disconnecting) {
    if (state_.compare_exchange_weak(s, State::disconnecting)) {
      loop().queue_in_loop([self = shared_from_this()] { self->handle_close(); });
      return;
    }
  }
}

void TcpConnection::update_reading() {
  const State s = state();
  const bool want = reading_wanted_ && !paused_by_backpressure_ && !peer_closed_ &&
                    (s == State::connected || s == State::disconnecting);
  if (want && !channel_.is_reading()) {
    channel_.enable_reading();
  } else if (!want && channel_.is_reading()) {
    channel_.disable_reading();
  }
}

void TcpConnection::handle_read() {
  loop().assert_in_loop_thread();
  if (state() == State::disconnected) return;  // closed by an earlier callback of this event
  net::Buffer& wire = read_buffer();  // input_, or the thread's buffer when input_ is empty
  const net::IoResult r = wire.read_fd(socket_.fd());
  switch (r.status) {
    case net::IoStatus::ok:
      bytes_read_.fetch_add(r.bytes, std::memory_order_relaxed);
      last_activity_ = loop().poll_time();
      if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
        reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": read ", r.bytes,
                             " bytes (input ", wire.readable_bytes(), "), passing it up");
      pass_up(wire);
      return;
    case net::IoStatus::would_block:
      return;
    case net::IoStatus::closed:
      // The peer half-closed. Finish writing what is queued, then close.
      if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
        reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_,
                             ": peer closed its side (output ", output_.readable_bytes(), ")");
      peer_closed_ = true;
      if (output_.empty()) {
        handle_close();
      } else {
        State expected = State::connected;
        state_.compare_exchange_strong(expected, State::disconnecting);
        update_reading();
      }
      return;
    case net::IoStatus::full:
      reactor::log::warn("tcp", "connection " + std::to_string(id_) + " from " + peer_.to_string() +
                                    ": input over max_input (" +
                                    std::to_string(options_->max_input) + " bytes), closing");
      handle_close();
      return;
    case net::IoStatus::error:
      reactor::log::debug(
          "tcp", "connection " + std::to_string(id_) + " read: " + net::error_text(r.error));
      handle_close();
      return;
  }
}

void TcpConnection::handle_write() {
  loop().assert_in_loop_thread();
  if (state() == State::disconnected || !channel_.is_writing()) return;
  const net::IoResult r = output_.write_fd(socket_.fd());
  if (r.status == net::IoStatus::would_block) return;
  if (!r.ok()) {
    reactor::log::debug(
        "tcp", "connection " + std::to_string(id_) + " write: " + net::error_text(r.error));
    handle_close();
    return;
  }
  queued_.fetch_sub(r.bytes, std::memory_order_relaxed);
  bytes_written_.fetch_add(r.bytes, std::memory_order_relaxed);
  last_activity_ = loop().poll_time();
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": wrote ", r.bytes,
                         " queued bytes (output ", output_.readable_bytes(), ")");
  if (paused_by_backpressure_ && output_.readable_bytes() <= options_->high_water_mark / 2) {
    paused_by_backpressure_ = false;
    update_reading();
  }
  if (!output_.empty()) return;
  channel_.disable_writing();
  report_write_complete();
  if (peer_closed_) {
    handle_close();
  } else if (state() == State::disconnecting) {
    half_close();
  }
}

void TcpConnection::handle_close() {
  loop().assert_in_loop_thread();
  if (state() == State::disconnected) return;
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_,
                         ": state -> disconnected, reporting down");
  state_.store(State::disconnected, std::memory_order_release);
  channel_.disable_all();
  // Queued output dies with the connection; sends still on their way give back their share when
  // they arrive (send_in_loop), so queued_ ends at 0.
  queued_.fetch_sub(output_.readable_bytes(), std::memory_order_relaxed);
  output_.retrieve_all();
  const TcpConnectionPtr self = shared_from_this();
  report_down();
  if (options_->on_close) options_->on_close(self);
}

}  // namespace avant::tcp
