// http_session_output.cpp — the given output of the Session (lab 05 does not rewrite this file):
// construction, the exchanges, the answers (answer, start/write/finish, send_file, abort), the
// order of a pipeline's bytes (the front writes, the others hold), the read's batch, backpressure
// and the close after the output. The keep-alive and pipeline logic that drives it is in
// http_session.cpp; the head of an answer in http_session_head.cpp, the timeouts in
// http_session_timeouts.cpp.
#include <algorithm>
#include <string>
#include <utility>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>

#include "http_session.hpp"
#include "numbers.hpp"

namespace avant::http {

Session::Session(std::shared_ptr<HttpServer::Shared> shared, tcp::TcpConnection& connection,
                 std::size_t requests)
    : shared_(std::move(shared)),
      options_(shared_->options),
      connection_(connection),
      loop_(connection.loop()),
      parser_(shared_->options.limits),
      requests_(requests) {}

void Session::begin() {
  idle_since_ = loop_.poll_time();
  // A resumed session (after a Rest) is handed the bytes that woke it right after this: its
  // wait starts with them.
  if (requests_ == 0) update_timer();  // the first request (needs weak_from_this: not in the ctor)
}

bool Session::can_rest() const noexcept {
  return !processing_ && queue_.empty() && input_state_ == Input::reading &&
         output_state_ == Output::open && !draining_ &&
         parser_.phase() == RequestParser::Phase::idle && !parser_.failed() &&
         (input_ == nullptr || input_->empty());
}

void Session::rest() {
  if (timer_armed_) {
    loop_.cancel(timer_);
    timer_armed_ = false;
  }
  connection_.want_write_complete(false);
  connection_.release_buffers();
  // From here this session does nothing (Responders of its finished answers find it "down"); the
  // connection releases it once the call that got here has returned.
  output_state_ = Output::down;
  shared_->rests.fetch_add(1, std::memory_order_relaxed);
  static_cast<void>(
      connection_.switch_protocol(std::make_shared<Rest>(*shared_, requests_, idle_since_)));
}

std::shared_ptr<detail::Exchange> Session::new_exchange() {
  std::shared_ptr<detail::Exchange> ex;
  if (spare_ && spare_.use_count() == 1) {
    ex = std::move(spare_);  // recycled: its Responder is gone; no allocation per request
    ex->reset();
  } else {
    ex = std::make_shared<detail::Exchange>();
    ex->connection = connection_.weak_from_this();
    ex->session = weak_from_this();
    ex->loop = &loop_;
  }
  // The request being dispatched asked to upgrade (process() called hold_for_upgrade first).
  ex->upgrade = input_state_ == Input::upgrading;
  return ex;
}

void Session::answer(detail::Exchange& ex, Response&& response) {
  // Once shut the queue is gone (a `Connection: close` answer ended the pipeline): too late.
  if (output_state_ != Output::open || ex.state != detail::Exchange::State::waiting) return;
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", connection_.id(), ": answer ",
                         response.status, ", body ", response.body_view().size(), " bytes");
  const std::string_view body_bytes = response.body_view();
  std::optional<std::uint64_t> length = body_bytes.size();
  if (ex.head_only) {
    // The length the full answer would have: the handler's, or the body it computed anyway.
    if (const auto declared = response.headers.get("Content-Length");
        declared && body_bytes.empty()) {
      if (const auto n = numbers::parse(*declared)) length = n;
    }
  }
  if (!status_allows_body(response.status)) length.reset();  // 1xx, 204, 304: no length, no body
  // Built in a buffer the session keeps (no allocation once it has grown), then copied where it
  // goes: the read's batch, the connection, or the exchange's held bytes.
  const bool body = !ex.head_only && status_allows_body(response.status);
  ex.state = detail::Exchange::State::done;
  if (batching() && queue_.front().get() == &ex) {
    // The common case, a synchronous answer in front: formatted straight into the read's batch.
    if (!length || !write_common_answer(ex, response, batch_, *length,
                                        body ? body_bytes : std::string_view())) {
      serialize_head(ex, response, batch_, length);
      if (body) batch_.append(body_bytes);
    }
    if (at_high_water(connection_.queued_output() + batch_.size())) want_writable(ex);
  } else {
    detail::OutputBytes& out = scratch_;
    out.clear();
    serialize_head(ex, response, out, length);
    if (body) out.append(body_bytes);
    (void)emit(ex, out.view());
  }
  complete(ex);
}

void Session::upgrade(detail::Exchange& ex, Response&& head, tcp::ProtocolPtr next) {
  if (output_state_ != Output::open || ex.state != detail::Exchange::State::waiting) return;
  if (!ex.upgrade || ex.close || !next) {
    // Not an Upgrade request, or the connection ends after this answer (the server drains, the
    // request said `Connection: close` or was the connection's last): nothing to hand over.
    const int status = ex.upgrade && next ? 503 : 500;
    reactor::log::warn("http", connection_.peer_address().to_string() + ": upgrade refused with " +
                                   std::to_string(status) +
                                   (ex.upgrade ? " (the connection is closing)"
                                               : " (the request did not ask for one)"));
    answer(ex, Response::text(status, std::string(reason_phrase(status)) + "\n"));
    return;
  }
  head.status = 101;
  head.body.clear();
  head.shared_body.reset();
  ex.switch_to = std::move(next);
  answer(ex, std::move(head));
}

void Session::start(detail::Exchange& ex, Response&& head) {
  if (output_state_ != Output::open || ex.state != detail::Exchange::State::waiting) return;
  std::optional<std::uint64_t> length;
  if (const auto declared = head.headers.get("Content-Length")) length = numbers::parse(*declared);
  if (length) {
    ex.remaining = *length;
  } else if (ex.http10) {
    ex.close = true;  // no chunked encoding in HTTP/1.0: the end of the body is the close
  } else {
    ex.chunked = true;
  }
  if (!status_allows_body(head.status)) {
    ex.chunked = false;
    ex.remaining = 0;
  }
  std::string body = std::move(head.body);
  const std::shared_ptr<const std::string> shared_body = std::move(head.shared_body);
  detail::OutputBytes& out = scratch_;
  out.clear();
  serialize_head(ex, head, out, length);
  ex.state = detail::Exchange::State::streaming;
  (void)emit(ex, out.view());
  if (!body.empty()) (void)write(ex, body);
  if (shared_body && !shared_body->empty()) (void)write(ex, *shared_body);
}

tcp::SendStatus Session::write(detail::Exchange& ex, std::string_view bytes) {
  if (closed()) return tcp::SendStatus::dropped;
  if (ex.state != detail::Exchange::State::streaming) return tcp::SendStatus::dropped;
  if (bytes.empty() || ex.head_only) return tcp::SendStatus::ok;
  if (ex.remaining) {
    if (bytes.size() > *ex.remaining) {
      reactor::log::error("http", "a streamed answer wrote more than its Content-Length");
      abort(ex);
      return tcp::SendStatus::dropped;
    }
    *ex.remaining -= bytes.size();
    return emit(ex, bytes);
  }
  if (ex.chunked) {
    std::string chunk;
    chunk.reserve(bytes.size() + 24);
    numbers::append(chunk, bytes.size(), 16);
    chunk += "\r\n";
    chunk += bytes;
    chunk += "\r\n";
    return emit(ex, chunk);
  }
  return emit(ex, bytes);
}

tcp::SendStatus Session::send_file(detail::Exchange& ex, int file_fd, std::uint64_t& offset,
                                   std::uint64_t& remaining) {
  if (closed() || ex.state != detail::Exchange::State::streaming) return tcp::SendStatus::dropped;
  if (ex.head_only) {
    remaining = 0;
    return tcp::SendStatus::ok;
  }
  if (!ex.remaining || remaining > *ex.remaining || connection_.filter() != nullptr) {
    reactor::log::error("http",
                        "send_file needs a stream with a Content-Length covering it, "
                        "on a connection without TLS");
    abort(ex);
    return tcp::SendStatus::dropped;
  }
  if (queue_.empty() || queue_.front().get() != &ex) {  // an earlier answer is still going out
    want_writable(ex);
    return tcp::SendStatus::backpressure;
  }
  flush_batch();  // the head (and answers before it) go to the socket before the file's bytes
  while (remaining > 0) {
    const std::size_t ask = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, 1u << 30));
    const net::IoResult r = connection_.send_file(file_fd, offset, ask);
    if (r.status == net::IoStatus::error) return tcp::SendStatus::dropped;
    if (r.ok() && r.bytes > 0) {
      offset += r.bytes;
      remaining -= r.bytes;
      *ex.remaining -= r.bytes;
    }
    if (!r.ok() || r.bytes < ask) {
      if (remaining == 0) break;
      want_writable(ex);  // write-complete comes when the socket takes more
      return tcp::SendStatus::backpressure;
    }
  }
  return tcp::SendStatus::ok;
}

void Session::finish(detail::Exchange& ex) {
  if (closed() || ex.state != detail::Exchange::State::streaming) return;
  if (ex.remaining && *ex.remaining > 0 && !ex.head_only) {
    reactor::log::error("http", "a streamed answer finished " + std::to_string(*ex.remaining) +
                                    " bytes short of its Content-Length");
    abort(ex);
    return;
  }
  ex.state = detail::Exchange::State::done;
  if (ex.chunked && !ex.head_only) (void)emit(ex, "0\r\n\r\n");
  complete(ex);
}

void Session::abort(detail::Exchange& ex) {
  ex.state = detail::Exchange::State::done;
  ex.close = true;
  close_input();
  if (!queue_.empty() && queue_.front().get() == &ex) {
    connection_.force_close();
  } else {
    // Earlier answers still go out; this one ends the connection when its turn comes.
    ex.held.clear();
    ex.chunked = false;
    complete(ex);
  }
}

void Session::set_writable_callback(detail::Exchange& ex, std::function<void()> cb) {
  ex.writable_cb = std::move(cb);
}

tcp::SendStatus Session::emit(detail::Exchange& ex, std::string_view bytes) {
  if (!queue_.empty() && queue_.front().get() == &ex) {
    // In front: to the read's batch or straight to the connection (send_or_close decides).
    const tcp::SendStatus status = send_or_close(bytes);
    if (status == tcp::SendStatus::backpressure) want_writable(ex);
    return status;
  }
  ex.held += bytes;  // held until its turn
  if (at_high_water(ex.held.size())) {
    want_writable(ex);
    return tcp::SendStatus::backpressure;
  }
  return tcp::SendStatus::ok;
}

void Session::flush_batch() {
  if (batch_.empty()) return;
  // A view: the connection copies only what the kernel does not take at once; batch_ keeps
  // its storage while the pipeline is busy.
  const tcp::SendStatus status = connection_.send(batch_.view());
  batch_.clear();
  // Idle: a batch that a big answer grew is given back; a small one stays for the next request
  // (all of it goes when the connection rests).
  if (queue_.empty() && batch_.capacity() > kBatchKept) batch_.release();
  if (status == tcp::SendStatus::dropped && connection_.connected()) {
    reactor::log::warn("http", connection_.peer_address().to_string() +
                                   ": answers over the connection's max_output; closing");
    connection_.force_close();
  } else if (status == tcp::SendStatus::backpressure && !queue_.empty()) {
    want_writable(*queue_.front());
  }
}

void Session::want_writable(detail::Exchange& ex) {
  ex.writable_wanted = true;
  // Asked for on the first need only: most connections never wait for their output, and each
  // write-complete costs a queued task.
  connection_.want_write_complete(true);
  // The write that answered `backpressure` may have been taken whole by the kernel before the
  // callback existed: with nothing queued no write-complete will come, so wake the producer from
  // the loop's queue. (Inside a read the batch is flushed later, with the callback in place.)
  if (!batching() && connection_.queued_output() == 0) {
    loop_.queue_in_loop([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_write_complete();
    });
  }
}

tcp::SendStatus Session::send_or_close(std::string_view bytes) {
  if (batching()) {
    batch_.append(bytes);
    return at_high_water(connection_.queued_output() + batch_.size())
               ? tcp::SendStatus::backpressure
               : tcp::SendStatus::ok;
  }
  // A view: on the loop thread the connection copies only what the kernel does not take at once.
  const tcp::SendStatus status = connection_.send(bytes);
  if (status == tcp::SendStatus::dropped && connection_.connected()) {
    // Over max_output: the answer can not go out whole, and the client would take the next
    // answer for this one. The connection ends instead.
    reactor::log::warn("http", connection_.peer_address().to_string() +
                                   ": an answer over the connection's max_output; closing");
    connection_.force_close();
  }
  return status;
}

void Session::write_from_elsewhere(detail::Exchange& ex, std::string_view bytes,
                                   bool told_backpressure) {
  const tcp::SendStatus status = write(ex, bytes);
  // The producer was told to wait for on_writable; if this write did not itself set that up
  // (the output had drained in the meantime), wake it once the loop is free.
  if (told_backpressure && status == tcp::SendStatus::ok && !queue_.empty() &&
      queue_.front().get() == &ex) {
    want_writable(ex);
    if (connection_.queued_output() == 0) {
      loop_.queue_in_loop([weak = weak_from_this(), ex = queue_.front()] {
        auto self = weak.lock();
        if (!self || self->closed() || self->queue_.empty() || self->queue_.front() != ex) return;
        self->on_write_complete();
      });
    }
  }
}

void Session::close_after_output() {
  if (output_state_ != Output::open) return;
  output_state_ = Output::shut;  // batching() ends: the batch goes now, before the FIN
  close_input();
  if (input_ != nullptr) input_->retrieve_all();
  flush_batch();
  connection_.shutdown();
  update_timer();
}

void Session::hold_for_upgrade(Request& request) {
  request.upgrade = true;
  if (input_state_ == Input::paused || input_state_ == Input::reading) {
    input_state_ = Input::upgrading;
    connection_.set_reading(false);
  }
}

bool Session::finish_upgrade(detail::Exchange& ex) {
  if (input_state_ != Input::upgrading) return false;
  if (!ex.switch_to) {
    // Declined (any answer but Responder::upgrade()): the next request follows this one.
    parser_.continue_after_upgrade();
    input_state_ = Input::reading;
    connection_.set_reading(true);
    return false;
  }
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", connection_.id(),
                         ": 101, leaving HTTP");
  tcp::ProtocolPtr next = std::move(ex.switch_to);
  // The 101 goes first (the connection sends in order), then whatever the next protocol sends.
  flush_batch();
  if (timer_armed_) {
    loop_.cancel(timer_);
    timer_armed_ = false;
  }
  connection_.want_write_complete(false);
  connection_.set_reading(true);
  // From here this session does nothing, as after rest(): the connection releases it once the
  // running call has returned, and hands the bytes after the request to `next`.
  output_state_ = Output::down;
  input_state_ = Input::closed;
  for (const auto& other : queue_)
    other->writable_cb = nullptr;
  queue_.clear();
  static_cast<void>(connection_.switch_protocol(std::move(next)));
  return true;
}

void Session::pause_input() {
  if (input_state_ != Input::reading) return;
  input_state_ = Input::paused;
  connection_.set_reading(false);
}

void Session::resume_input() {
  if (input_state_ != Input::paused) return;
  input_state_ = Input::reading;
  connection_.set_reading(true);
}

void Session::close_input() {
  // A paused connection reads again: what comes is dropped until the peer closes (a lingering
  // close; unread bytes at our close would make the kernel send a reset).
  if (input_state_ == Input::paused || input_state_ == Input::upgrading)
    connection_.set_reading(true);
  input_state_ = Input::closed;
}

bool Session::at_high_water(std::size_t bytes) const noexcept {
  return bytes >= connection_.options().high_water_mark;
}

void Session::give_back_memory() {
  // The spare exchange and a small scratch stay for the next request (they go with the Session
  // when it rests); a scratch that a big head grew is given back now.
  scratch_.clear();
  if (scratch_.capacity() > kScratchKept) scratch_.release();
  queue_.shrink(kQueueKept);
}

void detail::OutputBytes::grow(std::size_t n) {
  // At least doubled (appends to a batch cost amortized O(1)), and never below a small head.
  constexpr std::size_t kFirst = 512;
  const std::size_t capacity = std::max({size_ + n, capacity_ * 2, kFirst});
  auto next = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(next.get(), data_.get(), size_);
  data_ = std::move(next);
  capacity_ = capacity;
}

void Session::on_write_complete() {
  if (closed() || queue_.empty()) return;
  detail::Exchange& front = *queue_.front();
  if (front.writable_wanted) {
    front.writable_wanted = false;
    if (front.writable_cb) {
      auto cb = front.writable_cb;  // the callback may replace itself
      cb();
    }
  }
}

void Session::on_down() {
  output_state_ = Output::down;
  batch_.clear();
  // A streaming producer's callback may hold its own Responder (and so the exchange): drop the
  // callbacks so that the cycle ends with the connection.
  for (const auto& ex : queue_)
    ex->writable_cb = nullptr;
  queue_.clear();
  if (timer_armed_) {
    loop_.cancel(timer_);
    timer_armed_ = false;
  }
}

}  // namespace avant::http
