// request_parser.cpp — the glue between llhttp's callbacks and a Request (lab 05 rewrites this).
#include <utility>

#include <avant/http/request_parser.hpp>

namespace avant::http {

namespace {

RequestParser* self(llhttp_t* p) noexcept {
  return static_cast<RequestParser*>(p->data);
}

// Adds a piece of a name or value: the first stays a view, a later one makes it owned.
void collect(std::string& owned, std::string_view& view, const char* at, std::size_t n) {
  if (owned.empty() && view.empty()) {
    view = {at, n};
    return;
  }
  owned.append(view);
  view = {};
  owned.append(at, n);
}

// The status for an llhttp error that no callback of ours raised.
// (HPE_PAUSED_H2_UPGRADE, "PRI * HTTP/2.0": the HTTP/2 preface, is a 400 like the rest.)
int status_for(llhttp_errno_t err) noexcept {
  return err == HPE_INVALID_VERSION ? 505 : 400;
}

}  // namespace

RequestParser::Result RequestParser::feed(std::string_view bytes) {
  if (failed_) return {0, Status::error};
  if (upgrade_) return {0, Status::complete};  // the caller has not decided about the upgrade
  if (const std::size_t taken = take_common_head(bytes); taken != 0)
    return {taken, Status::complete};
  complete_ = false;
  feed_begin_ = bytes.data();
  const llhttp_errno_t err = llhttp_execute(&parser_, bytes.data(), bytes.size());
  own_pieces();  // a field cut by the end of the bytes: they may move before the next feed()
  const std::size_t consumed =
      err == HPE_OK ? bytes.size()
                    : static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
  note_consumed(bytes.substr(0, consumed));  // for starts_line() and on_method() next time
  if (err == HPE_OK) return {consumed, Status::need_more};
  if (err == HPE_PAUSED && complete_) {
    llhttp_resume(&parser_);
    return {consumed, Status::complete};
  }
  if (err == HPE_PAUSED_UPGRADE && complete_) {
    upgrade_ = true;
    return {consumed, Status::complete};
  }
  failed_ = true;
  if (error_.status == 0) {
    error_.status = status_for(err);
    error_.reason = llhttp_errno_name(err);
    const char* reason = llhttp_get_error_reason(&parser_);
    if (reason != nullptr && *reason != '\0') error_.reason += std::string(": ") + reason;
  }
  return {consumed, Status::error};
}

void RequestParser::own_pieces() {
  if (!field_view_.empty()) field_.append(field_view_);
  if (!value_view_.empty()) value_.append(value_view_);
  field_view_ = value_view_ = {};
}

void RequestParser::continue_after_upgrade() noexcept {
  if (!upgrade_) return;
  upgrade_ = false;
  llhttp_resume_after_upgrade(&parser_);
}

int RequestParser::on_message_begin(llhttp_t* p) {
  RequestParser& s = *self(p);
  s.request_.clear();
  s.phase_ = Phase::head;
  s.in_trailers_ = false;
  s.header_bytes_ = 0;
  s.field_.clear();
  s.value_.clear();
  s.field_view_ = s.value_view_ = {};
  s.hosts_ = 0;
  s.has_te_ = false;
  s.has_expect_ = false;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, std::size_t n) {
  RequestParser& s = *self(p);
  if (s.target_fits(n)) s.request_.target.append(at, n);  // else a 414 where the target ends
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  RequestParser& s = *self(p);
  if (s.count_header_bytes(n)) collect(s.field_, s.field_view_, at, n);  // else a 431 at its end
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  RequestParser& s = *self(p);
  // llhttp 8 accepts an obs-fold (a header line continued on the next line, starting with a
  // space) and reports the continuation as one more piece of the value. RFC 9112 §5.2 lets a
  // server reject it, and accepting it is how two parsers in a chain come to disagree about
  // which fields a request has. A piece that starts a line is such a continuation. (Checked
  // before the count: only a continuation's first piece starts a line, however it was split.)
  if (n > 0 && s.starts_line(at))
    return s.refuse(400, "obs-fold (a header line continued on the next line)");
  if (s.count_header_bytes(n)) collect(s.value_, s.value_view_, at, n);  // else a 431 at its end
  return 0;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  RequestParser& s = *self(p);
  const std::string_view name = s.field_view_.empty() ? std::string_view(s.field_) : s.field_view_;
  const std::string_view value = s.value_view_.empty() ? std::string_view(s.value_) : s.value_view_;
  if (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
    return s.refuse(400, "whitespace between a field name and its colon");
  if (!s.in_trailers_) {
    if (s.request_.headers.size() >= s.limits_.max_headers)
      return s.refuse(431, "more than " + std::to_string(s.limits_.max_headers) + " header fields");
    s.request_.headers.add(name, trim_ows(value));
    // What check_head() needs, noted as the fields go by (no second pass for most requests).
    switch (name.size()) {
      case 4:
        s.hosts_ += iequals(name, "Host") ? 1U : 0U;
        break;
      case 6:
        s.has_expect_ = s.has_expect_ || iequals(name, "Expect");
        break;
      case 17:
        s.has_te_ = s.has_te_ || iequals(name, "Transfer-Encoding");
        break;
      default:
        break;
    }
  }
  s.field_.clear();
  s.value_.clear();
  s.field_view_ = s.value_view_ = {};
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  RequestParser& s = *self(p);
  s.request_.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
  if (const int rc = s.check_head(); rc != 0) return rc;
  s.phase_ = Phase::body;
  s.in_trailers_ = true;  // any field reported from now on is a chunked body's trailer
  return 0;
}

int RequestParser::on_body(llhttp_t* p, const char* at, std::size_t n) {
  RequestParser& s = *self(p);
  if (s.request_.body.size() + n > s.limits_.max_body)
    return s.refuse(413, "body over " + std::to_string(s.limits_.max_body) + " bytes");
  s.request_.body.append(at, n);
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  RequestParser& s = *self(p);
  s.request_.keep_alive = llhttp_should_keep_alive(p) != 0;
  s.phase_ = Phase::idle;
  s.complete_ = true;
  // An upgrade (or CONNECT) makes llhttp stop by itself, with HPE_PAUSED_UPGRADE, right after
  // this request; pausing here as well would only need a second resume.
  return llhttp_get_upgrade(p) != 0 ? 0 : HPE_PAUSED;
}

}  // namespace avant::http
