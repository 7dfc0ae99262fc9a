// request.hpp — one parsed HTTP/1.x request.
//
//   GET /files/a%20b.txt?x=1 HTTP/1.1      method, target (path + "?" + query), version
//   Host: example.org                      headers (names compared case-insensitively)
//   Content-Length: 5                      the framing fields stay visible; the body is decoded
//                                          (chunked bodies arrive de-chunked)
//   hello                                  body
//
// The target stays as it arrived (percent-encoded); url.hpp decodes it. A handler receives the
// request by reference for the length of its call: on a keep-alive connection the same storage
// holds the next request, so a handler that answers later moves out what it needs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <avant/http/headers.hpp>

namespace avant::http {

struct Request {
  std::string method;  // "GET", "POST", ... as llhttp names them
  std::string target;  // the request-target as sent: origin-form "/p?q", or "*", or absolute-form
  int version_major = 1;
  int version_minor = 1;
  Headers headers;
  std::string body;
  // The connection may carry another request after this one (HTTP/1.1 default, or HTTP/1.0 with
  // `Connection: keep-alive`; never after `Connection: close`).
  bool keep_alive = true;
  // The client asked for `Expect: 100-continue`.
  bool expect_continue = false;
  // The client asked to leave HTTP (`Connection: upgrade` with `Upgrade: ...`, e.g. WebSocket):
  // the handler may take the connection with Responder::upgrade(), or answer as usual and HTTP
  // goes on.
  bool upgrade = false;
  // Parameters a Router matched in the path (`/users/:id` gives {"id", "42"}), decoded.
  std::vector<std::pair<std::string, std::string>> params;

  // The target's path, up to '?' or '#', still percent-encoded; for an absolute-form target
  // ("http://host/a", as sent to proxies) the part after the authority.
  [[nodiscard]] std::string_view path() const noexcept;
  // The target after '?' up to '#', still encoded; empty without one.
  [[nodiscard]] std::string_view query() const noexcept;
  // A path parameter by name, or empty.
  [[nodiscard]] std::string_view param(std::string_view name) const noexcept;
  [[nodiscard]] bool is_head() const noexcept {
    return method.size() == 4 && method[0] == 'H' && method[1] == 'E' && method[2] == 'A' &&
           method[3] == 'D';  // (`== "HEAD"` is a call to compare() per request)
  }
  // Forgets everything but keeps the storage (the parser reuses one Request per connection).
  void clear() noexcept;
};

}  // namespace avant::http
