// router.hpp — method + path patterns to handlers.
//
//   router.get("/users/:id", show_user);          "/users/42"      → param("id") == "42"
//   router.post("/users", create_user);
//   router.get("/static/*path", serve);           "/static/a/b.css" → param("path") == "a/b.css"
//   router.any("/echo", echo);                    every method
//
// Patterns are matched segment by segment against the percent-decoded path (an encoded '/' in a
// segment stays inside that segment's parameter). Routes are tried in the order they were added;
// the first whose path and method match wins. HEAD falls back to a GET route. A path that matches
// a route but not its method is answered 405 with `Allow`; no route at all, 404 (or the handler
// given to not_found()); a path with an invalid escape, 400.
// Threads: add routes before the server starts; after that the router is only read and may serve
// every worker at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <avant/http/http_server.hpp>

namespace avant::http {

class Router {
 public:
  Router& add(std::string_view method, std::string_view pattern, Handler handler);
  Router& get(std::string_view pattern, Handler h) { return add("GET", pattern, std::move(h)); }
  Router& post(std::string_view pattern, Handler h) { return add("POST", pattern, std::move(h)); }
  Router& put(std::string_view pattern, Handler h) { return add("PUT", pattern, std::move(h)); }
  Router& del(std::string_view pattern, Handler h) { return add("DELETE", pattern, std::move(h)); }
  Router& any(std::string_view pattern, Handler h) { return add("*", pattern, std::move(h)); }
  // Answers requests no route matches (default: 404 with a short text).
  Router& not_found(Handler handler);

  // The outcome of matching a request: the handler to call (params filled in), or the status
  // to answer with (404, 405 with `allow`, 400).
  struct Match {
    const Handler* handler = nullptr;
    int status = 0;
    std::string allow;  // for 405: "GET, HEAD, POST"
  };
  [[nodiscard]] Match match(Request& request) const;

  // Dispatches: the Router is itself a Handler.
  void operator()(Request& request, Responder responder) const;

 private:
  struct Segment {
    enum class Kind : std::uint8_t { literal, param, wildcard };
    Kind kind;
    std::string text;  // the literal, or the parameter's name
  };
  struct Route {
    std::string method;  // "*" for any
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };
  static bool match_path(const Route& route, const std::vector<std::string>& segments,
                         Request* request);

  std::vector<Route> routes_;
  Handler not_found_;
};

}  // namespace avant::http
