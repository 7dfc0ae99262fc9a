// http_session.cpp — keep-alive, pipelining and timeouts for one connection (lab 05 rewrites
// the core of this file).
#include "http_session.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <avant/reactor/log.hpp>

namespace avant::http {

namespace {

constexpr std::chrono::milliseconds kLinger{2000};  // after our FIN, wait this long for the peer's

// Decimal or hex digits of n, appended; no allocation, no locale.
void append_number(std::string& out, std::uint64_t n, unsigned base = 10) {
  std::array<char, 20> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): written below
  char* end = buf.data() + buf.size();
  char* p = end;
  do {
    const auto digit = static_cast<unsigned>(n % base);
    *--p = static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10);
    n /= base;
  } while (n != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

}  // namespace

Session::Session(std::shared_ptr<HttpServer::Shared> shared, tcp::TcpConnection& connection)
    : shared_(std::move(shared)),
      options_(shared_->options),
      connection_(connection),
      loop_(connection.loop()),
      parser_(shared_->options.limits) {}

void Session::begin() {
  idle_since_ = loop_.poll_time();
  update_timer();  // the wait for the first request (needs weak_from_this: not in the constructor)
}

// --- input ---

void Session::on_message(net::Buffer& input) {
  input_ = &input;
  last_input_ = loop_.poll_time();
  if (input_closed_) {
    input.retrieve_all();  // read and dropped until the peer closes (a lingering close)
    return;
  }
  process();
}

void Session::process() {
  if (processing_ || input_ == nullptr) return;
  processing_ = true;
  // Every answer given while this read is parsed leaves in one send (one write(2) for a whole
  // pipeline of small answers, as the C ceiling does), flushed below.
  batching_ = true;
  while (!closed_ && !input_closed_ && !input_->empty()) {
    if (queue_.size() >= options_.max_pipeline) {
      if (!paused_) {
        paused_ = true;
        connection_.set_reading(false);
      }
      break;
    }
    const auto result = parser_.feed(input_->view());
    input_->retrieve(result.consumed);
    if (result.status == RequestParser::Status::need_more) break;
    if (result.status == RequestParser::Status::error) {
      shared_->bad_requests.fetch_add(1, std::memory_order_relaxed);
      fail(parser_.error().status, parser_.error().reason);
      break;
    }
    Request& request = parser_.request();
    if (parser_.upgrade()) {
      // Chapter 05 speaks HTTP only: an Upgrade is ignored (RFC 9110 §7.8 allows it) and HTTP
      // goes on; after CONNECT the bytes would be a tunnel, so the connection ends instead.
      if (request.method == "CONNECT") {
        request.keep_alive = false;
      } else {
        parser_.continue_after_upgrade();
      }
    }
    continue_sent_ = false;
    dispatch(request);
  }
  processing_ = false;
  batching_ = false;
  flush_batch();
  if (closed_) return;
  if (input_closed_ && input_ != nullptr) input_->retrieve_all();
  // A client waiting for "100 Continue" gets it once the answers before its request are out.
  if (!input_closed_ && parser_.awaiting_continue() && !continue_sent_ && queue_.empty()) {
    continue_sent_ = true;
    (void)send_or_close("HTTP/1.1 100 Continue\r\n\r\n");
  }
  update_timer();
}

std::shared_ptr<detail::Exchange> Session::new_exchange() {
  std::shared_ptr<detail::Exchange> ex;
  if (spare_) {
    ex = std::move(spare_);  // recycled: no allocation per request in the steady state
    ex->reset();
  } else {
    ex = std::make_shared<detail::Exchange>();
    ex->connection = connection_.weak_from_this();
    ex->session = weak_from_this();
    ex->loop = &loop_;
  }
  return ex;
}

void Session::dispatch(Request& request) {
  auto ex = new_exchange();
  ex->head_only = request.is_head();
  ex->http10 = request.version_minor == 0;
  ++requests_;
  ex->close = !request.keep_alive || draining_ || requests_ >= options_.max_requests_per_connection;
  if (ex->close) input_closed_ = true;
  queue_.push_back(ex);
  shared_->requests.fetch_add(1, std::memory_order_relaxed);
  try {
    shared_->handler(request, Responder(ex));
  } catch (const std::exception& e) {
    reactor::log::error("http",
                        connection_.peer_address().to_string() + ": handler threw: " + e.what());
    // The Responder was destroyed during unwinding and answered 500 if nothing had been sent.
  }
}

void Session::fail(int status, const std::string& reason) {
  reactor::log::warn("http", connection_.peer_address().to_string() + ": " +
                                 std::to_string(status) + " " + std::string(reason_phrase(status)) +
                                 " (" + reason + ")");
  auto ex = new_exchange();
  ex->close = true;
  ex->answered = true;
  ex->finished = true;
  input_closed_ = true;
  queue_.push_back(ex);
  answer(*ex, Response::text(status, std::string(reason_phrase(status)) + "\n"));
}

// --- output ---

void Session::serialize_head(detail::Exchange& ex, Response& response, std::string& out,
                             std::optional<std::uint64_t> length) {
  // One pass over the handler's fields: what it set itself, and what framing it asked for.
  bool has_server = options_.server_header.empty();
  bool has_date = false;
  for (const auto& [name, value] : response.headers) {
    switch (name.size()) {
      case 4:
        has_date = has_date || iequals(name, "Date");
        break;
      case 6:
        has_server = has_server || iequals(name, "Server");
        break;
      case 10:
        if (iequals(name, "Connection") && list_contains(value, "close")) ex.close = true;
        break;
      default:
        break;
    }
  }
  // While draining, the last answer of an idle pipeline says goodbye.
  if (draining_ && !queue_.empty() && &ex == queue_.back().get() &&
      parser_.phase() == RequestParser::Phase::idle)
    ex.close = true;
  if (ex.close) input_closed_ = true;

  if (const std::string_view line = status_line(response.status); !line.empty()) {
    out += line;
  } else {
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::uint64_t>(response.status));
    out += ' ';
    out += reason_phrase(response.status);
    out += "\r\n";
  }
  if (!has_server) out += shared_->server_line;
  if (!has_date) out += date_line_now();
  for (const auto& [name, value] : response.headers) {
    // Framing is ours to decide.
    if ((name.size() == 10 && iequals(name, "Connection")) ||
        (name.size() == 14 && iequals(name, "Content-Length")) ||
        (name.size() == 17 && iequals(name, "Transfer-Encoding")))
      continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  const bool may_have_body = status_allows_body(response.status);
  if (may_have_body && length) {
    out += "Content-Length: ";
    append_number(out, *length);
    out += "\r\n";
  } else if (may_have_body && ex.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (ex.close) {
    out += "Connection: close\r\n";
  } else if (ex.http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

void Session::answer(detail::Exchange& ex, Response&& response) {
  // After shut_ the queue is gone (a `Connection: close` answer ended the pipeline): too late.
  if (closed_ || shut_ || ex.state != detail::Exchange::State::waiting) return;
  std::optional<std::uint64_t> length = response.body.size();
  if (ex.head_only) {
    // The length the full answer would have: the handler's, or the body it computed anyway.
    if (const auto declared = response.headers.get("Content-Length");
        declared && response.body.empty()) {
      std::uint64_t n = 0;
      const auto* first = declared->data();
      const auto [ptr, ec] = std::from_chars(first, first + declared->size(), n);
      length = (ec == std::errc() && ptr == first + declared->size()) ? std::optional(n)
                                                                      : std::optional(length);
    }
  }
  if (!status_allows_body(response.status)) length.reset();  // 1xx, 204, 304: no length, no body
  // Built in a buffer the session keeps (no allocation once it has grown), then copied where it
  // goes: the read's batch, the connection, or the exchange's held bytes.
  const bool body = !ex.head_only && status_allows_body(response.status);
  ex.state = detail::Exchange::State::done;
  if (batching_ && queue_.front().get() == &ex) {
    // The common case, a synchronous answer in front: formatted straight into the read's batch.
    serialize_head(ex, response, batch_, length);
    if (body) batch_ += response.body;
    if (connection_.queued_output() + batch_.size() >= connection_.options().high_water_mark)
      want_writable(ex);
  } else {
    std::string& out = scratch_;
    out.clear();
    serialize_head(ex, response, out, length);
    if (body) out += response.body;
    (void)emit_view(ex, out);
  }
  complete(ex);
}

void Session::start(detail::Exchange& ex, Response&& head) {
  if (closed_ || shut_ || ex.state != detail::Exchange::State::waiting) return;
  std::optional<std::uint64_t> length;
  if (const auto declared = head.headers.get("Content-Length")) {
    std::uint64_t n = 0;
    const auto* first = declared->data();
    const auto [ptr, ec] = std::from_chars(first, first + declared->size(), n);
    if (ec == std::errc() && ptr == first + declared->size()) length = n;
  }
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
  std::string out;
  serialize_head(ex, head, out, length);
  ex.state = detail::Exchange::State::streaming;
  emit(ex, std::move(out));
  if (!body.empty()) (void)write(ex, body);
}

tcp::SendStatus Session::write(detail::Exchange& ex, std::string_view bytes) {
  if (closed_) return tcp::SendStatus::dropped;
  if (ex.state != detail::Exchange::State::streaming) return tcp::SendStatus::dropped;
  if (bytes.empty() || ex.head_only) return tcp::SendStatus::ok;
  if (ex.remaining) {
    if (bytes.size() > *ex.remaining) {
      reactor::log::error("http", "a streamed answer wrote more than its Content-Length");
      abort(ex);
      return tcp::SendStatus::dropped;
    }
    *ex.remaining -= bytes.size();
    return emit_status(ex, std::string(bytes));
  }
  if (ex.chunked) {
    std::string chunk;
    chunk.reserve(bytes.size() + 24);
    append_number(chunk, bytes.size(), 16);
    chunk += "\r\n";
    chunk += bytes;
    chunk += "\r\n";
    return emit_status(ex, std::move(chunk));
  }
  return emit_status(ex, std::string(bytes));
}

tcp::SendStatus Session::send_file(detail::Exchange& ex, int file_fd, std::uint64_t& offset,
                                   std::uint64_t& remaining) {
  if (closed_ || ex.state != detail::Exchange::State::streaming) return tcp::SendStatus::dropped;
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
  if (queue_.front().get() != &ex) {  // an earlier answer is still going out
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
  if (closed_ || ex.state != detail::Exchange::State::streaming) return;
  if (ex.remaining && *ex.remaining > 0 && !ex.head_only) {
    reactor::log::error("http", "a streamed answer finished " + std::to_string(*ex.remaining) +
                                    " bytes short of its Content-Length");
    abort(ex);
    return;
  }
  ex.state = detail::Exchange::State::done;
  if (ex.chunked && !ex.head_only) emit(ex, "0\r\n\r\n");
  complete(ex);
}

void Session::abort(detail::Exchange& ex) {
  ex.state = detail::Exchange::State::done;
  ex.close = true;
  input_closed_ = true;
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

void Session::emit(detail::Exchange& ex, std::string&& bytes) {
  (void)emit_status(ex, std::move(bytes));
}

tcp::SendStatus Session::emit_view(detail::Exchange& ex, std::string_view bytes) {
  if (!queue_.empty() && queue_.front().get() == &ex) {
    tcp::SendStatus status = tcp::SendStatus::ok;
    if (batching_) {
      batch_ += bytes;
      if (connection_.queued_output() + batch_.size() >= connection_.options().high_water_mark)
        status = tcp::SendStatus::backpressure;
    } else {
      status = send_or_close(std::string(bytes));
    }
    if (status == tcp::SendStatus::backpressure) want_writable(ex);
    return status;
  }
  ex.held += bytes;
  if (ex.held.size() >= connection_.options().high_water_mark) {
    want_writable(ex);
    return tcp::SendStatus::backpressure;
  }
  return tcp::SendStatus::ok;
}

tcp::SendStatus Session::emit_status(detail::Exchange& ex, std::string&& bytes) {
  if (!queue_.empty() && queue_.front().get() == &ex) {
    const tcp::SendStatus status = send_or_close(std::move(bytes));
    if (status == tcp::SendStatus::backpressure) want_writable(ex);
    return status;
  }
  ex.held += bytes;
  if (ex.held.size() >= connection_.options().high_water_mark) {
    want_writable(ex);
    return tcp::SendStatus::backpressure;
  }
  return tcp::SendStatus::ok;
}

void Session::flush_batch() {
  if (batch_.empty()) return;
  // A view: the connection copies only what the kernel does not take at once, and batch_ keeps
  // its storage for the next read.
  const tcp::SendStatus status = connection_.send(std::string_view(batch_));
  batch_.clear();
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
  if (write_complete_registered_) return;
  // Registered on the first need only: most connections never wait for their output, and a
  // registered callback costs a queued task after every completed write.
  write_complete_registered_ = true;
  connection_.on_write_complete([weak = weak_from_this()](const tcp::TcpConnectionPtr&) {
    if (auto self = weak.lock()) self->on_write_complete();
  });
}

tcp::SendStatus Session::send_or_close(std::string&& bytes) {
  if (batching_) {
    batch_ += bytes;
    return connection_.queued_output() + batch_.size() >= connection_.options().high_water_mark
               ? tcp::SendStatus::backpressure
               : tcp::SendStatus::ok;
  }
  const tcp::SendStatus status = connection_.send(std::move(bytes));
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
        if (!self || self->closed_ || self->queue_.empty() || self->queue_.front() != ex) return;
        self->on_write_complete();
      });
    }
  }
}

void Session::complete(detail::Exchange& ex) {
  ex.writable_cb = nullptr;  // nothing more to write; also ends a producer's self-reference
  advance();
}

void Session::advance() {
  bool popped = false;
  while (!closed_ && !queue_.empty() && queue_.front()->state == detail::Exchange::State::done) {
    std::shared_ptr<detail::Exchange> done = std::move(queue_.front());
    queue_.pop_front();
    popped = true;
    const bool close = done->close;
    // Nobody else holds it (its Responder is gone): keep it for the next request.
    if (done.use_count() == 1) spare_ = std::move(done);
    if (close) {
      queue_.clear();
      close_after_output();
      return;
    }
    if (!queue_.empty()) {
      detail::Exchange& next = *queue_.front();
      if (!next.held.empty()) {
        std::string held = std::move(next.held);
        next.held.clear();
        if (send_or_close(std::move(held)) == tcp::SendStatus::backpressure) want_writable(next);
      } else if (next.writable_wanted && next.writable_cb) {
        // It waited for its turn (send_file) with nothing held: its turn is now.
        loop_.queue_in_loop([weak = weak_from_this(), ex = queue_.front()] {
          auto self = weak.lock();
          if (!self || self->closed_ || self->queue_.empty() || self->queue_.front() != ex) return;
          self->on_write_complete();
        });
      }
    }
  }
  if (!popped || closed_) return;
  if (queue_.empty()) {
    idle_since_ = loop_.poll_time();
    if (draining_ && parser_.phase() == RequestParser::Phase::idle) {
      close_after_output();
      return;
    }
  }
  if (paused_ && queue_.size() < options_.max_pipeline) {
    paused_ = false;
    connection_.set_reading(true);
  }
  process();  // the requests already read and waiting in the input (no-op inside process())
}

void Session::close_after_output() {
  if (shut_ || closed_) return;
  shut_ = true;
  input_closed_ = true;
  if (input_ != nullptr) input_->retrieve_all();
  if (paused_) {
    paused_ = false;
    connection_.set_reading(true);  // keep reading (and dropping) until the peer closes
  }
  batching_ = false;
  flush_batch();
  connection_.shutdown();
  update_timer();
}

void Session::on_write_complete() {
  if (closed_ || queue_.empty()) return;
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
  closed_ = true;
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

void Session::drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  if (queue_.empty() && parser_.phase() == RequestParser::Phase::idle) {
    close_after_output();
  }
  // Otherwise the request being read or answered is finished first; advance() closes after it.
}

// --- timeouts ---

void Session::compute_wait() {
  const reactor::TimePoint now = loop_.poll_time();
  const Wait before = wait_;
  if (shut_) {
    if (before != Wait::linger) deadline_ = now + kLinger;
    wait_ = Wait::linger;
  } else if (parser_.phase() == RequestParser::Phase::head) {
    if (before != Wait::head) head_since_ = now;
    wait_ = Wait::head;
    deadline_ = head_since_ + options_.header_timeout;
  } else if (parser_.phase() == RequestParser::Phase::body) {
    wait_ = Wait::body;
    deadline_ = last_input_ + options_.body_timeout;
  } else if (!queue_.empty()) {
    // Answers in production: no byte moving either way for send_timeout (a client that stopped
    // reading, a handler that never answers) ends the connection.
    if (before != Wait::answer) answer_since_ = now;
    wait_ = Wait::answer;
    deadline_ = std::max(answer_since_, connection_.last_activity()) + options_.send_timeout;
  } else if (requests_ == 0) {
    wait_ = Wait::first_request;
    deadline_ = idle_since_ + options_.header_timeout;
  } else {
    wait_ = Wait::idle;
    deadline_ = idle_since_ + options_.keep_alive_timeout;
  }
}

void Session::update_timer() {
  if (closed_) return;
  compute_wait();
  // Lazy: a timer already set for a later moment finds the new deadline when it fires and
  // re-arms; only a deadline that moved earlier needs a new timer.
  if (!timer_armed_ || deadline_ < timer_at_) arm_timer();
}

void Session::arm_timer() {
  if (timer_armed_) loop_.cancel(timer_);
  timer_armed_ = true;
  timer_at_ = deadline_;
  timer_ = loop_.run_at(deadline_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_fired();
  });
}

void Session::timer_fired() {
  timer_armed_ = false;
  if (closed_) return;
  compute_wait();  // what is awaited now, and until when (it may have moved on)
  if (reactor::Clock::now() < deadline_) {
    arm_timer();
    return;
  }
  switch (wait_) {
    case Wait::head:
    case Wait::body:
      shared_->timeouts.fetch_add(1, std::memory_order_relaxed);
      fail(408, wait_ == Wait::head ? "request head not complete within the header timeout"
                                    : "request body stalled past the body timeout");
      break;
    case Wait::first_request:
    case Wait::idle:
      close_after_output();
      break;
    case Wait::answer:
      reactor::log::warn("http", connection_.peer_address().to_string() +
                                     ": no progress on an answer within the send timeout; closing");
      connection_.force_close();
      break;
    case Wait::linger:
      connection_.force_close();
      break;
  }
}

}  // namespace avant::http
