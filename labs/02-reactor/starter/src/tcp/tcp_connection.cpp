// Lab 02 — TcpConnection's data path. Contract and the state and backpressure pictures:
// src/tcp/include/avant/tcp/tcp_connection.hpp. (Construction, the send() overloads,
// connect_established/connect_destroyed are given in src/tcp/tcp_connection_lifecycle.cpp; the
// events for the protocol — pass_up(), report_high_water(), report_write_complete(),
// report_down() — in src/tcp/tcp_connection_protocol.cpp.)
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <avant/reactor/log.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(02): ") + what);
}
}  // namespace

SendStatus TcpConnection::reserve(std::size_t n) {
  static_cast<void>(n);
  todo(
      "TcpConnection::reserve: dropped unless connected; add n to queued_ with a CAS loop unless "
      "that passes max_output (then apply the overflow policy); backpressure at high water");
}

void TcpConnection::send_in_loop(std::string_view bytes, std::size_t reserved) {
  static_cast<void>(bytes);
  static_cast<void>(reserved);
  todo(
      "TcpConnection::send_in_loop: write directly if nothing is queued, buffer the rest, "
      "enable writing, report high water once when crossing it, give back queued_");
}

void TcpConnection::shutdown() {
  todo(
      "TcpConnection::shutdown: connected -> disconnecting; queue a task that half-closes "
      "(half_close()) once nothing is left to write");
}

void TcpConnection::force_close() {
  todo(
      "TcpConnection::force_close: connected or disconnecting -> disconnecting; queue "
      "handle_close");
}

void TcpConnection::update_reading() {
  todo(
      "TcpConnection::update_reading: read only if the application wants it, backpressure does "
      "not pause it, and the peer has not closed");
}

void TcpConnection::handle_read() {
  todo(
      "TcpConnection::handle_read: read_fd into input_; ok -> pass_up(input_); closed -> finish "
      "writing then close; full or error -> close");
}

void TcpConnection::handle_write() {
  todo(
      "TcpConnection::handle_write: write_fd the output; resume reading below high water / 2; "
      "when empty: stop writing, report write-complete, then close or half-close if asked");
}

void TcpConnection::handle_close() {
  todo(
      "TcpConnection::handle_close: once: state disconnected, no more events, drop the output, "
      "report_down(), then options_->on_close (the owner's close callback) if set");
}

}  // namespace avant::tcp
