// http_session_head.cpp — the given head of an answer (lab 05 does not rewrite this file): the
// status line, the server's own fields (Server, Date) unless the handler set them, the handler's
// fields, and the framing, which is the Session's to decide (Content-Length, chunked, Connection).
#include <cstring>
#include <string>

#include "http_session.hpp"
#include "numbers.hpp"

namespace avant::http {

void Session::serialize_head(detail::Exchange& ex, Response& response, std::string& out,
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

  // The head is written through a pointer into `out`, grown once to a bound on its size: a
  // dozen small appends would each check the capacity and call memcpy.
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
  fields += type.size();
  const std::string_view server = has_server ? std::string_view() : shared_->server_line;
  const std::string_view date = has_date ? std::string_view() : date_line_now();
  constexpr std::size_t kFraming = 40 + 30 + 26;  // Content-Length, Transfer-Encoding, Connection
  const std::size_t start = out.size();
  out.resize(start + line.size() + server.size() + date.size() + fields + kFraming + 2);
  char* p = out.data() + start;
  const auto put = [&p](std::string_view v) {
    if (v.empty()) return;  // an empty view may hold no pointer, which memcpy may not be given
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  };
  put(line);
  put(server);
  put(date);
  put(type);  // text() would have added it first
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
  out.resize(static_cast<std::size_t>(p - out.data()));
}

}  // namespace avant::http
