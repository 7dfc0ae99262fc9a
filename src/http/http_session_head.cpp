// http_session_head.cpp — the given head of an answer (lab 05 does not rewrite this file): the
// status line, the server's own fields (Server, Date) unless the handler set them, the handler's
// fields, and the framing, which is the Session's to decide (Content-Length, chunked, Connection).
#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <string>

#include "http_session.hpp"
#include "numbers.hpp"

namespace avant::http {

std::string_view Session::make_head_start(int status, std::string_view type) {
  // A status without a prebuilt line has no kept start: the one kept stays for the next answer.
  const std::string_view line = status_line(status);
  if (line.empty()) return {};
  // The Date line holds until the wall clock passes the second it names, as the loop's clock
  // counts. Its second is std::time()'s (date_line_now()), a clock that may lag the precise one
  // by a tick: read first, so that the line's second is never earlier than `second`; a deadline
  // already past (the tick after a second turned) makes the next answer build the lines again.
  // The loop's clock is the time of its last poll: an answer late in a long iteration may carry
  // the second before, as late as the iteration has run.
  const std::time_t second = std::time(nullptr);
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  head_until_ = loop_.poll_time() + std::chrono::seconds(second + 1 - wall.tv_sec) -
                std::chrono::nanoseconds(wall.tv_nsec);
  // Kept even when empty (lines too long to fit): the next answer does not try again.
  head_status_ = status;
  head_type_ = type;
  head_start_size_ = 0;
  const std::string_view date = date_line_now();
  const std::string_view server = shared_->server_line;
  if (line.size() + server.size() + date.size() + type.size() > head_start_.size()) return {};
  for (const std::string_view piece : {line, server, date, type}) {
    if (piece.empty()) continue;
    std::memcpy(head_start_.data() + head_start_size_, piece.data(), piece.size());
    head_start_size_ += piece.size();
  }
  return {head_start_.data(), head_start_size_};
}

bool Session::write_common_answer(detail::Exchange& ex, const Response& response,
                                  detail::OutputBytes& out, std::uint64_t length,
                                  std::string_view body) {
  // The common answer: a prebuilt status line and type, no field of the handler's, a length,
  // and the connection going on. Its head is the start lines (head_start()) and the length,
  // written where it goes with the body behind it.
  if (!response.headers.empty() || response.shared_fields || ex.close || ex.http10 ||
      ex.switch_to || draining_ || !status_allows_body(response.status))
    return false;
  const std::string_view start = head_start(response.status, response.content_type_line());
  if (start.empty()) return false;
  constexpr std::string_view kLength = "Content-Length: ";
  constexpr std::string_view kEnd = "\r\n\r\n";
  constexpr std::size_t kDigits = 20;  // of a std::uint64_t, at most
  char* const begin = out.room(start.size() + kLength.size() + kDigits + kEnd.size() + body.size());
  char* p = begin;
  std::memcpy(p, start.data(), start.size());
  p += start.size();
  std::memcpy(p, kLength.data(), kLength.size());
  p += kLength.size();
  p = std::to_chars(p, p + kDigits, length).ptr;
  std::memcpy(p, kEnd.data(), kEnd.size());
  p += kEnd.size();
  if (!body.empty()) {
    std::memcpy(p, body.data(), body.size());
    p += body.size();
  }
  out.commit(static_cast<std::size_t>(p - begin));
  return true;
}

void Session::serialize_head(detail::Exchange& ex, Response& response, detail::OutputBytes& out,
                             std::optional<std::uint64_t> length) {
  // One pass over the handler's fields: what it set itself, what framing it asked for, and how
  // many bytes they take.
  bool has_server = options_.server_header.empty();
  bool has_date = false;
  bool has_type = false;
  std::size_t fields = 0;
  for (const auto& [name, value] : response.headers) {
    fields += name.size() + value.size() + 4;
    switch (name.size()) {
      case 4:
        has_date = has_date || iequals(name, "Date");
        break;
      case 6:
        has_server = has_server || iequals(name, "Server");
        break;
      case 10:
        if (iequals(name, "Connection") && list_contains(value, "close")) ex.close = true;
        break;
      case 12:
        has_type = has_type || iequals(name, "Content-Type");
        break;
      default:
        break;
    }
  }
  // While draining, the last answer of an idle pipeline says goodbye.
  if (draining_ && !queue_.empty() && &ex == queue_.back().get() &&
      parser_.phase() == RequestParser::Phase::idle)
    ex.close = true;
  if (ex.close) close_input();

  std::string_view line = status_line(response.status);
  std::string custom;
  if (line.empty()) {
    custom = "HTTP/1.1 ";
    numbers::append(custom, static_cast<std::uint64_t>(response.status));
    custom += ' ';
    custom += reason_phrase(response.status);
    custom += "\r\n";
    line = custom;
  }
  const std::string_view shared_fields =
      response.shared_fields ? std::string_view(*response.shared_fields) : std::string_view();
  fields += shared_fields.size();
  const std::string_view type = has_type ? std::string_view() : response.content_type_line();
  const std::string_view server = has_server ? std::string_view() : shared_->server_line;
  // The status line, Server, Date and the prebuilt type, in that order (text() would have added
  // the type first): one piece for a prebuilt status line, which is most heads.
  const std::string_view start_lines =
      custom.empty() && !has_date && server.size() == shared_->server_line.size()
          ? head_start(response.status, type)
          : std::string_view();
  fields += start_lines.empty() ? line.size() + server.size() + type.size() +
                                      (has_date ? 0 : date_line_now().size())
                                : start_lines.size();
  constexpr std::size_t kFraming = 40 + 30 + 26;  // Content-Length, Transfer-Encoding, Connection
  // The head is written through a pointer into `out`, grown once to a bound on its size: a dozen
  // small appends would each check the capacity.
  char* const begin = out.room(fields + kFraming + 2);
  char* p = begin;
  const auto put = [&p](std::string_view v) {
    if (v.empty()) return;  // an empty view may hold no pointer, which memcpy may not be given
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  };
  if (!start_lines.empty()) {
    put(start_lines);
  } else {
    put(line);
    put(server);
    if (!has_date) put(date_line_now());
    put(type);
  }
  for (const auto& [name, value] : response.headers) {
    // Framing is ours to decide.
    if ((name.size() == 10 && iequals(name, "Connection")) ||
        (name.size() == 14 && iequals(name, "Content-Length")) ||
        (name.size() == 17 && iequals(name, "Transfer-Encoding")))
      continue;
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
  put(shared_fields);
  const bool may_have_body = status_allows_body(response.status);
  if (may_have_body && length) {
    put("Content-Length: ");
    put(numbers::Digits(*length).view());
    put("\r\n");
  } else if (may_have_body && ex.chunked) {
    put("Transfer-Encoding: chunked\r\n");
  }
  if (ex.switch_to) {
    put("Connection: Upgrade\r\n");  // a 101: the handler's Upgrade field says to what
  } else if (ex.close) {
    put("Connection: close\r\n");
  } else if (ex.http10) {
    put("Connection: keep-alive\r\n");
  }
  put("\r\n");
  out.commit(static_cast<std::size_t>(p - begin));
}

}  // namespace avant::http
