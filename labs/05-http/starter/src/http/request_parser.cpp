// request_parser.cpp — the glue between llhttp's callbacks and a Request.
//
// LAB 05 STARTER: write feed(), continue_after_upgrade() and the llhttp callbacks. Given: the
// settings table, the constructor, refuse(), count_header_bytes(), starts_line() and check_head()
// (the RFC 9112 refusals). The header request_parser.hpp is the contract. A callback must never
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

const llhttp_settings_t& RequestParser::settings() noexcept {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x{};
    llhttp_settings_init(&x);
    x.on_message_begin = &RequestParser::on_message_begin;
    x.on_url = &RequestParser::on_url;
    x.on_header_field = &RequestParser::on_header_field;
    x.on_header_value = &RequestParser::on_header_value;
    x.on_header_value_complete = &RequestParser::on_header_value_complete;
    x.on_headers_complete = &RequestParser::on_headers_complete;
    x.on_body = &RequestParser::on_body;
    x.on_message_complete = &RequestParser::on_message_complete;
    return x;
  }();
  return s;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

RequestParser::Result RequestParser::feed(std::string_view bytes) {
  (void)bytes;
  throw std::logic_error(
      "TODO(05): RequestParser::feed: failed_ -> {0, error}; an undecided upgrade_ -> {0, "
      "complete}; note feed_begin_; llhttp_execute; consumed = all (HPE_OK) or up to "
      "llhttp_get_error_pos; remember last_significant_; HPE_PAUSED after a complete request -> "
      "llhttp_resume, complete; HPE_PAUSED_UPGRADE -> upgrade_, complete; anything else -> failed_ "
      "and, unless a callback refused already, error_ from status_for() and llhttp's reason");
}

void RequestParser::continue_after_upgrade() noexcept {
  // TODO(05): only after an upgrade: clear upgrade_ and llhttp_resume_after_upgrade.
}

int RequestParser::refuse(int status, std::string reason) {
  error_.status = status;
  error_.reason = std::move(reason);
  return -1;
}

bool RequestParser::count_header_bytes(std::size_t n) {
  header_bytes_ += n;
  return header_bytes_ <= limits_.max_header_bytes;
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
                         "TODO(05): on_url: append the piece to the target; 414 over "
                         "limits_.max_target");
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500, "TODO(05): on_header_field: count the bytes (431), append to field_");
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  (void)at;
  (void)n;
  return self(p)->refuse(500,
                         "TODO(05): on_header_value: count the bytes (431); a non-empty "
                         "piece that starts_line() is an obs-fold (400); append to value_");
}

bool RequestParser::starts_line(const char* at) const noexcept {
  // Walk back over blanks to the byte before them, into the previous feed() if need be.
  const char* q = at;
  while (q > feed_begin_ && (q[-1] == ' ' || q[-1] == '\t'))
    --q;
  const char before = q > feed_begin_ ? q[-1] : last_significant_;
  return before == '\n';
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  return self(p)->refuse(500,
                         "TODO(05): on_header_value_complete: a field name ending in a blank "
                         "-> 400; outside trailers: max_headers (431), add the field with its "
                         "value trimmed, note Host / Expect / Transfer-Encoding; clear both");
}

int RequestParser::check_head() {
  Request& r = request_;
  r.version_major = llhttp_get_http_major(&parser_);
  r.version_minor = llhttp_get_http_minor(&parser_);
  if (r.method == "PRI") return refuse(400, "HTTP/2 connection preface on an HTTP/1.1 port");
  if (r.version_major != 1) {
    return refuse(505, "HTTP/" + std::to_string(r.version_major) + "." +
                           std::to_string(r.version_minor) + " is not supported");
  }
  if (hosts_ > 1) return refuse(400, "more than one Host field");
  if (hosts_ == 0 && r.version_minor >= 1) return refuse(400, "HTTP/1.1 request without Host");

  // Transfer-Encoding: only `chunked`, and only as the last coding (RFC 9112 §6.1, §6.3).
  bool has_te = false;
  bool chunked_last = false;
  bool other_coding = false;
  for (const auto& [name, value] : r.headers) {
    if (!has_te_) break;
    if (!iequals(name, "Transfer-Encoding")) continue;
    has_te = true;
    std::string_view list = value;
    while (true) {
      const std::size_t comma = list.find(',');
      const std::string_view coding = trim_ows(list.substr(0, comma));
      if (!coding.empty()) {
        chunked_last = iequals(coding, "chunked");
        if (!chunked_last) other_coding = true;
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (has_te) {
    if (r.version_minor == 0) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!chunked_last) return refuse(400, "Transfer-Encoding does not end with chunked");
    if (other_coding) return refuse(501, "a transfer coding other than chunked");
  }
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && parser_.content_length > limits_.max_body) {
    return refuse(413, "Content-Length " + std::to_string(parser_.content_length) + " over " +
                           std::to_string(limits_.max_body) + " bytes");
  }
  if (const auto expect = has_expect_ ? r.headers.get("Expect") : std::nullopt) {
    if (!iequals(*expect, "100-continue")) return refuse(417, "Expect: " + std::string(*expect));
    r.expect_continue = r.version_minor >= 1;
  }
  return 0;
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
