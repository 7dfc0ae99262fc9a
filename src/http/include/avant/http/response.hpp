// response.hpp — what a handler answers, and how it goes on the wire.
//
//   HTTP/1.1 200 OK\r\n                       always HTTP/1.1 (RFC 9110 §2.5), for 1.0 clients too
//   Server: avant\r\n                         added unless the handler set its own
//   Date: Wed, 25 Nov 2026 12:00:00 GMT\r\n   added unless the handler set its own
//   Content-Type: text/plain\r\n              the handler's headers, in its order
//   Content-Length: 5\r\n                     from the body (or the handler's, for HEAD/streams)
//   Connection: close\r\n                     when the server will close after this response
//   \r\n
//   hello                                     left out for HEAD, 1xx, 204 and 304
//
// A streamed response (Responder::start) without a Content-Length is sent chunked to an HTTP/1.1
// client and delimited by closing the connection to an HTTP/1.0 one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <avant/http/headers.hpp>

namespace avant::http {

struct Response {
  Response() = default;

  int status = 200;
  Headers headers;
  std::string body;
  // Parts a cache shares between answers (StaticFiles' open-file cache), written as they are and
  // never changed once shared: header lines ("Name: value\r\n" each, no framing field) after
  // `headers`, and a body sent in place of `body`.
  std::shared_ptr<const std::string> shared_fields;
  std::shared_ptr<const std::string> shared_body;

  // What goes out as the body: `shared_body` when set, else `body`.
  [[nodiscard]] std::string_view body_view() const noexcept {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }

  // A complete response with a body and its Content-Type. A common type (text/plain with or
  // without charset=utf-8, text/html; charset=utf-8, application/json, application/octet-stream)
  // is not added to `headers`: it goes out as a prebuilt line (content_type_line()), so the
  // answer builds no field. A Content-Type the handler adds to `headers` replaces it.
  [[nodiscard]] static Response text(int status, std::string body,
                                     std::string_view content_type = "text/plain; charset=utf-8");

  // The prebuilt "Content-Type: ...\r\n" line text() chose, in static storage; empty if none.
  // Written before `headers` unless they have a Content-Type.
  [[nodiscard]] std::string_view content_type_line() const noexcept { return type_line_; }

 private:
  // text()'s: the body moved in once, not assigned over an empty one.
  Response(int status_code, std::string&& text_body, std::string_view type_line) noexcept
      : status(status_code), body(std::move(text_body)), type_line_(type_line) {}

  std::string_view type_line_;
};

// "OK", "Not Found", ...; "Unknown" for a code without a registered phrase.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;
// "HTTP/1.1 200 OK\r\n" for the common codes (prebuilt), empty for the others.
[[nodiscard]] std::string_view status_line(int status) noexcept;
// "Date: Wed, 25 Nov 2026 12:00:00 GMT\r\n", formatted once a second per thread like
// http_date_now(); valid until the next call on the same thread.
[[nodiscard]] std::string_view date_line_now();
// Whether a response with this status can have a body (not 1xx, 204, 304).
[[nodiscard]] constexpr bool status_allows_body(int status) noexcept {
  return status >= 200 && status != 204 && status != 304;
}
// The IMF-fixdate of now, "Wed, 25 Nov 2026 12:00:00 GMT" (RFC 9110 §5.6.7). Formatted once a
// second per thread; the view is valid until the next call on the same thread.
[[nodiscard]] std::string_view http_date_now();
// Formats any time as an IMF-fixdate, and parses one back (nullopt-like -1 if not a valid date).
[[nodiscard]] std::string http_date(long long unix_seconds);
[[nodiscard]] long long parse_http_date(std::string_view text) noexcept;

}  // namespace avant::http
