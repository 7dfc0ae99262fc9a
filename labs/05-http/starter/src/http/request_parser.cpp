// request_parser.cpp — the glue between llhttp's callbacks and a Request.
//
// LAB 05 STARTER: write feed(), continue_after_upgrade() and the llhttp callbacks. Given, in
// src/http/request_parser_checks.cpp: the settings table, the constructor, refuse(),
// target_fits(), count_header_bytes(), starts_line(), note_consumed(), on_method(), on_span_end(),
// on_value_end() and check_head() (the RFC 9112 refusals); in request_parser_fast.cpp,
// take_common_head() (the common head without llhttp), which feed() tries first. The header request_parser.hpp is the contract. A callback must never
// throw (it runs inside llhttp's C code): it refuses with a status and a reason instead.
#include <stdexcept>
#include <utility>

#include <avant/http/request_parser.hpp>

namespace avant::http {

namespace {

RequestParser* self(llhttp_t* p) noexcept {
  return static_cast<RequestParser*>(p->data);
}

// The status for an llhttp error that no callback of ours raised.
// (HPE_PAUSED_H2_UPGRADE, "PRI * HTTP/2.0": the HTTP/2 preface, is a 400 like the rest.)
[[maybe_unused]] int status_for(llhttp_errno_t err) noexcept {
  return err == HPE_INVALID_VERSION ? 505 : 400;
}

}  // namespace

RequestParser::Result RequestParser::feed(std::string_view bytes) {
  (void)bytes;
  throw std::logic_error(
      "TODO(05): RequestParser::feed: failed_ -> {0, error}; an undecided upgrade_ -> {0, "
      "complete}; take_common_head(bytes) (given): n > 0 -> {n, complete}; note feed_begin_; "
      "llhttp_execute; consumed = all (HPE_OK) or up to "
      "llhttp_get_error_pos; note_consumed() (given) with the consumed bytes; HPE_PAUSED after a "
      "complete request -> "
      "llhttp_resume, complete; HPE_PAUSED_UPGRADE -> upgrade_, complete; anything else -> failed_ "
      "and, unless a callback refused already, error_ from status_for() and llhttp's reason");
}

void RequestParser::continue_after_upgrade() noexcept {
  // TODO(05): only after an upgrade: clear upgrade_ and llhttp_resume_after_upgrade.
}

int RequestParser::on_message_begin(llhttp_t* p) {
  return self(p)->refuse(500,
                         "TODO(05): on_message_begin: clear the request (keep its storage), "
                         "phase head, reset the per-request counters and flags");
}

int RequestParser::on_url(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500,
                         "TODO(05): on_url: append the piece to the target if target_fits() "
                         "(given: past max_target it notes the 414 for the target's end)");
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500,
                         "TODO(05): on_header_field: append to field_ if count_header_bytes()");
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500,
                         "TODO(05): on_header_value: a non-empty piece that starts_line() is an "
                         "obs-fold (400); append to value_ if count_header_bytes()");
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  return self(p)->refuse(500,
                         "TODO(05): on_header_value_complete: a field name ending in a blank "
                         "-> 400; outside trailers: max_headers (431), add the field with its "
                         "value trimmed, note Host / Expect / Transfer-Encoding; clear both");
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  return self(p)->refuse(500,
                         "TODO(05): on_headers_complete: the method's name from llhttp, "
                         "check_head() (given), then phase body and trailers from now on");
}

int RequestParser::on_body(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500, "TODO(05): on_body: 413 over limits_.max_body, else append");
}

int RequestParser::on_message_complete(llhttp_t* p) {
  return self(p)->refuse(500,
                         "TODO(05): on_message_complete: keep_alive from llhttp, phase idle, "
                         "complete_; pause (HPE_PAUSED) unless llhttp will stop for an "
                         "upgrade by itself");
}

}  // namespace avant::http
