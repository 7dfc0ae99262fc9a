#include <avant/http/url.hpp>

namespace avant::http {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                                : percent_decode(pair.substr(eq + 1), true);
      if (key && value) out.emplace_back(std::move(*key), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> safe_relative_path(std::string_view encoded_path) {
  if (encoded_path.empty() || encoded_path.front() != '/') return std::nullopt;
  std::string out;
  out.reserve(encoded_path.size());
  // Segment by segment on the encoded form, so an encoded '/' can not create a separator; each
  // segment is decoded straight onto the end of `out` (no string per segment).
  std::size_t i = 1;
  while (true) {
    const std::size_t before = out.size();
    if (!out.empty()) out.push_back('/');
    const std::size_t start = out.size();
    for (; i < encoded_path.size() && encoded_path[i] != '/'; ++i) {
      char c = encoded_path[i];
      if (c == '%') {
        if (i + 2 >= encoded_path.size()) return std::nullopt;
        const int hi = hex_value(encoded_path[i + 1]);
        const int lo = hex_value(encoded_path[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        c = static_cast<char>((hi << 4) | lo);
        i += 2;
      }
      if (c == '\0' || c == '/' || c == '\\') return std::nullopt;
      out.push_back(c);
    }
    const std::string_view segment = std::string_view(out).substr(start);
    if (segment == "..") return std::nullopt;
    if (segment.empty() || segment == ".") out.resize(before);
    if (i >= encoded_path.size()) break;
    ++i;  // the '/'
  }
  return out;
}

}  // namespace avant::http
