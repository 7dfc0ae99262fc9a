// http_session_timeouts.cpp — the given timeouts of the Session (lab 05 does not rewrite this
// file): what the connection waits for (the first request, a head, a body, an answer, the next
// request, the peer's close after ours), until when, and what a missed deadline does. One lazy
// timer per connection: a deadline that moved later is found when the timer fires.
#include <algorithm>
#include <array>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>

#include "http_session.hpp"

namespace avant::http {

void Session::compute_wait() {
  const reactor::TimePoint now = loop_.poll_time();
  const Wait before = wait_;
  // A failed parser (a 408 or 400 on its way) or a pipeline that reads no more waits only for
  // its answers: the head and body timeouts are over.
  const bool reading = input_state_ != Input::closed && !parser_.failed();
  if (output_state_ == Output::shut) {
    if (before != Wait::linger) deadline_ = now + detail::kLinger;
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
  if (closed()) return;
  compute_wait();
  reactor::TimePoint due = deadline_;
  if (wait_ == Wait::idle) {
    // Idle: after its first answer the connection rests at once (most connections of a site go
    // quiet after one request); one that came back for more rests once it has been idle for
    // rest_after, so a busy keep-alive client's next request finds this Session still here.
    const reactor::TimePoint rest_at =
        idle_since_ + (requests_ <= 1 ? std::chrono::milliseconds(0) : options_.rest_after);
    if (rest_at <= loop_.poll_time()) {
      if (can_rest()) {
        rest();
        return;
      }
    } else if (rest_at < due && (!timer_armed_ || rest_at < timer_at_) && can_rest()) {
      // (can_rest(), the longer test, only where the rest would move the timer earlier: on a
      // busy connection the timer set for an earlier request's rest comes first.)
      due = rest_at;
    }
  }
  // Lazy: a timer already set for a later moment finds the new deadline when it fires and
  // re-arms; only a deadline that moved earlier needs a new timer. (So a busy connection whose
  // deadlines keep moving later arms about one timer per rest_after, not one per request.)
  if (!timer_armed_ || due < timer_at_) arm_timer(due);
}

void Session::arm_timer(reactor::TimePoint due) {
  if (timer_armed_) loop_.cancel(timer_);
  timer_armed_ = true;
  timer_at_ = due;
  timer_ = loop_.run_at(due, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->timer_fired();
  });
}

void Session::timer_fired() {
  timer_armed_ = false;
  if (closed()) return;
  compute_wait();  // what is awaited now, and until when (it may have moved on)
  if (reactor::Clock::now() < deadline_) {
    update_timer();  // not due yet: rests if it is time to, or waits for the new deadline
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
