// request_parser_checks.cpp — the given half of request_parser.hpp (lab 05 does not rewrite this
// file): the parser's set-up (llhttp's settings table, the constructor), how a refusal is recorded
// (refuse), the header-size count, and the checks of a request head that llhttp does not make
// (check_head, starts_line: the RFC 9112 refusals). The glue between llhttp's callbacks and a
// Request is in request_parser.cpp.
#include <string>
#include <string_view>
#include <utility>

#include <avant/http/request_parser.hpp>

namespace avant::http {

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
    x.on_method = &RequestParser::on_method;
    x.on_url_complete = &RequestParser::on_span_end;
    x.on_header_field_complete = &RequestParser::on_span_end;
    x.on_header_value_complete = &RequestParser::on_value_end;
    return x;
  }();
  return s;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

int RequestParser::refuse(int status, std::string reason) {
  error_.status = status;
  error_.reason = std::move(reason);
  return -1;
}

bool RequestParser::target_fits(std::size_t n) noexcept {
  if (over_limit_ == 0 && request_.target.size() + n <= limits_.max_target) return true;
  if (over_limit_ == 0) over_limit_ = 414;
  return false;
}

bool RequestParser::count_header_bytes(std::size_t n) noexcept {
  header_bytes_ += n;
  if (over_limit_ == 0 && header_bytes_ <= limits_.max_header_bytes) return true;
  if (over_limit_ == 0) over_limit_ = 431;
  return false;
}

int RequestParser::on_span_end(llhttp_t* p) {
  RequestParser& s = *static_cast<RequestParser*>(p->data);
  if (s.over_limit_ == 414)
    return s.refuse(414, "request-target over " + std::to_string(s.limits_.max_target) + " bytes");
  if (s.over_limit_ == 431) {
    return s.refuse(431,
                    "header fields over " + std::to_string(s.limits_.max_header_bytes) + " bytes");
  }
  return 0;
}

int RequestParser::on_value_end(llhttp_t* p) {
  const int refused = on_span_end(p);
  return refused != 0 ? refused : on_header_value_complete(p);
}

bool RequestParser::starts_line(const char* at) const noexcept {
  // Walk back over blanks to the byte before them, into the previous feed() if need be.
  const char* q = at;
  while (q > feed_begin_ && (q[-1] == ' ' || q[-1] == '\t'))
    --q;
  const char before = q > feed_begin_ ? q[-1] : last_significant_;
  return before == '\n';
}

void RequestParser::note_consumed(std::string_view consumed) noexcept {
  for (std::size_t i = consumed.size(); i > 0; --i) {
    const char c = consumed[i - 1];
    if (c != ' ' && c != '\t') {
      last_significant_ = c;
      break;
    }
  }
  if (consumed.empty()) return;
  if (phase_ != Phase::idle || complete_) {
    cr_pending_ = false;
    return;
  }
  // Between two requests (idle, and not stopped right after one completed): every byte consumed
  // was a line end that llhttp skipped. on_method() refuses the next request if one was a bare CR.
  for (const char c : consumed) {
    if (cr_pending_ && c != '\n') bare_cr_ = true;
    cr_pending_ = c == '\r';
  }
}

int RequestParser::on_method(llhttp_t* p, const char* at, std::size_t /*n*/) {
  // llhttp skips CR and LF before a request line (RFC 9112 §2.2 asks a server to ignore empty
  // lines there), and a bare CR among them too, which §2.2 forbids: every CR skipped must be
  // followed by an LF. The skipped bytes are those before the method in this feed() and, when
  // they reach its start, those of earlier calls (noted by note_consumed()).
  RequestParser& s = *static_cast<RequestParser*>(p->data);
  const char* q = at;
  while (q > s.feed_begin_ && (q[-1] == '\r' || q[-1] == '\n'))
    --q;
  bool bare = s.bare_cr_;
  bool cr = q == s.feed_begin_ && s.cr_pending_;
  for (; q <= at; ++q) {  // `at` itself: the method's first byte, which is no LF
    if (cr && *q != '\n') bare = true;
    cr = *q == '\r';
  }
  s.bare_cr_ = s.cr_pending_ = false;
  return bare ? s.refuse(400, "a bare CR before the request line") : 0;
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

}  // namespace avant::http
