// http_session_setup.cpp — the given half of the Session (lab 05 does not rewrite this file):
// construction, the framing and output of answers (serialize_head, answer, start/write/finish,
// send_file, the read's batch), and the timeouts. The keep-alive and pipeline logic that drives
// it is in http_session.cpp.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <utility>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>

#include "http_session.hpp"

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

std::shared_ptr<detail::Exchange> Session::new_exchange() {
  std::shared_ptr<detail::Exchange> ex;
  if (spare_) {
    ex = std::move(spare_);  // recycled: no allocation for the requests of one pipeline
    ex->reset();
  } else {
    ex = std::make_shared<detail::Exchange>();
    ex->connection = connection_.weak_from_this();
    ex->session = weak_from_this();
    ex->loop = &loop_;
  }
  return ex;
}

void Session::serialize_head(detail::Exchange& ex, Response& response, std::string& out,
                             std::optional<std::uint64_t> length) {
  // One pass over the handler's fields: what it set itself, what framing it asked for, and how
  // many bytes they take.
  bool has_server = options_.server_header.empty();
  bool has_date = false;
  std::size_t fields = 0;
  for (const auto& [name, value] : response.headers) {
    fields += name.size() + value.size() + 4;
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

  // The head is written through a pointer into `out`, grown once to a bound on its size: a
  // dozen small appends would each check the capacity and call memcpy.
  std::string_view line = status_line(response.status);
  std::string custom;
  if (line.empty()) {
    custom = "HTTP/1.1 ";
    append_number(custom, static_cast<std::uint64_t>(response.status));
    custom += ' ';
    custom += reason_phrase(response.status);
    custom += "\r\n";
    line = custom;
  }
  const std::string_view server = has_server ? std::string_view() : shared_->server_line;
  const std::string_view date = has_date ? std::string_view() : date_line_now();
  constexpr std::size_t kFraming = 40 + 30 + 26;  // Content-Length, Transfer-Encoding, Connection
  const std::size_t start = out.size();
  out.resize(start + line.size() + server.size() + date.size() + fields + kFraming + 2);
  char* p = out.data() + start;
  const auto put = [&p](std::string_view v) {
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  };
  put(line);
  put(server);
  put(date);
  for (const auto& [name, value] : response.headers) {
    // Framing is ours to decide.
    if ((name.size() == 10 && iequals(name, "Connection")) ||
        (name.size() == 14 && iequals(name, "Content-Length")) ||
        (name.size() == 17 && iequals(name, "Transfer-Encoding")))
      continue;
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
  const bool may_have_body = status_allows_body(response.status);
  if (may_have_body && length) {
    put("Content-Length: ");
    std::array<char, 20> digits;  // NOLINT(cppcoreguidelines-pro-type-member-init): written below
    char* end = digits.data() + digits.size();
    char* d = end;
    std::uint64_t n = *length;
    do {
      *--d = static_cast<char>('0' + n % 10);
      n /= 10;
    } while (n != 0);
    put(std::string_view(d, static_cast<std::size_t>(end - d)));
    put("\r\n");
  } else if (may_have_body && ex.chunked) {
    put("Transfer-Encoding: chunked\r\n");
  }
  if (ex.close) {
    put("Connection: close\r\n");
  } else if (ex.http10) {
    put("Connection: keep-alive\r\n");
  }
  put("\r\n");
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void Session::answer(detail::Exchange& ex, Response&& response) {
  // After shut_ the queue is gone (a `Connection: close` answer ended the pipeline): too late.
  if (closed_ || shut_ || ex.state != detail::Exchange::State::waiting) return;
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", connection_.id(), ": answer ",
                         response.status, ", body ", response.body.size(), " bytes");
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
  return emit_view(ex, bytes);  // held until its turn
}

void Session::flush_batch() {
  if (batch_.empty()) return;
  // A view: the connection copies only what the kernel does not take at once; batch_ keeps
  // its storage while the pipeline is busy.
  const tcp::SendStatus status = connection_.send(std::string_view(batch_));
  batch_.clear();
  if (queue_.empty()) batch_.shrink_to_fit();  // idle: the next request's batch allocates anew
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
  if (!write_complete_registered_) {
    // Asked for on the first need only: most connections never wait for their output, and each
    // write-complete costs a queued task.
    write_complete_registered_ = true;
    connection_.want_write_complete(true);
  }
  // The write that answered `backpressure` may have been taken whole by the kernel before the
  // callback existed: with nothing queued no write-complete will come, so wake the producer from
  // the loop's queue. (Inside a read the batch is flushed later, with the callback in place.)
  if (!batching_ && connection_.queued_output() == 0) {
    loop_.queue_in_loop([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_write_complete();
    });
  }
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

void Session::release_idle_memory() {
  spare_.reset();
  scratch_.clear();
  scratch_.shrink_to_fit();
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

void Session::compute_wait() {
  const reactor::TimePoint now = loop_.poll_time();
  const Wait before = wait_;
  // A failed parser (a 408 or 400 on its way) or a pipeline that reads no more waits only for
  // its answers: the head and body timeouts are over.
  const bool reading = !input_closed_ && !parser_.failed();
  if (shut_) {
    if (before != Wait::linger) deadline_ = now + kLinger;
    wait_ = Wait::linger;
  } else if (reading && parser_.phase() == RequestParser::Phase::head) {
    if (before != Wait::head) head_since_ = now;
    wait_ = Wait::head;
    deadline_ = head_since_ + options_.header_timeout;
  } else if (reading && parser_.phase() == RequestParser::Phase::body) {
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
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(
        reactor::trace::Topic::http, "conn ", connection_.id(), ": timeout while waiting for the ",
        std::array{"first request", "request head", "request body", "answer", "next request",
                   "peer's close"}[static_cast<std::size_t>(wait_)]);
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
  // What comes next has its own deadline (a 408 queued behind an answer: the send timeout).
  update_timer();
}

}  // namespace avant::http
