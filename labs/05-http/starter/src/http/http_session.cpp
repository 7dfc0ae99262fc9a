// http_session.cpp — keep-alive and pipelining for one connection: reading requests in order,
// handing each to the handler, and moving the queue of answers along.
//
// LAB 05 STARTER: write every function of this file. http_session.hpp is the contract (the
// Session's members and what each is for); the rest of the Session is given: its output
// (http_session_output.cpp), the head of an answer (http_session_head.cpp) and its timeouts
// (http_session_timeouts.cpp).
#include "http_session.hpp"

#include <stdexcept>
#include <utility>

#include <avant/reactor/log.hpp>

namespace avant::http {

void Session::on_message(net::Buffer& input) {
  (void)input;
  throw std::logic_error(
      "TODO(05): Session::on_message: remember the input and when it came (last_input_); once the "
      "input is closed drop everything that arrives (a lingering close); else process()");
}

void Session::process() {
  throw std::logic_error(
      "TODO(05): Session::process: not re-entered (processing_, which also batches the output of "
      "this read); while the output is open, the input reading and bytes wait: pause_input() at "
      "max_pipeline answers outstanding, feed the parser, consume, "
      "need_more -> stop, error -> fail(), complete -> (upgrade: end after CONNECT, else "
      "hold_for_upgrade()) "
      "dispatch(); then flush the batch, send 100 Continue when due, update_timer()");
}

void Session::dispatch(Request& request) {
  (void)request;
  throw std::logic_error(
      "TODO(05): Session::dispatch: a new exchange (HEAD? HTTP/1.0? close after it: not "
      "keep-alive, draining, or max_requests_per_connection reached), queue it, count it, call "
      "the handler with a Responder; a handler that throws is logged (its Responder answers 500)");
}

void Session::fail(int status, const std::string& reason) {
  (void)status;
  (void)reason;
  throw std::logic_error(
      "TODO(05): Session::fail: log one line; queue an exchange that closes, already answered, "
      "and answer it with the status; read nothing more (close_input())");
}

void Session::complete(detail::Exchange& ex) {
  (void)ex;
  throw std::logic_error(
      "TODO(05): Session::complete: the exchange has all its output: drop its writable callback, "
      "advance()");
}

void Session::advance() {
  throw std::logic_error(
      "TODO(05): Session::advance: pop every finished exchange from the front (an upgrade's answer "
      "that does not close: finish_upgrade() true -> return; keep it as spare_ (new_exchange "
      "reuses it once nobody else holds it); one that closes ends the pipeline: "
      "close_after_output()); send the new front's "
      "held bytes; then: idle since now (release_idle_memory()), draining and idle -> close; "
      "resume_input() below max_pipeline; process() what already waits in the input");
}

void Session::drain() {
  throw std::logic_error(
      "TODO(05): Session::drain: once; nothing in flight and nothing half-read -> "
      "close_after_output(); otherwise the answers in flight finish first");
}

}  // namespace avant::http
