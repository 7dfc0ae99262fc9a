#include <avant/http/request.hpp>

namespace avant::http {

std::string_view Request::path() const noexcept {
  const std::string_view t = target;
  return t.substr(0, t.find_first_of("?#"));
}

std::string_view Request::query() const noexcept {
  std::string_view t = target;
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
  params.clear();
}

}  // namespace avant::http
