// The given part of tcp_connection.hpp above the socket: the events for the protocol (up, bytes,
// write-complete, high water, down, drain), the protocol's switch with the unread bytes, and the
// connection filter (TLS) between the socket and the protocol. Lab 02 does not replace this file.
#include <cassert>
#include <string>
#include <utility>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

TcpConnection::FilterState::FilterState(std::unique_ptr<ConnectionFilter> f, std::size_t max_input)
    : filter(std::move(f)),
      filtered(net::BufferOptions{.initial_size = 0, .max_size = max_input}) {}

void TcpConnection::set_filter(std::unique_ptr<ConnectionFilter> filter) {
  filter_ = std::make_unique<FilterState>(std::move(filter), options_->max_input);
  // reserve() caps what the application sends at max_output; the filter adds its own bytes (TLS:
  // 22 per record of up to 16 KiB, handshake flights, tickets). The output buffer leaves room for
  // them, so an accepted send is never cut off by the buffer's own limit.
  output_ = net::Buffer(net::BufferOptions{
      .initial_size = 0,
      .max_size = options_->max_output + options_->max_output / 64 + (64u << 10)});
}

void TcpConnection::report_up() {
  up_ = true;
  if (filter_) loop().cancel(filter_->handshake_timer);
  protocol_->on_up(shared_from_this());
}

void TcpConnection::report_down() {
  if (up_) protocol_->on_down(shared_from_this());  // "down" after an "up" only
}

void TcpConnection::report_high_water(std::size_t queued) {
  // The handshake's own flights queue too: the protocol hears of the output from "up" on.
  if (!up_) return;
  loop().queue_in_loop(
      [self = shared_from_this(), queued] { self->protocol_->on_high_water(self, queued); });
}

void TcpConnection::report_write_complete() {
  shrink_if_large(output_);  // drained after a large answer: its memory goes back
  if (!write_complete_wanted_) return;
  loop().queue_in_loop([self = shared_from_this()] {
    if (self->up_ && self->write_complete_wanted_) self->protocol_->on_write_complete(self);
  });
}

namespace {

// The thread's read buffer (TcpConnection::read_buffer): one read of any size fits, so a read into
// it takes one iovec; it is empty between two events.
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): per-thread state by design
thread_local net::Buffer t_read_buffer(net::BufferOptions{.initial_size = net::Buffer::kExtraRead,
                                                          .max_size = net::Buffer::kExtraRead});
// The connection whose input_ holds that buffer's storage during its protocol's call, or null;
// meanwhile the buffer holds the connection's own (empty) input storage (release_buffers()).
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): per-thread state by design
thread_local const TcpConnection* t_lent_to = nullptr;

}  // namespace

net::Buffer& TcpConnection::read_buffer() {
  // A connection with unread bytes reads behind them; so does one whose max_input is below one
  // read, and a read while the thread's buffer is in use (never: reads do not nest).
  if (!input_.empty() || options_->max_input < net::Buffer::kExtraRead || !t_read_buffer.empty())
    return input_;
  return t_read_buffer;
}

void TcpConnection::pass_up(net::Buffer& wire) {
  if (&wire == &input_) {
    pass_up_input();
    shrink_if_large(input_);
    return;
  }
  // A read into the thread's buffer: its storage goes into input_ for the protocol (which sees
  // the connection's own buffer, as always, and may keep a pointer to it), and comes back after.
  input_.swap(wire);
  t_lent_to = this;
  try {
    pass_up_input();
  } catch (...) {
    t_lent_to = nullptr;
    input_.swap(wire);
    wire.retrieve_all();
    throw;
  }
  t_lent_to = nullptr;
  input_.swap(wire);
  // What the protocol left unread is the connection's (at most one read, within max_input).
  if (!wire.empty() && state() != State::disconnected) {
    const bool kept = input_.append(wire.view());
    assert(kept);
    static_cast<void>(kept);
  }
  wire.retrieve_all();
}

void TcpConnection::pass_up_input() {
  if (filter_) {
    filtered_input(input_);
    shrink_if_large(filter_->filtered);
  } else {
    dispatch(input_);
  }
}

void TcpConnection::shrink_if_large(net::Buffer& buffer) {
  // A buffer grown by a large message goes back once it is empty; a small one stays, so a busy
  // connection does not allocate on every read (release_buffers() frees it when idle).
  if (buffer.empty() && buffer.capacity() > kKeptBuffer) buffer.shrink();
}

void TcpConnection::release_buffers() {
  loop().assert_in_loop_thread();
  // Inside a protocol's call on the thread's read buffer (pass_up), input_ holds that buffer's
  // storage, which goes back to the thread, not to malloc; the connection's own input storage is
  // meanwhile in the thread's buffer object, and that is what is freed.
  net::Buffer* const input = t_lent_to == this ? &t_read_buffer : &input_;
  for (net::Buffer* buffer : {input, &output_, filter_ ? &filter_->filtered : nullptr}) {
    if (buffer != nullptr && buffer->empty() && buffer->capacity() > 0) buffer->shrink();
  }
}

namespace {

// The dispatch() running on this thread: whose, and its slot for a protocol switched away inside
// on_message. A frame on dispatch()'s stack, linked to the one it interrupted (a protocol may
// make another connection read), so that a connection keeps no pointer of its own for it.
struct DispatchFrame {
  const TcpConnection* connection;
  ProtocolPtr* retired;
  DispatchFrame* outer;
};
// NOLINTNEXTLINE(*-avoid-non-const-global-variables): per-thread state by design
thread_local DispatchFrame* t_innermost_dispatch = nullptr;

// The slot of the dispatch() of `connection` running on this thread, or null.
ProtocolPtr* retired_slot(const TcpConnection* connection) noexcept {
  for (const DispatchFrame* f = t_innermost_dispatch; f != nullptr; f = f->outer) {
    if (f->connection == connection) return f->retired;
  }
  return nullptr;
}

}  // namespace

void TcpConnection::dispatch(net::Buffer& input) {
  const TcpConnectionPtr self = shared_from_this();
  // A protocol switched away inside on_message lands here (switch_protocol), so it lives until that
  // call has returned; the thread's frame points to this slot, and only meanwhile.
  ProtocolPtr retired;
  DispatchFrame frame{this, &retired, t_innermost_dispatch};
  t_innermost_dispatch = &frame;
  try {
    for (;;) {
      Protocol* const reader = protocol_.get();
      reader->on_message(self, input);
      retired.reset();  // the call has returned
      // Switched inside on_message: the next protocol reads what is left (switch_protocol).
      if (protocol_.get() == reader || input.empty() || state() == State::disconnected) break;
    }
  } catch (...) {
    t_innermost_dispatch = frame.outer;
    throw;
  }
  t_innermost_dispatch = frame.outer;
}

bool TcpConnection::switch_protocol(ProtocolPtr next) {
  loop().assert_in_loop_thread();
  if (!next || state() != State::connected || !up_) return false;
  if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::tcp, "conn ", id_, ": protocol switched, ",
                         (filter_ ? filter_->filtered : input_).readable_bytes(),
                         " unread bytes handed over");
  // The old protocol may be what called us: it is released once it returned — by dispatch() when
  // the switch happens inside on_message (the common case, no task), else from a task.
  ProtocolPtr old = std::exchange(protocol_, std::move(next));
  ProtocolPtr* const retired = retired_slot(this);
  if (retired != nullptr && !*retired) {
    *retired = std::move(old);
  } else {
    loop().queue_in_loop([old = std::move(old)] {});
  }
  const TcpConnectionPtr self = shared_from_this();
  protocol_->on_up(self);
  net::Buffer& input = filter_ ? filter_->filtered : input_;
  // Inside on_message, dispatch() hands the rest over once that returns.
  if (retired == nullptr && !input.empty() && state() != State::disconnected) dispatch(input);
  return true;
}

void TcpConnection::drain() {
  loop().assert_in_loop_thread();
  if (!connected()) return;
  if (up_) {
    protocol_->on_drain(shared_from_this());
  } else {
    shutdown();  // a handshake still in progress: the protocol has nothing in flight
  }
}

void TcpConnection::deliver(std::string_view bytes, std::size_t reserved) {
  loop().assert_in_loop_thread();
  if (!filter_) {
    send_in_loop(bytes, reserved);
    return;
  }
  if (state() == State::disconnected) {
    queued_.fetch_sub(reserved, std::memory_order_relaxed);
    return;
  }
  if (filter_->filter->send(bytes) != ConnectionFilter::Status::ok) {
    queued_.fetch_sub(reserved, std::memory_order_relaxed);
    filter_failed();
    return;
  }
  if (!filter_->filter->ready()) {
    // Held by the filter until the handshake is done: still counted in queued_, so max_output
    // bounds what waits there too.
    filter_->held_reserved += reserved;
    return;
  }
  flush_filter(reserved);
}

void TcpConnection::flush_filter(std::size_t reserved) {
  std::string wire;
  static_cast<void>(filter_->filter->take_output(wire));
  // queued_ counts what goes to the socket: the filter's records, not the bytes reserved for them.
  if (wire.size() > reserved) {
    queued_.fetch_add(wire.size() - reserved, std::memory_order_relaxed);
  } else {
    queued_.fetch_sub(reserved - wire.size(), std::memory_order_relaxed);
  }
  if (!wire.empty()) send_in_loop(wire, wire.size());
}

void TcpConnection::filtered_input(net::Buffer& wire) {
  ConnectionFilter& filter = *filter_->filter;
  net::Buffer& filtered = filter_->filtered;
  const ConnectionFilter::Status status = filter.receive(wire.view(), filtered);
  wire.retrieve_all();
  // Handshake messages, alerts, answers the filter owes the peer; and, once the handshake is
  // done, the records of what was held until then (counted since its send()).
  flush_filter(filter.ready() ? std::exchange(filter_->held_reserved, 0) : 0);
  if (status == ConnectionFilter::Status::error) {
    filter_failed();
    return;
  }
  if (!up_ && filter.ready()) report_up();
  if (up_ && !filtered.empty() && state() != State::disconnected) dispatch(filtered);
  if (status == ConnectionFilter::Status::closed) shutdown();  // answer the peer's goodbye
}

void TcpConnection::filter_failed() {
  reactor::log::warn("tcp", "connection " + std::to_string(id_) + " from " + peer_.to_string() +
                                ": " + filter_->filter->error() + "; closing");
  force_close();
}
}  // namespace avant::tcp
