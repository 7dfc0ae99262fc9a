#include <algorithm>
#include <stdexcept>

#include <avant/http/router.hpp>
#include <avant/http/url.hpp>

namespace avant::http {

namespace {

// "/a/b/" → {"a", "b", ""}; "/" → {""}: the trailing empty segment keeps "/a/" apart from "/a".
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Router& Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must start with '/'");
  }
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  const auto parts = split(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (!part.empty() && part.front() == ':') {
      route.segments.push_back({Segment::Kind::param, std::string(part.substr(1))});
    } else if (!part.empty() && part.front() == '*') {
      if (i + 1 != parts.size()) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) +
                                    "': a wildcard must be the last segment");
      }
      route.segments.push_back({Segment::Kind::wildcard, std::string(part.substr(1))});
    } else {
      route.segments.push_back({Segment::Kind::literal, std::string(part)});
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::not_found(Handler handler) {
  not_found_ = std::move(handler);
  return *this;
}

bool Router::match_path(const Route& route, const std::vector<std::string>& segments,
                        Request* request) {
  std::size_t i = 0;
  for (const Segment& seg : route.segments) {
    if (seg.kind == Segment::Kind::wildcard) {
      if (request != nullptr) {
        std::string rest;
        for (std::size_t j = i; j < segments.size(); ++j) {
          if (j > i) rest.push_back('/');
          rest += segments[j];
        }
        request->params.emplace_back(seg.text, std::move(rest));
      }
      return true;
    }
    if (i >= segments.size()) return false;
    if (seg.kind == Segment::Kind::literal) {
      if (segments[i] != seg.text) return false;
    } else {
      if (segments[i].empty()) return false;  // "/users/" does not match "/users/:id"
      if (request != nullptr) request->params.emplace_back(seg.text, segments[i]);
    }
    ++i;
  }
  return i == segments.size();
}

Router::Match Router::match(Request& request) const {
  Match result;
  std::vector<std::string> segments;
  for (const std::string_view raw : split(request.path())) {
    auto decoded = percent_decode(raw);
    if (!decoded) {
      result.status = 400;
      return result;
    }
    segments.push_back(std::move(*decoded));
  }
  std::vector<std::string> allowed;
  const Route* head_fallback = nullptr;
  for (const Route& route : routes_) {
    if (!match_path(route, segments, nullptr)) continue;
    if (route.method == "*" || route.method == request.method) {
      request.params.clear();
      (void)match_path(route, segments, &request);
      result.handler = &route.handler;
      return result;
    }
    if (route.method == "GET" && request.method == "HEAD" && head_fallback == nullptr)
      head_fallback = &route;
    allowed.push_back(route.method);
    if (route.method == "GET") allowed.emplace_back("HEAD");
  }
  if (head_fallback != nullptr) {
    request.params.clear();
    (void)match_path(*head_fallback, segments, &request);
    result.handler = &head_fallback->handler;
    return result;
  }
  if (allowed.empty()) {
    result.status = 404;
    return result;
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  for (const auto& m : allowed) {
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += m;
  }
  result.status = 405;
  return result;
}

void Router::operator()(Request& request, Responder responder) const {
  const Match m = match(request);
  if (m.handler != nullptr) {
    (*m.handler)(request, std::move(responder));
    return;
  }
  if (m.status == 404 && not_found_) {
    not_found_(request, std::move(responder));
    return;
  }
  Response response = Response::text(m.status, std::string(reason_phrase(m.status)) + "\n");
  if (m.status == 405) response.headers.add("Allow", m.allow);
  responder.send(std::move(response));
}

}  // namespace avant::http
