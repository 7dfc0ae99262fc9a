#include <avant/http/request.hpp>

namespace avant::http {

namespace {

// The origin-form part of a target: "http://host:80/a?b" (absolute-form, RFC 9112 §3.2.2, which
// a server must accept) → "/a?b"; an origin-form target is returned as it is.
std::string_view origin_form(std::string_view t) noexcept {
  if (t.empty() || t.front() == '/') return t;
  const std::size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return t;  // "*", or an authority (CONNECT)
  const std::size_t rest = t.find_first_of("/?#", scheme_end + 3);
  return rest == std::string_view::npos ? std::string_view() : t.substr(rest);
}

// Where '?' or '#' first comes, or the size. (string_view::find_first_of looks each character
// up in the set with memchr: a call per character of a path that is on every request's way.)
std::size_t query_or_fragment(std::string_view t) noexcept {
  std::size_t i = 0;
  while (i < t.size() && t[i] != '?' && t[i] != '#')
    ++i;
  return i;
}

}  // namespace

std::string_view Request::path() const noexcept {
  const std::string_view t = origin_form(target);
  const std::string_view p = t.substr(0, query_or_fragment(t));
  // "http://host" and "http://host?q" have an empty path: it means "/".
  return p.empty() && t.size() != target.size() ? std::string_view("/") : p;
}

std::string_view Request::query() const noexcept {
  std::string_view t = origin_form(target);
  const std::size_t q = t.find('?');
  if (q == std::string_view::npos) return {};
  t.remove_prefix(q + 1);
  return t.substr(0, t.find('#'));
}

std::string_view Request::param(std::string_view name) const noexcept {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

void Request::clear() noexcept {
  method.clear();
  target.clear();
  version_major = 1;
  version_minor = 1;
  headers.clear();
  body.clear();
  keep_alive = true;
  expect_continue = false;
  upgrade = false;
  params.clear();
}

}  // namespace avant::http
