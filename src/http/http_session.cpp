// http_session.cpp — keep-alive and pipelining for one connection: reading requests in order,
// handing each to the handler, and moving the queue of answers along. Lab 05 rewrites this file;
// the rest of the Session is given: its output (http_session_output.cpp), the head of an answer
// (http_session_head.cpp) and its timeouts (http_session_timeouts.cpp).
#include "http_session.hpp"

#include <utility>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>

namespace avant::http {

void Session::on_message(net::Buffer& input) {
  input_ = &input;
  last_input_ = loop_.poll_time();
  if (input_state_ == Input::closed) {
    input.retrieve_all();  // read and dropped until the peer closes (a lingering close)
    return;
  }
  process();
}

void Session::process() {
  if (processing_ || input_ == nullptr) return;
  // Every answer given while this read is parsed leaves in one send (one write(2) for a whole
  // pipeline of small answers, as the C ceiling does), flushed below: batching() is true while
  // processing_ is.
  processing_ = true;
  while (output_state_ == Output::open && input_state_ == Input::reading && !input_->empty()) {
    if (queue_.size() >= options_.max_pipeline) {
      pause_input();
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
      // After CONNECT the bytes would be a tunnel, which this server does not offer: the
      // connection ends after the answer. Any other Upgrade waits for the handler's decision
      // (hold_for_upgrade, given): Responder::upgrade() hands the connection over, any other
      // answer ignores the Upgrade (RFC 9110 §7.8 allows it) and HTTP goes on.
      if (request.method == "CONNECT") {
        request.keep_alive = false;
      } else {
        hold_for_upgrade(request);
      }
    }
    continue_sent_ = false;
    dispatch(request);
  }
  processing_ = false;
  flush_batch();
  if (output_state_ == Output::down) return;
  if (input_state_ == Input::closed && input_ != nullptr) input_->retrieve_all();
  // A client waiting for "100 Continue" gets it once the answers before its request are out.
  if (input_state_ != Input::closed && parser_.awaiting_continue() && !continue_sent_ &&
      queue_.empty()) {
    continue_sent_ = true;
    (void)send_or_close("HTTP/1.1 100 Continue\r\n\r\n");
  }
  update_timer();
}

void Session::dispatch(Request& request) {
  auto ex = new_exchange();
  ex->head_only = request.is_head();
  ex->http10 = request.version_minor == 0;
  ++requests_;
  ex->close = !request.keep_alive || draining_ || requests_ >= options_.max_requests_per_connection;
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", connection_.id(), ": ",
                         request.method, " ", request.target, " HTTP/1.", request.version_minor,
                         ex->close ? " (last on this connection)" : " (keep-alive)",
                         ", calling the handler");
  if (ex->close) close_input();
  queue_.push_back(ex);
  shared_->requests.fetch_add(1, std::memory_order_relaxed);
  try {
    // The queue holds the exchange; the Responder takes this reference (one count less to move
    // up and down). Answered at once, the exchange is already the spare when the Responder goes
    // (advance() keeps it), and new_exchange() reuses it once no one else holds it.
    shared_->handler(request, Responder(std::move(ex)));
  } catch (const std::exception& e) {
    reactor::log::error("http",
                        connection_.peer_address().to_string() + ": handler threw: " + e.what());
    // The Responder was destroyed during unwinding and answered 500 if nothing had been sent.
  }
}

void Session::fail(int status, const std::string& reason) {
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", connection_.id(), ": refused with ",
                         status, " (", reason, ")");
  reactor::log::warn("http", connection_.peer_address().to_string() + ": " +
                                 std::to_string(status) + " " + std::string(reason_phrase(status)) +
                                 " (" + reason + ")");
  auto ex = new_exchange();
  ex->close = true;
  ex->answered = true;
  ex->finished = true;
  close_input();
  queue_.push_back(ex);
  answer(*ex, Response::text(status, std::string(reason_phrase(status)) + "\n"));
}

void Session::complete(detail::Exchange& ex) {
  ex.writable_cb = nullptr;  // nothing more to write; also ends a producer's self-reference
  advance();
}

void Session::advance() {
  bool popped = false;
  while (output_state_ != Output::down && !queue_.empty() &&
         queue_.front()->state == detail::Exchange::State::done) {
    std::shared_ptr<detail::Exchange> done = std::move(queue_.front());
    queue_.pop_front();
    popped = true;
    const bool close = done->close;
    // The answer to an Upgrade is out: the connection leaves HTTP, or HTTP goes on.
    if (done->upgrade && !close && finish_upgrade(*done)) return;
    // Kept for the next request, which reuses it once nobody else holds it (a handler's
    // Responder is usually dropped right after its answer, after this runs).
    spare_ = std::move(done);
    if (close) {
      // The answers behind it are never sent: drop their producers' callbacks (a callback may
      // hold its own Responder, and so the exchange) before the exchanges.
      for (const auto& dropped : queue_)
        dropped->writable_cb = nullptr;
      queue_.clear();
      close_after_output();
      return;
    }
    if (!queue_.empty()) next_in_front();
  }
  if (!popped || output_state_ == Output::down) return;
  if (queue_.empty()) {
    idle_since_ = loop_.poll_time();
    release_idle_memory();
    if (draining_ && parser_.phase() == RequestParser::Phase::idle) {
      close_after_output();
      return;
    }
  }
  if (input_state_ == Input::paused && queue_.size() < options_.max_pipeline) resume_input();
  process();  // the requests already read and waiting in the input (no-op inside process())
}

void Session::next_in_front() {
  detail::Exchange& next = *queue_.front();
  if (!next.held.empty()) {
    std::string held = std::move(next.held);
    next.held.clear();
    if (send_or_close(std::move(held)) == tcp::SendStatus::backpressure) want_writable(next);
  } else if (next.writable_wanted && next.writable_cb) {
    // It waited for its turn (send_file) with nothing held: its turn is now.
    loop_.queue_in_loop([weak = weak_from_this(), ex = queue_.front()] {
      auto self = weak.lock();
      if (!self || self->closed() || self->queue_.empty() || self->queue_.front() != ex) return;
      self->on_write_complete();
    });
  }
}

void Session::drain() {
  if (output_state_ == Output::down || draining_) return;
  draining_ = true;
  if (queue_.empty() && parser_.phase() == RequestParser::Phase::idle) {
    close_after_output();
  }
  // Otherwise the request being read or answered is finished first; advance() closes after it.
}

}  // namespace avant::http
