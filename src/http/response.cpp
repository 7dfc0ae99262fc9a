#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <avant/http/response.hpp>

namespace avant::http {

namespace {

// The Content-Type lines text() does not build: the types handlers answer with most.
constexpr std::array<std::string_view, 5> kTypeLines = {
    "Content-Type: text/plain; charset=utf-8\r\n", "Content-Type: text/plain\r\n",
    "Content-Type: text/html; charset=utf-8\r\n",  "Content-Type: application/json\r\n",
    "Content-Type: application/octet-stream\r\n",
};
constexpr std::size_t kTypePrefix = std::string_view("Content-Type: ").size();

std::string_view prebuilt_type_line(std::string_view type) noexcept {
  // By length first (one candidate each, two for 24), then by its bytes.
  std::string_view line;
  switch (type.size()) {
    case 25:
      line = kTypeLines[0];
      break;
    case 10:
      line = kTypeLines[1];
      break;
    case 24:
      line = type[0] == 't' ? kTypeLines[2] : kTypeLines[4];
      break;
    case 16:
      line = kTypeLines[3];
      break;
    default:
      return {};
  }
  return detail::same_bytes(line.data() + kTypePrefix, type.data(), type.size())
             ? line
             : std::string_view();
}

}  // namespace

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r(status, std::move(body), prebuilt_type_line(content_type));
  if (r.type_line_.empty()) r.headers.add("Content-Type", content_type);
  return r;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string_view status_line(int status) noexcept {
  switch (status) {
    case 200:
      return "HTTP/1.1 200 OK\r\n";
    case 204:
      return "HTTP/1.1 204 No Content\r\n";
    case 206:
      return "HTTP/1.1 206 Partial Content\r\n";
    case 301:
      return "HTTP/1.1 301 Moved Permanently\r\n";
    case 302:
      return "HTTP/1.1 302 Found\r\n";
    case 304:
      return "HTTP/1.1 304 Not Modified\r\n";
    case 400:
      return "HTTP/1.1 400 Bad Request\r\n";
    case 404:
      return "HTTP/1.1 404 Not Found\r\n";
    case 500:
      return "HTTP/1.1 500 Internal Server Error\r\n";
    default:
      return {};
  }
}

namespace {

constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::size_t format_date(std::time_t t, std::array<char, 32>& out) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  const int n = std::snprintf(out.data(), out.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                              kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace

std::string_view http_date_now() {
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 32> cached{};
  thread_local std::size_t cached_size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_size = format_date(now, cached);
    cached_second = now;
  }
  return {cached.data(), cached_size};
}

std::string_view date_line_now() {
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 48> cached{};
  thread_local std::size_t cached_size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::array<char, 32> date{};
    const std::size_t n = format_date(now, date);
    std::memcpy(cached.data(), "Date: ", 6);
    std::memcpy(cached.data() + 6, date.data(), n);
    std::memcpy(cached.data() + 6 + n, "\r\n", 2);
    cached_size = 6 + n + 2;
    cached_second = now;
  }
  return {cached.data(), cached_size};
}

std::string http_date(long long unix_seconds) {
  std::array<char, 32> buf{};
  const std::size_t n = format_date(static_cast<std::time_t>(unix_seconds), buf);
  return {buf.data(), n};
}

long long parse_http_date(std::string_view text) noexcept {
  // Only the IMF-fixdate form that every current client sends: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return -1;
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_mday = num(5, 2);
  int month = -1;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths.at(i)) month = static_cast<int>(i);
  }
  tm.tm_year = num(12, 4);
  tm.tm_hour = num(17, 2);
  tm.tm_min = num(20, 2);
  tm.tm_sec = num(23, 2);
  if (text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text[19] != ':' || text[22] != ':')
    return -1;
  if (month < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return -1;
  tm.tm_mon = month;
  tm.tm_year -= 1900;
  return static_cast<long long>(timegm(&tm));
}

}  // namespace avant::http
