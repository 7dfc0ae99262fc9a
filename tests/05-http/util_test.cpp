// Chapter 05 — the pure helpers: header lists, percent-decoding, safe paths, dates, the router.
#include <string>

#include <avant/http/headers.hpp>
#include <avant/http/response.hpp>
#include <avant/http/router.hpp>
#include <avant/http/static_files.hpp>
#include <avant/http/url.hpp>

#include <gtest/gtest.h>

namespace avant::http {
namespace {

TEST(Headers, NamesAreCaseInsensitiveAndOrderIsKept) {
  Headers h;
  h.add("Content-Type", "text/plain");
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  EXPECT_EQ(h.get("content-TYPE").value_or(""), "text/plain");
  EXPECT_EQ(h.count("SET-COOKIE"), 2u);
  EXPECT_FALSE(h.get("Missing").has_value());
  h.set("Set-Cookie", "c=3");
  EXPECT_EQ(h.count("set-cookie"), 1u);
  EXPECT_EQ(h[1].second, "c=3");
  EXPECT_EQ(h.remove("content-type"), 1u);
  EXPECT_EQ(h.size(), 1u);
  h.clear();
  EXPECT_TRUE(h.empty());
  h.add("Connection", "keep-alive, Upgrade");
  EXPECT_TRUE(h.has_token("connection", "upgrade"));
  EXPECT_FALSE(h.has_token("connection", "close"));
}

TEST(Url, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc").value_or("?"), "a b/c");
  EXPECT_EQ(percent_decode("a+b", true).value_or("?"), "a b");
  EXPECT_EQ(percent_decode("a+b").value_or("?"), "a+b");
  EXPECT_FALSE(percent_decode("bad%2").has_value());
  EXPECT_FALSE(percent_decode("bad%zz").has_value());
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_EQ(percent_encode("a b/ü"), "a%20b/%C3%BC");
  EXPECT_EQ(percent_encode("a/b", false), "a%2Fb");
}

TEST(Url, QueryStrings) {
  const auto q = parse_query("a=1&b=two+words&c&d=%41%42&bad=%zz&&e=");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(q[1].second, "two words");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ(q[3].second, "AB");
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>{"e", ""}));
}

TEST(Url, SafeRelativePaths) {
  EXPECT_EQ(safe_relative_path("/").value_or("?"), "");
  EXPECT_EQ(safe_relative_path("/index.html").value_or("?"), "index.html");
  EXPECT_EQ(safe_relative_path("/docs/a%20b.html").value_or("?"), "docs/a b.html");
  EXPECT_EQ(safe_relative_path("/a/./b//c/").value_or("?"), "a/b/c");
  // The original refused any ".." substring: legal names such as these are files.
  EXPECT_EQ(safe_relative_path("/notes..txt").value_or("?"), "notes..txt");
  EXPECT_EQ(safe_relative_path("/..hidden").value_or("?"), "..hidden");
  for (const char* bad : {"/..", "/../etc/passwd", "/a/../../etc/passwd", "/%2e%2e/etc/passwd",
                          "/%2E%2e/x", "/.%2e/x", "/a%2f..%2f..%2fetc", "/a%2Fb", "/a%5c..%5cb",
                          "/a%00.html", "/bad%zz", "relative", ""}) {
    EXPECT_FALSE(safe_relative_path(bad).has_value()) << bad;
  }
}

TEST(Response, DatesAndReasons) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), -1);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
  EXPECT_EQ(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
  EXPECT_EQ(http_date_now().size(), 29u);
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_FALSE(status_allows_body(204));
  EXPECT_FALSE(status_allows_body(304));
  EXPECT_TRUE(status_allows_body(200));
}

Request request(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(Router, ParametersWildcardsAndMethods) {
  Router router;
  int which = 0;
  router.get("/users/:id", [&](Request&, Responder) { which = 1; });
  router.post("/users", [&](Request&, Responder) { which = 2; });
  router.get("/static/*path", [&](Request&, Responder) { which = 3; });
  router.any("/echo", [&](Request&, Responder) { which = 4; });
  router.get("/users/:id/posts/:post", [&](Request&, Responder) { which = 5; });

  auto r = request("GET", "/users/42?x=1");
  auto m = router.match(r);
  ASSERT_NE(m.handler, nullptr);
  (*m.handler)(r, Responder());
  EXPECT_EQ(which, 1);
  EXPECT_EQ(r.param("id"), "42");

  r = request("GET", "/users/a%2Fb/posts/7");
  m = router.match(r);
  ASSERT_NE(m.handler, nullptr);
  (*m.handler)(r, Responder());
  EXPECT_EQ(which, 5);
  EXPECT_EQ(r.param("id"), "a/b") << "an encoded slash stays inside its segment";
  EXPECT_EQ(r.param("post"), "7");

  r = request("GET", "/static/css/site.css");
  m = router.match(r);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(r.param("path"), "css/site.css");
  r = request("GET", "/static/");
  ASSERT_NE(router.match(r).handler, nullptr);
  EXPECT_EQ(r.param("path"), "");

  r = request("HEAD", "/users/1");
  EXPECT_NE(router.match(r).handler, nullptr) << "HEAD falls back to GET";
  r = request("PATCH", "/echo");
  EXPECT_NE(router.match(r).handler, nullptr);

  r = request("DELETE", "/users/1");
  m = router.match(r);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, HEAD");
  r = request("GET", "/users");
  m = router.match(r);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "POST");

  for (const char* missing : {"/nothing", "/users/", "/users/1/extra", "/"}) {
    r = request("GET", missing);
    EXPECT_EQ(router.match(r).status, 404) << missing;
  }
  r = request("GET", "/users/%zz");
  EXPECT_EQ(router.match(r).status, 400);
}

TEST(StaticFiles, RangeHeaders) {
  using K = RangeRequest::Kind;
  const auto check = [](std::string_view h, std::uint64_t size, K kind, std::uint64_t first = 0,
                        std::uint64_t last = 0) {
    const RangeRequest r = parse_range(h, size);
    EXPECT_EQ(r.kind, kind) << h;
    if (kind == K::partial) {
      EXPECT_EQ(r.first, first) << h;
      EXPECT_EQ(r.last, last) << h;
    }
  };
  check("bytes=0-9", 100, K::partial, 0, 9);
  check("bytes=90-", 100, K::partial, 90, 99);
  check("bytes=90-1000", 100, K::partial, 90, 99);
  check("bytes=-10", 100, K::partial, 90, 99);
  check("bytes=-1000", 100, K::partial, 0, 99);
  check("BYTES=1-1", 100, K::partial, 1, 1);
  check("bytes=100-", 100, K::unsatisfiable);
  check("bytes=-0", 100, K::unsatisfiable);
  check("bytes=0-", 0, K::unsatisfiable);
  check("bytes=9-1", 100, K::whole);
  check("bytes=0-1,5-6", 100, K::whole);
  check("items=0-1", 100, K::whole);
  check("bytes=a-b", 100, K::whole);
  check("bytes=", 100, K::whole);
  check("bytes=-", 100, K::whole);
}

TEST(StaticFiles, MimeTypesByExtension) {
  EXPECT_EQ(mime_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("a/b/STYLE.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type("logo.svg"), "image/svg+xml");
  EXPECT_EQ(mime_type("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(mime_type("noext"), "application/octet-stream");
  EXPECT_EQ(mime_type("dir.d/noext"), "application/octet-stream");
  EXPECT_EQ(mime_type("x.unknown"), "application/octet-stream");
}

TEST(Router, PatternsAreCheckedWhenAdded) {
  Router router;
  EXPECT_THROW(router.get("no-slash", [](Request&, Responder) {}), std::invalid_argument);
  EXPECT_THROW(router.get("/a/*rest/b", [](Request&, Responder) {}), std::invalid_argument);
}

}  // namespace
}  // namespace avant::http
