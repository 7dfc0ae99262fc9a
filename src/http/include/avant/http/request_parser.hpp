// request_parser.hpp — HTTP/1.x request parser: bytes in, complete requests out (sans-IO).
//
// The state machine is llhttp (Node.js's parser, built from Debian's node-llhttp sources) in its
// strict mode; this class is the glue around it: it collects the pieces llhttp reports into a
// Request, enforces the limits, and refuses what RFC 9112 says a server must not guess about.
//
//   feed("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HT")
//     -> {consumed = 27, complete}      request() holds "GET /"
//   feed("GET /b HT")                   (the caller passes the bytes it has not consumed)
//     -> {consumed = 9, need_more}      phase() == head: the header timeout applies
//   feed("TP/1.1\r\nHost: a\r\n\r\n")
//     -> {consumed = 19, complete}
//
// It stops after each complete request, so a pipeline is answered one request at a time and the
// caller decides when to go on. The result is the same however the bytes are split.
//
// Refused, with the status to answer and a reason to log (the parser then stays failed):
//   400  malformed syntax, bare CR, obs-fold, spaces before ':', a bad or duplicate
//        Content-Length, Content-Length with Transfer-Encoding, a bad chunk size, Transfer-Encoding
//        whose last coding is not chunked or in an HTTP/1.0 request, a missing or repeated Host in
//        HTTP/1.1, the HTTP/2 preface
//   413  a body over max_body (declared or decoded)
//   414  a request-target over max_target
//   417  an Expect other than 100-continue
//   431  header bytes over max_header_bytes or more than max_headers fields
//   501  a transfer coding other than chunked (gzip, ...)
//   505  an HTTP version other than 1.0 and 1.1
//
// Threads: one thread at a time (a connection's loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <llhttp.h>

#include <avant/http/request.hpp>

namespace avant::http {

struct ParserLimits {
  std::size_t max_target = 8u << 10;         // request-target bytes (414)
  std::size_t max_header_bytes = 16u << 10;  // field names + values, trailers included (431)
  std::size_t max_headers = 100;             // header fields (431)
  std::size_t max_body = 8u << 20;           // body bytes after de-chunking (413)
};

struct ParseError {
  int status = 0;      // the response to send: 400, 413, 414, 417, 431, 501 or 505
  std::string reason;  // what was wrong, for the log
};

class RequestParser {
 public:
  enum class Status : std::uint8_t { need_more, complete, error };
  // Where the parser is: between requests, inside a request's head, or inside its body.
  enum class Phase : std::uint8_t { idle, head, body };
  struct Result {
    std::size_t consumed = 0;  // bytes of the input used; the rest belongs to the next call
    Status status = Status::need_more;
  };

  explicit RequestParser(const ParserLimits& limits = {});
  ~RequestParser() = default;
  // llhttp keeps a pointer back to this object: it stays where it was made.
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;
  RequestParser(RequestParser&&) = delete;
  RequestParser& operator=(RequestParser&&) = delete;

  // Parses until one request is complete, the bytes run out, or an error. After `complete`,
  // request() holds the request until the next feed(); after `error`, error() says why and every
  // later feed() returns the error again, consuming nothing.
  Result feed(std::string_view bytes);

  [[nodiscard]] Request& request() noexcept { return request_; }
  [[nodiscard]] const ParseError& error() const noexcept { return error_; }
  [[nodiscard]] Phase phase() const noexcept { return phase_; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  // The head of the current request is complete, it asked `Expect: 100-continue`, and its body
  // has not fully arrived: the client waits for "100 Continue" before sending it.
  [[nodiscard]] bool awaiting_continue() const noexcept {
    return phase_ == Phase::body && request_.expect_continue;
  }
  // The last complete request asked to leave HTTP (an Upgrade the caller may accept, or CONNECT):
  // the bytes after it are not parsed as HTTP unless the caller calls continue_after_upgrade().
  [[nodiscard]] bool upgrade() const noexcept { return upgrade_; }
  // The caller ignores the upgrade (RFC 9110 §7.8 allows it) and parses HTTP on.
  void continue_after_upgrade() noexcept;
  [[nodiscard]] const ParserLimits& limits() const noexcept { return limits_; }
  // The fast path for the common head (on by default; see take_common_head): off, llhttp parses
  // everything. Tests and the fuzzer compare the two ways.
  void set_fast_path(bool on) noexcept { fast_path_ = on; }
  // How many requests the fast path took.
  [[nodiscard]] std::uint64_t fast_heads() const noexcept { return fast_heads_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t n);
  static int on_message_complete(llhttp_t* p);
  // Given (request_parser_checks.cpp): refuses a bare CR among the line ends llhttp skips before
  // a request line.
  static int on_method(llhttp_t* p, const char* at, std::size_t n);
  // Given: where a target or a field name or value ends, the limit it passed is refused
  // (over_limit_); on_value_end then calls on_header_value_complete.
  static int on_span_end(llhttp_t* p);
  static int on_value_end(llhttp_t* p);
  static const llhttp_settings_t& settings() noexcept;

  // Given (request_parser_fast.cpp): the common head (GET or HEAD of an origin-form target,
  // HTTP/1.1, plain fields with one Host, no body, nothing that llhttp or check_head() gives a
  // meaning to), all of it in `bytes`, between two requests: parsed in one pass into request_
  // without llhttp. Returns the bytes it took, the request then complete; or 0, and llhttp
  // parses the bytes as if it had not looked. It takes only what llhttp would accept and read the
  // same way. feed() calls it first.
  std::size_t take_common_head(std::string_view bytes);

  // Sets error_ and returns -1, which makes llhttp stop with a callback error.
  int refuse(int status, std::string reason);
  [[nodiscard]] int check_head();
  // A limit is refused where the target or the field that passes it ends, not in the middle:
  // llhttp reports a piece of it early only when a feed() ends inside it, and a syntax error
  // later in the same target or field (400) must win however the bytes were split. Both return
  // false past the limit, and note the status for on_span_end() / on_value_end().
  [[nodiscard]] bool target_fits(std::size_t n) noexcept;         // 414
  [[nodiscard]] bool count_header_bytes(std::size_t n) noexcept;  // 431
  // Whether `at` (inside the current feed) is the first non-blank byte of a line.
  [[nodiscard]] bool starts_line(const char* at) const noexcept;
  // What the next feed() needs to know about the bytes this one consumed (last_significant_,
  // cr_pending_, bare_cr_). Given; feed() calls it with bytes.substr(0, consumed).
  void note_consumed(std::string_view consumed) noexcept;

  ParserLimits limits_;
  llhttp_t parser_{};
  Request request_;
  ParseError error_;
  Phase phase_ = Phase::idle;
  bool failed_ = false;
  bool complete_ = false;  // on_message_complete ran in this feed()
  bool upgrade_ = false;
  bool in_trailers_ = false;
  std::size_t header_bytes_ = 0;
  int over_limit_ = 0;       // 414 or 431 once a limit was passed; refused where its piece ends
  unsigned hosts_ = 0;       // Host fields seen in this request
  bool has_te_ = false;      // a Transfer-Encoding field was seen
  bool has_expect_ = false;  // an Expect field was seen
  const char* feed_begin_ = nullptr;  // the bytes of the current feed()
  char last_significant_ = '\n';      // the last non-blank byte fed before them
  bool cr_pending_ = false;           // the bytes fed so far end in a CR between two requests
  bool bare_cr_ = false;              // a CR not followed by LF was skipped since the last request
  bool fast_path_ = true;
  std::uint64_t fast_heads_ = 0;
  std::string field_;  // the header field being collected (llhttp may report it in pieces)
  std::string value_;
  // The reference's shortcut (a lab may use field_ and value_ alone): a name or value that came
  // in one piece, the usual case, stays a view of the fed bytes and is copied once, into the
  // request's Headers. A second piece, or the end of feed() (the bytes may move before the
  // next), copies it into field_ / value_ first (own_pieces()).
  std::string_view field_view_;
  std::string_view value_view_;
  void own_pieces();
};

}  // namespace avant::http
