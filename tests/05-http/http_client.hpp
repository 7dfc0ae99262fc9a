// http_client.hpp — a strict little HTTP/1.1 client for chapter 05's tests: writes raw bytes,
// reads responses (Content-Length, chunked, or to the close), and checks the framing on the way.
// It shares no code with the server's parser, so it can not share its mistakes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <poll.h>

#include <avant/http/headers.hpp>
#include <avant/testing/harness.hpp>

namespace avant::http::testing {

struct ParsedResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string head;  // the raw status line and fields

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (iequals(n, name)) return v;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::size_t count(std::string_view name) const {
    std::size_t k = 0;
    for (const auto& [n, v] : headers)
      k += iequals(n, name) ? 1U : 0U;
    return k;
  }
};

class HttpClient {
 public:
  explicit HttpClient(const net::SocketAddress& server) : client_(server) {}

  bool send(std::string_view bytes) { return client_.send_all(bytes); }
  harness::Client& raw() { return client_; }

  // Reads one response. `head_request`: the request was HEAD, so no body follows. nullopt when
  // the connection closed first or the deadline passed; `error` then says which.
  std::optional<ParsedResponse> read(bool head_request = false) {
    ParsedResponse r;
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return fail("connection ended before a response head");
    }
    r.head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::string_view head = r.head;
    const std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 9) != "HTTP/1.1 " || status_line.size() < 12)
      return fail("bad status line: " + std::string(status_line));
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    r.reason = std::string(status_line.substr(13));
    head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
    while (!head.empty()) {
      const std::size_t eol = head.find("\r\n");
      const std::string_view line = head.substr(0, eol);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0)
        return fail("bad field: " + std::string(line));
      r.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(trim_ows(line.substr(colon + 1))));
      head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    }
    if (head_request || r.status / 100 == 1 || r.status == 204 || r.status == 304) return r;
    const auto te = r.header("Transfer-Encoding");
    const auto cl = r.header("Content-Length");
    if (te && cl) return fail("both Transfer-Encoding and Content-Length");
    if (te) {
      if (*te != "chunked") return fail("unexpected Transfer-Encoding " + *te);
      for (;;) {
        std::size_t eol = 0;
        while ((eol = buffer_.find("\r\n")) == std::string::npos) {
          if (!fill()) return fail("connection ended inside a chunk size");
        }
        const std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
        while (buffer_.size() < eol + 2 + size + 2) {
          if (!fill()) return fail("connection ended inside a chunk");
        }
        if (buffer_.compare(eol + 2 + size, 2, "\r\n") != 0) return fail("chunk without CRLF");
        r.body.append(buffer_, eol + 2, size);
        buffer_.erase(0, eol + 2 + size + 2);
        ++chunks_;
        if (size == 0) return r;  // (no trailers from this server)
      }
    }
    if (cl) {
      const std::size_t n = std::stoul(*cl);
      while (buffer_.size() < n) {
        if (!fill()) return fail("connection ended inside a body");
      }
      r.body = buffer_.substr(0, n);
      buffer_.erase(0, n);
      return r;
    }
    while (fill()) {
    }
    if (!closed_) return fail("no end to a close-delimited body");
    r.body = std::move(buffer_);
    buffer_.clear();
    return r;
  }

  // The next `n` bytes as they are (after a 101, another protocol's); fewer when the connection
  // ends or the deadline passes first.
  std::string bytes(std::size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) break;
    }
    std::string got = buffer_.substr(0, n);
    buffer_.erase(0, got.size());
    return got;
  }

  // Waits for the server to close the connection (true), discarding anything else it sends.
  bool closed() {
    while (fill()) {
    }
    return closed_;
  }
  // Bytes received but not yet read as a response.
  [[nodiscard]] const std::string& unread() const { return buffer_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] std::size_t chunks() const { return chunks_; }

 private:
  std::nullopt_t fail(std::string why) {
    error_ = std::move(why);
    return std::nullopt;
  }

  // Reads what is there (waiting up to the deadline); false at the end of the stream or timeout.
  bool fill() {
    if (closed_) return false;
    const auto until = std::chrono::steady_clock::now() + harness::kDeadline;
    std::string chunk(64 * 1024, '\0');
    for (;;) {
      const net::IoResult r = client_.socket().read(chunk);
      if (r.ok()) {
        buffer_.append(chunk.data(), r.bytes);
        return true;
      }
      if (r.status == net::IoStatus::closed || r.status == net::IoStatus::error) {
        closed_ = true;
        return false;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || net::wait_ready(client_.fd(), POLLIN, left) == 0) {
        error_ = "deadline passed";
        return false;
      }
    }
  }

  harness::Client client_;
  std::string buffer_;
  std::string error_;
  bool closed_ = false;
  std::size_t chunks_ = 0;
};

inline std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

}  // namespace avant::http::testing
