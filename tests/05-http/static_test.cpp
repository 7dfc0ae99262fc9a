// Chapter 05 — StaticFiles through a real server: index, MIME types, conditional GET, ranges,
// streamed big files, folders, and every way a path could try to leave the root.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <avant/http/http_server.hpp>
#include <avant/http/static_files.hpp>
#include <avant/testing/harness.hpp>

#include <gtest/gtest.h>

#include "http_client.hpp"

namespace avant::http {
namespace {

namespace fs = std::filesystem;
using harness::eventually;
using testing::get;
using testing::HttpClient;
using namespace std::chrono_literals;

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// A site in a fresh temporary folder, with a secret file beside it (outside the root).
class Site {
 public:
  Site() {
    static std::atomic<int> counter{0};  // one folder per site, also within one process
    base_ = fs::temp_directory_path() /
            ("avant-static-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(base_);
    fs::create_directories(root() / "sub");
    fs::create_directories(root() / "sub2");
    write_file(base_ / "secret.txt", "the secret");
    write_file(root() / "index.html", "<h1>home</h1>");
    write_file(root() / "a b.css", "body{}");
    write_file(root() / "notes..txt", "dots are legal");
    write_file(root() / "sub" / "index.html", "sub home");
    write_file(root() / "sub2" / "<script>.txt", "x");
    write_file(root() / "big.bin", harness::pattern(1 << 20, 3));
    fs::create_symlink(base_ / "secret.txt", root() / "out-link");
    fs::create_symlink(base_, root() / "out-dir");
    fs::create_symlink("index.html", root() / "in-link");
    ::mkfifo((root() / "fifo").c_str(), 0600);
  }
  ~Site() {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;
  Site(Site&&) = delete;
  Site& operator=(Site&&) = delete;
  [[nodiscard]] fs::path root() const { return base_ / "www"; }

 private:
  fs::path base_;
};

class StaticServer {
 public:
  explicit StaticServer(StaticOptions o) {
    HttpOptions options;
    options.server.workers = 1;
    auto files = std::make_shared<StaticFiles>(std::move(o));
    server_ = base_.call([&] {
      auto s = std::make_unique<HttpServer>(base_.loop(), options,
                                            [files](Request& request, Responder responder) {
                                              (*files)(request, std::move(responder));
                                            });
      s->start();
      return s;
    });
  }
  ~StaticServer() {
    try {
      base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  StaticServer(const StaticServer&) = delete;
  StaticServer& operator=(const StaticServer&) = delete;
  StaticServer(StaticServer&&) = delete;
  StaticServer& operator=(StaticServer&&) = delete;
  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }

 private:
  harness::LoopThread base_;
  std::unique_ptr<HttpServer> server_;
};

testing::ParsedResponse fetch(const net::SocketAddress& at, const std::string& request,
                              bool head = false) {
  HttpClient c(at);
  EXPECT_TRUE(c.send(request));
  auto r = c.read(head);
  EXPECT_TRUE(r) << c.error();
  return r.value_or(testing::ParsedResponse{});
}

TEST(StaticFiles, ServesIndexAndFilesWithTheirTypes) {
  Site site;
  StaticServer s({.root = site.root()});
  const auto index = fetch(s.address(), get("/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>home</h1>");
  EXPECT_EQ(index.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  const auto css = fetch(s.address(), get("/a%20b.css"));
  EXPECT_EQ(css.body, "body{}");
  EXPECT_EQ(css.header("Content-Type").value_or(""), "text/css; charset=utf-8");
  EXPECT_EQ(fetch(s.address(), get("/notes..txt")).body, "dots are legal")
      << "a name with '..' inside is a legal file name (the original refused it)";
  EXPECT_EQ(fetch(s.address(), get("/in-link")).body, "<h1>home</h1>")
      << "a link that stays inside the root is followed";
  const auto head = fetch(s.address(), "HEAD /index.html HTTP/1.1\r\nHost: h\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length").value_or(""), "13");
  const auto post = fetch(s.address(), "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow").value_or(""), "GET, HEAD");
}

TEST(StaticFiles, ConditionalGetAnswers304) {
  Site site;
  StaticServer s({.root = site.root()});
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/index.html")));
  const auto first = c.read();
  ASSERT_TRUE(first);
  const std::string etag = first->header("ETag").value_or("");
  const std::string modified = first->header("Last-Modified").value_or("");
  ASSERT_FALSE(etag.empty());
  ASSERT_EQ(etag.front(), '"');
  ASSERT_NE(etag.find('-'), std::string::npos) << "the original's \"<hex mtime>-<hex size>\"";
  EXPECT_NE(etag.find("-d\""), std::string::npos) << "13 bytes is d in hex: " << etag;

  for (const std::string& condition :
       {"If-None-Match: " + etag + "\r\n", "If-None-Match: \"x\", W/" + etag + "\r\n",
        std::string("If-None-Match: *\r\n"), "If-Modified-Since: " + modified + "\r\n"}) {
    ASSERT_TRUE(c.send(get("/index.html", condition)));
    const auto r = c.read();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 304) << condition;
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(r->header("ETag").value_or(""), etag);
  }
  for (const std::string& condition :
       {std::string("If-None-Match: \"other\"\r\n"),
        std::string("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
        // If-None-Match wins over If-Modified-Since.
        "If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n"}) {
    ASSERT_TRUE(c.send(get("/index.html", condition)));
    const auto r = c.read();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << condition;
    EXPECT_EQ(r->body, "<h1>home</h1>");
  }
}

TEST(StaticFiles, RangesAnswer206Or416) {
  Site site;
  // whole_file_max small: the big file is streamed in pieces.
  StaticServer s({.root = site.root(), .whole_file_max = 4096, .piece_size = 8192});
  const std::string big = harness::pattern(1 << 20, 3);
  HttpClient c(s.address());
  const auto ask = [&](const std::string& extra, bool head = false) {
    EXPECT_TRUE(c.send(std::string(head ? "HEAD" : "GET") + " /big.bin HTTP/1.1\r\nHost: h\r\n" +
                       extra + "\r\n"));
    auto r = c.read(head);
    EXPECT_TRUE(r) << c.error();
    return r.value_or(testing::ParsedResponse{});
  };
  const auto whole = ask("");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, big) << "streamed whole";
  EXPECT_EQ(whole.header("Accept-Ranges").value_or(""), "bytes");

  auto r = ask("Range: bytes=0-9\r\n");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, big.substr(0, 10));
  EXPECT_EQ(r.header("Content-Range").value_or(""), "bytes 0-9/1048576");
  r = ask("Range: bytes=-5\r\n");
  EXPECT_EQ(r.body, big.substr(big.size() - 5));
  r = ask("Range: bytes=1000000-\r\n");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, big.substr(1000000));
  r = ask("Range: bytes=100-200000\r\n");  // streamed range
  EXPECT_EQ(r.body, big.substr(100, 199901));
  r = ask("Range: bytes=1048576-\r\n");
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.header("Content-Range").value_or(""), "bytes */1048576");
  r = ask("Range: bytes=0-1,5-6\r\n");
  EXPECT_EQ(r.status, 200) << "several ranges: the whole file";
  EXPECT_EQ(r.body.size(), big.size());
  r = ask("Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n");
  EXPECT_EQ(r.status, 200) << "an If-Range that does not match: the whole file";
  r = ask("Range: bytes=0-9\r\nIf-Range: " + whole.header("ETag").value_or("") + "\r\n");
  EXPECT_EQ(r.status, 206);
  r = ask("Range: bytes=5-2\r\n");
  EXPECT_EQ(r.status, 200) << "an invalid range is ignored";
  r = ask("Range: bytes=0-9\r\n", true);
  EXPECT_EQ(r.header("Content-Length").value_or(""), "10");
}

TEST(StaticFiles, PipelinedBigFilesArriveWholeAndInOrder) {
  Site site;
  // Streamed files (sendfile on plain TCP) wait their turn behind the answers before them.
  StaticServer s({.root = site.root(), .whole_file_max = 4096});
  const std::string big = harness::pattern(1 << 20, 3);
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/big.bin") + get("/index.html") + get("/big.bin") +
                     get("/big.bin", "Range: bytes=10-19\r\n") + get("/a%20b.css")));
  for (const std::string& expected :
       {big, std::string("<h1>home</h1>"), big, big.substr(10, 10), std::string("body{}")}) {
    const auto r = c.read();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->body.size(), expected.size());
    EXPECT_TRUE(r->body == expected);
  }
}

TEST(StaticFiles, PathsThatLeaveTheRootAre404) {
  Site site;
  StaticServer s({.root = site.root()});
  for (const char* target :
       {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/.%2e/secret.txt", "/sub%2f..%2f..%2fsecret.txt", "/sub%5c..%5c..%5csecret.txt",
        "/index.html%00.txt", "/out-link", "/out-dir/secret.txt", "/fifo", "/missing",
        "/bad%zzescape"}) {
    const auto r = fetch(s.address(), get(target));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << target;
  }
}

TEST(StaticFiles, FoldersRedirectServeTheirIndexOrAListing) {
  Site site;
  {
    StaticServer s({.root = site.root()});
    const auto redirect = fetch(s.address(), get("/sub?x=1"));
    EXPECT_EQ(redirect.status, 301);
    EXPECT_EQ(redirect.header("Location").value_or(""), "/sub/?x=1");
    EXPECT_EQ(fetch(s.address(), get("/sub/")).body, "sub home");
    EXPECT_EQ(fetch(s.address(), get("/sub2/")).status, 404) << "listing is off by default";
  }
  StaticServer s({.root = site.root(), .directory_listing = true});
  const auto listing = fetch(s.address(), get("/sub2/"));
  EXPECT_EQ(listing.status, 200);
  EXPECT_NE(listing.body.find("&lt;script&gt;.txt"), std::string::npos) << listing.body;
  EXPECT_EQ(listing.body.find("<script>"), std::string::npos) << "names are HTML-escaped";
  EXPECT_NE(listing.body.find("href=\"%3Cscript%3E.txt\""), std::string::npos) << listing.body;
}

// The open-file cache: within `valid` a cached file is served as it was cached (no system call
// looks at the file), and without the cache every request sees the file as it is now.
TEST(StaticFiles, WithinValidTheCacheServesWhatItHoldsAndWithoutItEveryRequestIsFresh) {
  Site site;
  const fs::path live = site.root() / "live.txt";
  write_file(live, "first");
  {
    StaticOptions o{.root = site.root()};
    o.cache.valid = 24h;  // longer than the test: nothing is checked again
    StaticServer s(o);
    EXPECT_EQ(fetch(s.address(), get("/live.txt")).body, "first");
    write_file(live, "second, longer");
    const auto cached = fetch(s.address(), get("/live.txt"));
    EXPECT_EQ(cached.body, "first") << "served from the cache, as nginx's open_file_cache_valid";
    EXPECT_EQ(cached.header("Content-Length").value_or(""), "5");
    fs::remove(live);
    EXPECT_EQ(fetch(s.address(), get("/live.txt")).status, 200) << "still cached";
  }
  write_file(live, "first");
  StaticOptions o{.root = site.root()};
  o.cache.entries = 0;  // no cache
  StaticServer s(o);
  EXPECT_EQ(fetch(s.address(), get("/live.txt")).body, "first");
  write_file(live, "second, longer");
  EXPECT_EQ(fetch(s.address(), get("/live.txt")).body, "second, longer");
  fs::remove(live);
  EXPECT_EQ(fetch(s.address(), get("/live.txt")).status, 404);
}

// Under load, a file edited in place, replaced by a rename, then deleted is served fresh within
// the cache's `valid` period, and every answer is one whole version (or, once deleted, a 404).
TEST(StaticFiles, AnEditedReplacedOrDeletedFileIsServedFreshUnderLoad) {
  Site site;
  const fs::path live = site.root() / "live.txt";
  const std::string v1 = "version one";
  const std::string v2 = "version two, edited in place";
  const std::string v3 = harness::pattern(100000, 7);  // replaced: bigger than the memory limit
  write_file(live, v1);
  StaticOptions o{.root = site.root()};
  o.cache.valid = 50ms;
  o.cache.file_bytes = 64u << 10;
  StaticServer s(o);

  std::atomic<bool> stop{false};
  std::atomic<int> answers{0};
  std::atomic<int> torn{0};
  std::atomic<int> last_seen{0};  // 1, 2, 3 for the versions, 4 for a 404
  std::thread load([&] {
    auto c = std::make_unique<HttpClient>(s.address());
    const auto until = std::chrono::steady_clock::now() + 30s;  // bounded even if the test fails
    while (!stop && std::chrono::steady_clock::now() < until) {
      const auto r = c->send(get("/live.txt")) ? c->read() : std::nullopt;
      if (!r || r->header("Connection").value_or("") == "close") {
        // max_requests_per_connection reached: the server closes; go on with a new connection.
        c = std::make_unique<HttpClient>(s.address());
        if (!r) continue;
      }
      ++answers;
      if (r->status == 404) {
        last_seen = 4;
      } else if (r->status == 200 && r->body == v1) {
        last_seen = 1;
      } else if (r->status == 200 && r->body == v2) {
        last_seen = 2;
      } else if (r->status == 200 && r->body == v3) {
        last_seen = 3;
      } else {
        ++torn;
      }
    }
  });
  EXPECT_TRUE(eventually([&] { return last_seen == 1; }));
  write_file(live, v2);  // in place: the same inode, a new size and mtime
  EXPECT_TRUE(eventually([&] { return last_seen == 2; }, 5s)) << "an edit is seen within valid";
  const fs::path next = site.root() / "live.txt.new";
  write_file(next, v3);
  fs::rename(next, live);  // replaced: another inode under the same name
  EXPECT_TRUE(eventually([&] { return last_seen == 3; }, 5s)) << "a rename is seen within valid";
  fs::remove(live);
  EXPECT_TRUE(eventually([&] { return last_seen == 4; }, 5s)) << "a deletion is seen too";
  stop = true;
  load.join();
  EXPECT_GT(answers.load(), 4);
  EXPECT_EQ(torn.load(), 0) << "every answer is one whole version of the file";
}

// The cache holds at most `entries` files per loop: the descriptors of files evicted, and at
// the server's stop those of every file, are closed.
TEST(StaticFiles, TheCacheKeepsAtMostEntriesDescriptorsAndClosesThemAtStop) {
  Site site;
  for (unsigned i = 0; i < 6; ++i)
    write_file(site.root() / ("f" + std::to_string(i) + ".bin"), harness::pattern(200000, i));
  const auto open_fds = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
  };
  const auto before = open_fds();
  {
    StaticOptions o{.root = site.root()};
    o.cache.entries = 2;
    o.cache.file_bytes = 1024;  // these files are kept as descriptors, not in memory
    StaticServer s(o);
    const auto serving = open_fds();  // the server's own: listener, loops, epoll, ...
    for (unsigned i = 0; i < 6; ++i) {
      const auto r = fetch(s.address(), get("/f" + std::to_string(i) + ".bin"));
      EXPECT_EQ(r.body, harness::pattern(200000, i));
    }
    // The clients' sockets close as the server sees their ends: what stays is the cache's.
    EXPECT_TRUE(eventually([&] { return open_fds() <= serving + 2; }))
        << open_fds() - serving << " descriptors more than before the requests";
  }
  EXPECT_TRUE(eventually([&] { return open_fds() <= before; })) << "closed at stop";
}

TEST(StaticFiles, AMissingRootStopsStartUp) {
  EXPECT_THROW(StaticFiles({.root = "/nonexistent/avant/www"}), std::system_error);
}

}  // namespace
}  // namespace avant::http
