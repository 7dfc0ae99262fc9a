// Chapter 05 — HttpServer with real sockets: keep-alive, pipelining in order with answers given
// late and from other threads, errors that close one connection only, timeouts, streamed answers
// under backpressure, and a stop that lets requests in flight finish.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <avant/http/http_server.hpp>
#include <avant/testing/harness.hpp>

#include <gtest/gtest.h>

#include "api.hpp"
#include "http_client.hpp"

namespace avant::http {
namespace {

using harness::eventually;
using testing::get;
using testing::HttpClient;
using namespace std::chrono_literals;

HttpOptions options(std::size_t workers = 2) {
  HttpOptions o;
  o.server.workers = workers;
  o.server.drain_timeout = 5s;
  return o;
}

// An HttpServer on a loop thread of its own, made and destroyed there.
class Served {
 public:
  Served(const HttpOptions& o, Handler handler) {
    server_ = base_.call([&] {
      auto s = std::make_unique<HttpServer>(base_.loop(), o, std::move(handler));
      s->start();
      return s;
    });
  }
  ~Served() {
    try {
      base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;
  Served(Served&&) = delete;
  Served& operator=(Served&&) = delete;

  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  HttpServer& server() { return *server_; }

 private:
  harness::LoopThread base_;
  std::unique_ptr<HttpServer> server_;
};

void echo(Request& request, Responder responder) {
  Response r = Response::text(200, request.method + " " + request.target + " " + request.body);
  responder.send(std::move(r));
}

// Responders parked by a handler, answered later by the test thread.
struct Parked {
  std::mutex mutex;
  std::vector<std::pair<std::string, Responder>> waiting;  // target, responder

  Handler handler() {
    return [this](Request& request, Responder responder) {
      const std::lock_guard lock(mutex);
      waiting.emplace_back(request.target, std::move(responder));
    };
  }
  std::size_t size() {
    const std::lock_guard lock(mutex);
    return waiting.size();
  }
  std::vector<std::pair<std::string, Responder>> take() {
    const std::lock_guard lock(mutex);
    return std::exchange(waiting, {});
  }
};

TEST(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  Served s(options(), echo);
  HttpClient c(s.address());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/n" + std::to_string(i))));
    const auto r = c.read();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET /n" + std::to_string(i) + " ");
    EXPECT_EQ(r->header("Server").value_or(""), "avant");
    EXPECT_EQ(r->header("Date").value_or("").size(), 29u);
    EXPECT_EQ(r->header("Content-Length").value_or(""), std::to_string(r->body.size()));
    EXPECT_FALSE(r->header("Connection").has_value());
  }
  EXPECT_EQ(s.server().stats().tcp.accepted, 1u);
  EXPECT_EQ(s.server().stats().requests, 5u);
}

TEST(HttpServer, HundredPipelinedRequestsAnsweredLateAndBackwardsArriveInOrder) {
  Parked parked;
  HttpOptions o = options();
  o.max_pipeline = 16;  // read at most 16 requests ahead: the rest wait in the socket
  Served s(o, parked.handler());
  HttpClient c(s.address());
  std::string all;
  for (int i = 0; i < 100; ++i)
    all += get("/" + std::to_string(i));
  ASSERT_TRUE(c.send(all));  // one write

  int answered = 0;
  while (answered < 100) {
    const std::size_t want = std::min<std::size_t>(16, static_cast<std::size_t>(100 - answered));
    ASSERT_TRUE(eventually([&] { return parked.size() >= want; }))
        << "only " << parked.size() << " requests reached the handler after " << answered;
    auto batch = parked.take();
    EXPECT_LE(batch.size(), 16u) << "more requests read ahead than max_pipeline";
    // Answer from this thread (not the loop), last first.
    std::reverse(batch.begin(), batch.end());
    for (auto& [target, responder] : batch) {
      responder.send(Response::text(200, "answer to " + target));
      ++answered;
    }
  }
  for (int i = 0; i < 100; ++i) {
    const auto r = c.read();
    ASSERT_TRUE(r) << "response " << i << ": " << c.error();
    ASSERT_EQ(r->body, "answer to /" + std::to_string(i));
  }
  EXPECT_EQ(s.server().stats().requests, 100u);
}

TEST(HttpServer, APipelineOfLongAndShortHeadsArrivesWhole) {
  // Answered at once, a read's answers are written one behind the other into its batch: heads
  // far longer than the batch's first storage (40 fields of 100 bytes) between short ones make
  // it grow with answers already in it, and every byte must still be where it was written.
  Served s(options(), [](Request& request, Responder responder) {
    const int n = std::stoi(request.target.substr(1));
    Response r = Response::text(200, std::string(static_cast<std::size_t>(n * 7), 'b'));
    if (n % 2 == 1) {
      for (int f = 0; f < 40; ++f)
        r.headers.add("X-Field-" + std::to_string(f),
                      std::string(100, static_cast<char>('a' + (n + f) % 26)));
    }
    responder.send(std::move(r));
  });
  HttpClient c(s.address());
  std::string all;
  for (int i = 0; i < 12; ++i)
    all += get("/" + std::to_string(i));
  ASSERT_TRUE(c.send(all));  // one write: most of them are parsed from one read
  for (int i = 0; i < 12; ++i) {
    const auto r = c.read();
    ASSERT_TRUE(r) << "response " << i << ": " << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::string(static_cast<std::size_t>(i * 7), 'b')) << "response " << i;
    if (i % 2 == 1) {
      for (int f = 0; f < 40; ++f) {
        EXPECT_EQ(r->header("X-Field-" + std::to_string(f)).value_or(""),
                  std::string(100, static_cast<char>('a' + (i + f) % 26)))
            << "response " << i << ", field " << f;
      }
    } else {
      EXPECT_FALSE(r->header("X-Field-0").has_value()) << "response " << i;
    }
  }
  EXPECT_EQ(s.server().stats().requests, 12u);
}

TEST(HttpServer, BadRequestsGetTheirStatusAndCloseWhileOthersKeepServing) {
  HttpOptions o = options();
  o.limits.max_body = 1000;
  o.limits.max_header_bytes = 2000;
  Served s(o, echo);
  HttpClient good(s.address());
  ASSERT_TRUE(good.send(get("/before")));
  ASSERT_TRUE(good.read());

  struct Case {
    std::string bytes;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(3000, 'x') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
      {"GET / HTTP/2.5\r\nHost: h\r\n\r\n", 505},
  };
  for (const auto& bad : cases) {
    HttpClient c(s.address());
    ASSERT_TRUE(c.send(bad.bytes));
    const auto r = c.read();
    ASSERT_TRUE(r) << bad.bytes << c.error();
    EXPECT_EQ(r->status, bad.status) << bad.bytes;
    EXPECT_EQ(r->header("Connection").value_or(""), "close");
    EXPECT_TRUE(c.closed()) << "the connection closes after the error";
  }
  // A bad request after good ones in the same pipeline: the good ones are answered first.
  HttpClient mixed(s.address());
  ASSERT_TRUE(mixed.send(get("/ok1") + get("/ok2") + "GET / HTTP/1.1\r\n\r\n" + get("/never")));
  EXPECT_EQ(mixed.read()->body, "GET /ok1 ");
  EXPECT_EQ(mixed.read()->body, "GET /ok2 ");
  EXPECT_EQ(mixed.read()->status, 400);
  EXPECT_TRUE(mixed.closed());

  ASSERT_TRUE(good.send(get("/after")));
  const auto r = good.read();
  ASSERT_TRUE(r) << good.error();
  EXPECT_EQ(r->body, "GET /after ");
  EXPECT_EQ(s.server().stats().bad_requests, cases.size() + 1);
}

TEST(HttpServer, AStalledHeadGets408AndAnIdleConnectionIsClosed) {
  HttpOptions o = options(0);
  o.header_timeout = 300ms;
  o.keep_alive_timeout = 300ms;
  Served s(o, echo);
  HttpClient slow(s.address());
  ASSERT_TRUE(slow.send("GET /slow HTTP/1.1\r\nHo"));  // and nothing more
  const auto r = slow.read();
  ASSERT_TRUE(r) << slow.error();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(slow.closed());
  EXPECT_EQ(s.server().stats().timeouts, 1u);

  HttpClient idle(s.address());
  ASSERT_TRUE(idle.send(get("/once")));
  ASSERT_TRUE(idle.read());
  EXPECT_TRUE(idle.closed()) << "keep-alive timeout";
  EXPECT_TRUE(idle.unread().empty()) << "an idle connection is closed without a response";

  HttpClient silent(s.address());
  EXPECT_TRUE(silent.closed()) << "a connection that never sends a request";
}

TEST(HttpServer, TheLastAllowedRequestSaysConnectionClose) {
  HttpOptions o = options();
  o.max_requests_per_connection = 3;
  Served s(o, echo);
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/1") + get("/2") + get("/3") + get("/4")));
  EXPECT_FALSE(c.read()->header("Connection").has_value());
  EXPECT_FALSE(c.read()->header("Connection").has_value());
  const auto third = c.read();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->header("Connection").value_or(""), "close");
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(c.unread().empty()) << "the fourth request is not answered";
}

// Between requests an idle connection rests (its Session gives way to a small Rest; rest_after
// 0: at once): the count of requests goes on across rests, and a request whose head comes in
// pieces wakes it.
TEST(HttpServer, ARestingConnectionKeepsItsRequestCountAndWakesOnAPartialHead) {
  HttpOptions o = options();
  o.max_requests_per_connection = 3;
  o.rest_after = 0ms;
  Served s(o, echo);
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/1")));
  const auto first = c.read();
  ASSERT_TRUE(first) << c.error();
  EXPECT_FALSE(first->header("Connection").has_value());
  ASSERT_TRUE(eventually([&] { return s.server().stats().rests == 1; }))
      << "the connection rests once its answer is out";
  const std::string second = get("/2");
  ASSERT_TRUE(c.send(second.substr(0, 7)));  // "GET /2 ": the rest comes later
  ASSERT_TRUE(eventually([&] { return s.server().stats().tcp.accepted == 1; }));
  ASSERT_TRUE(c.send(second.substr(7)));
  const auto answer = c.read();
  ASSERT_TRUE(answer) << c.error();
  EXPECT_EQ(answer->body, "GET /2 ");
  ASSERT_TRUE(c.send(get("/3")));
  const auto third = c.read();
  ASSERT_TRUE(third) << c.error();
  EXPECT_EQ(third->header("Connection").value_or(""), "close")
      << "the third request on the connection is the last, whatever rests came between";
  EXPECT_TRUE(c.closed());
}

// After its first answer a connection rests at once; one that came back for more keeps its
// Session while it is busy (no new one per request) and rests after rest_after of idleness.
TEST(HttpServer, AConnectionThatCameBackRestsOnlyAfterRestAfterOfIdleness) {
  HttpOptions o = options(1);
  o.rest_after = 24h;  // longer than any test: a connection that came back never rests
  {
    Served s(o, echo);
    HttpClient c(s.address());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(c.send(get("/" + std::to_string(i))));
      const auto answer = c.read();
      ASSERT_TRUE(answer) << c.error();
      EXPECT_EQ(answer->status, 200);
      if (i == 0) {
        ASSERT_TRUE(eventually([&] { return s.server().stats().rests == 1; }))
            << "the first answer is out: the connection rests at once";
      }
    }
    EXPECT_EQ(s.server().stats().requests, 5u);
    EXPECT_EQ(s.server().stats().rests, 1u) << "a busy connection kept its Session";
  }
  o.rest_after = 50ms;
  Served s(o, echo);
  HttpClient c(s.address());
  for (const char* path : {"/a", "/b"}) {
    ASSERT_TRUE(c.send(get(path)));
    ASSERT_TRUE(c.read()) << c.error();
  }
  ASSERT_TRUE(eventually([&] { return s.server().stats().rests == 2; }))
      << "idle for rest_after after its second answer, the connection rests again";
  ASSERT_TRUE(c.send(get("/c")));
  const auto after = c.read();
  ASSERT_TRUE(after) << c.error();
  EXPECT_EQ(after->body, "GET /c ");
  ASSERT_TRUE(eventually([&] { return s.server().stats().rests == 3; }));
}

TEST(HttpServer, HeadAnswersCarryNoBodyAndHttp10GetsItsKeepAlive) {
  Served s(options(), [](Request& request, Responder responder) {
    responder.send(Response::text(200, "hello " + request.method));
  });
  HttpClient c(s.address());
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"));
  const auto head = c.read(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length").value_or(""), "10") << "the length a GET would have";
  ASSERT_TRUE(c.send(get("/")));
  const auto after = c.read();
  ASSERT_TRUE(after) << c.error();
  EXPECT_EQ(after->body, "hello GET") << "no body bytes were left over from the HEAD answer";

  HttpClient old(s.address());
  ASSERT_TRUE(old.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto ka = old.read();
  ASSERT_TRUE(ka);
  EXPECT_EQ(ka->header("Connection").value_or(""), "keep-alive");
  ASSERT_TRUE(old.send("GET / HTTP/1.0\r\n\r\n"));
  const auto last = old.read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header("Connection").value_or(""), "close");
  EXPECT_TRUE(old.closed());
}

// The first lines of a common head (status, Server, Date, Content-Type) are kept from answer to
// answer on a connection (Session::head_start): they change with the status, the type and the
// second, and the Date stays the wall clock's.
TEST(HttpServer, TheCommonHeadFollowsTheStatusTheTypeAndTheClock) {
  HttpOptions o = options(1);
  o.max_requests_per_connection = 1'000'000;  // asked until the second turns
  Served s(o, [](Request& request, Responder responder) {
    if (request.target == "/missing") {
      responder.send(Response::text(404, "no\n", "application/json"));
    } else if (request.target == "/html") {
      responder.send(Response::text(200, "<p>", "text/html; charset=utf-8"));
    } else {
      responder.send(Response::text(200, "ok", "text/plain"));
    }
  });
  HttpClient c(s.address());
  const auto check = [&](const std::string& target, int status, const std::string& type,
                         const std::string& body) -> std::string {
    EXPECT_TRUE(c.send(get(target)));
    const auto r = c.read();
    if (!r) {
      ADD_FAILURE() << target << ": " << c.error();
      return {};
    }
    EXPECT_EQ(r->status, status) << target;
    EXPECT_EQ(r->count("Content-Type"), 1u) << r->head;
    EXPECT_EQ(r->header("Content-Type").value_or(""), type) << target;
    EXPECT_EQ(r->header("Server").value_or(""), "avant");
    EXPECT_EQ(r->count("Date"), 1u) << r->head;
    EXPECT_EQ(r->body, body);
    std::string date(r->header("Date").value_or(""));
    const long long at = parse_http_date(date);
    const auto now = static_cast<long long>(std::time(nullptr));
    EXPECT_TRUE(at >= now - 2 && at <= now) << "Date: " << date << ", now " << now;
    return date;
  };
  for (int round = 0; round < 2; ++round) {
    check("/plain", 200, "text/plain", "ok");
    check("/missing", 404, "application/json", "no\n");
    check("/html", 200, "text/html; charset=utf-8", "<p>");
    check("/plain", 200, "text/plain", "ok");
  }
  // The Date moves on with the second, on the same connection.
  const std::string first = check("/plain", 200, "text/plain", "ok");
  EXPECT_TRUE(eventually([&] { return check("/plain", 200, "text/plain", "ok") != first; }, 3s))
      << "the Date stayed " << first;
}

TEST(HttpServer, AnAnswersContentTypeIsOneFieldWhetherPrebuiltOrTheHandlers) {
  // Response::text() sends a common type as a prebuilt line and any other as a field; a type the
  // handler sets itself replaces the prebuilt one, in any spelling of the name.
  Served s(options(), [](Request& request, Responder responder) {
    if (request.target == "/custom") {
      responder.send(Response::text(200, "{}", "application/vnd.avant+json"));
    } else if (request.target == "/replaced") {
      Response r = Response::text(200, "{}");
      r.headers.set("content-type", "application/problem+json");
      responder.send(std::move(r));
    } else {
      responder.send(Response::text(200, "plain",
                                    request.target == "/json" ? "application/json" : "text/plain"));
    }
  });
  HttpClient c(s.address());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/plain", "text/plain"},
      {"/json", "application/json"},
      {"/custom", "application/vnd.avant+json"},
      {"/replaced", "application/problem+json"},
  };
  for (const auto& [target, type] : cases) {
    ASSERT_TRUE(c.send(get(target)));
    const auto r = c.read();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->count("Content-Type"), 1u) << target << ":\n" << r->head;
    EXPECT_EQ(r->header("Content-Type").value_or(""), type) << target;
  }
  EXPECT_EQ(Response::text(200, "x").content_type_line(),
            "Content-Type: text/plain; charset=utf-8\r\n");
  EXPECT_TRUE(Response::text(200, "x", "text/csv").content_type_line().empty());
  EXPECT_EQ(Response::text(200, "x", "text/csv").headers.get("Content-Type"), "text/csv");
}

TEST(HttpServer, ASlowClientPausesAStreamingProducer) {
  constexpr std::size_t kPiece = std::size_t{64} * 1024;
  constexpr std::size_t kTotal = 16u << 20;  // 16 MiB, far over the high-water mark
  std::atomic<std::size_t> produced{0};
  std::atomic<int> pauses{0};
  HttpOptions o = options();
  o.server.tcp.connection.high_water_mark = std::size_t{256} * 1024;
  // Produces on the loop thread until backpressure, resumes when the output drains. The
  // callback holds the producer, which holds the Responder: the server drops the callback when
  // the answer ends or the connection goes, which ends that cycle.
  struct Producer : std::enable_shared_from_this<Producer> {
    Responder r;
    std::atomic<std::size_t>* produced = nullptr;
    std::atomic<int>* pauses = nullptr;
    void run() {
      while (*produced < kTotal) {
        const std::string piece =
            harness::pattern(kPiece, static_cast<unsigned>(produced->load() / kPiece));
        *produced += kPiece;
        const tcp::SendStatus st = r.write(piece);
        if (st == tcp::SendStatus::dropped) return;
        if (st == tcp::SendStatus::backpressure) {
          ++*pauses;
          r.on_writable([self = shared_from_this()] { self->run(); });
          return;
        }
      }
      r.finish();
    }
  };
  Served s(o, [&](Request&, Responder responder) {
    auto producer = std::make_shared<Producer>();
    producer->r = std::move(responder);
    producer->produced = &produced;
    producer->pauses = &pauses;
    Response head;
    head.headers.add("Content-Type", "application/octet-stream");
    producer->r.start(std::move(head));
    producer->run();
  });
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/big")));
  // The client reads nothing yet: the producer must stop well short of the total.
  ASSERT_TRUE(eventually([&] { return pauses.load() > 0; }));
  EXPECT_LT(produced.load(), kTotal / 2) << "the producer did not stop for a client not reading";
  const auto r = c.read();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->header("Transfer-Encoding").value_or(""), "chunked");
  ASSERT_EQ(r->body.size(), kTotal);
  for (std::size_t i = 0; i < kTotal; i += kPiece) {
    ASSERT_EQ(
        r->body.compare(i, kPiece, harness::pattern(kPiece, static_cast<unsigned>(i / kPiece))), 0)
        << "piece " << i / kPiece;
  }
  // (Once the client reads, the kernel may take the rest without another pause: one is enough.)
}

TEST(HttpServer, AnswersStreamedFromAnotherThread) {
  std::vector<std::thread> producers;
  std::mutex mutex;
  Served s(options(), [&](Request& request, Responder responder) {
    const std::lock_guard lock(mutex);
    producers.emplace_back(
        [r = std::move(responder), fixed = request.target == "/fixed"]() mutable {
          Response head;
          if (fixed) head.headers.add("Content-Length", "3000");
          r.start(std::move(head));
          for (int i = 0; i < 30; ++i)
            (void)r.write(std::string(100, static_cast<char>('a' + i % 26)));
          r.finish();
        });
  });
  HttpClient chunked(s.address());
  ASSERT_TRUE(chunked.send(get("/chunked")));
  const auto a = chunked.read();
  ASSERT_TRUE(a) << chunked.error();
  EXPECT_EQ(a->body.size(), 3000u);
  EXPECT_EQ(a->header("Transfer-Encoding").value_or(""), "chunked");
  HttpClient fixed(s.address());
  ASSERT_TRUE(fixed.send(get("/fixed")));
  const auto b = fixed.read();
  ASSERT_TRUE(b) << fixed.error();
  EXPECT_EQ(b->header("Content-Length").value_or(""), "3000");
  EXPECT_EQ(b->body, a->body);
  HttpClient old(s.address());  // HTTP/1.0: no chunks, the close ends the body
  ASSERT_TRUE(old.send("GET /old HTTP/1.0\r\n\r\n"));
  const auto c = old.read();
  ASSERT_TRUE(c) << old.error();
  EXPECT_EQ(c->body, a->body);
  EXPECT_FALSE(c->header("Transfer-Encoding").has_value());
  const std::lock_guard lock(mutex);
  for (auto& t : producers)
    t.join();
}

TEST(HttpServer, AHandlerThatThrowsOrForgetsToAnswerGets500) {
  Served s(options(), [](Request& request, Responder responder) {
    if (request.target == "/throw") throw std::runtime_error("handler bug");
    if (request.target == "/forget") return;  // the Responder is dropped unanswered
    responder.send(Response::text(200, "fine"));
  });
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/throw") + get("/forget") + get("/fine")));
  EXPECT_EQ(c.read()->status, 500);
  EXPECT_EQ(c.read()->status, 500);
  const auto ok = c.read();
  ASSERT_TRUE(ok) << c.error();
  EXPECT_EQ(ok->body, "fine") << "the connection survives a handler's mistake";
}

TEST(HttpServer, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  Served s(options(), echo);
  HttpClient c(s.address());
  ASSERT_TRUE(
      c.send("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
             "Content-Length: 5\r\n\r\n"));
  const auto interim = c.read();
  ASSERT_TRUE(interim) << c.error();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello"));
  const auto final_answer = c.read();
  ASSERT_TRUE(final_answer) << c.error();
  EXPECT_EQ(final_answer->status, 200);
  EXPECT_EQ(final_answer->body, "PUT /up hello");
}

TEST(HttpServer, AnUpgradeRequestIsAnsweredAsPlainHttp) {
  Served s(options(), echo);
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + get("/next")));
  EXPECT_EQ(c.read()->body, "GET /ws ");
  const auto next = c.read();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->body, "GET /next ");
}

// A protocol after an upgrade: echoes every byte in upper case.
class Shouting final : public tcp::Protocol {
 public:
  void on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) override {
    std::string out(input.view());
    input.retrieve_all();
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    (void)connection->send(std::move(out));
  }
};

// Takes every Upgrade request to Shouting; answers the rest as echo() does.
void upgrade_or_echo(Request& request, Responder responder) {
  if (!request.upgrade) {
    echo(request, std::move(responder));
    return;
  }
  Response head;
  head.headers.add("Upgrade", "shout");
  responder.upgrade(std::move(head), std::make_shared<Shouting>());
}

TEST(HttpServer, AnAcceptedUpgradeHandsOverTheConnectionWithTheBytesAfterTheRequest) {
  Served s(options(), upgrade_or_echo);
  HttpClient c(s.address());
  // A request before it, the upgrade, and bytes of the next protocol, all in one write.
  ASSERT_TRUE(
      c.send(get("/first") + get("/up", "Connection: Upgrade\r\nUpgrade: shout\r\n") + "hello"));
  const auto first = c.read();
  ASSERT_TRUE(first) << c.error();
  EXPECT_EQ(first->body, "GET /first ");
  const auto switched = c.read();
  ASSERT_TRUE(switched) << c.error();
  EXPECT_EQ(switched->status, 101);
  EXPECT_EQ(switched->reason, "Switching Protocols");
  EXPECT_EQ(switched->header("Upgrade").value_or(""), "shout");
  EXPECT_EQ(switched->header("Connection").value_or(""), "Upgrade");
  EXPECT_FALSE(switched->header("Content-Length").has_value());
  EXPECT_EQ(c.bytes(5), "HELLO") << "the bytes after the request reached the new protocol";
  // What looks like HTTP is the new protocol's now.
  ASSERT_TRUE(c.send("get / http/1.1"));
  EXPECT_EQ(c.bytes(14), "GET / HTTP/1.1");
  EXPECT_EQ(s.server().stats().requests, 2u);
}

TEST(HttpServer, AnUpgradeAcceptedLaterFromAnotherThreadWaitsForTheAnswersBeforeIt) {
  Parked parked;
  Served s(options(), parked.handler());
  HttpClient c(s.address());
  ASSERT_TRUE(
      c.send(get("/first") + get("/up", "Connection: Upgrade\r\nUpgrade: shout\r\n") + "abc"));
  ASSERT_TRUE(harness::eventually([&] { return parked.size() == 2; }));
  auto waiting = parked.take();
  // The upgrade is accepted first; its 101 and the switch wait for the answer before it.
  Response head;
  head.headers.add("Upgrade", "shout");
  waiting[1].second.upgrade(std::move(head), std::make_shared<Shouting>());
  waiting[0].second.send(Response::text(200, "first"));
  const auto first = c.read();
  ASSERT_TRUE(first) << c.error();
  EXPECT_EQ(first->body, "first");
  const auto switched = c.read();
  ASSERT_TRUE(switched) << c.error();
  EXPECT_EQ(switched->status, 101);
  EXPECT_EQ(c.bytes(3), "ABC");
}

TEST(HttpServer, UpgradingARequestThatDidNotAskAnswers500AndHttpGoesOn) {
  Served s(options(), [](Request& request, Responder responder) {
    if (request.target == "/plain") {
      responder.upgrade(Response{}, std::make_shared<Shouting>());
    } else {
      echo(request, std::move(responder));
    }
  });
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/plain") + get("/next")));
  const auto refused = c.read();
  ASSERT_TRUE(refused) << c.error();
  EXPECT_EQ(refused->status, 500);
  const auto next = c.read();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->body, "GET /next ");
}

TEST(HttpServer, AnUpgradeOnTheLastRequestOfAConnectionIsRefusedWith503) {
  Served s(options(), upgrade_or_echo);
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/up", "Connection: Upgrade, close\r\nUpgrade: shout\r\n") + "hello"));
  const auto refused = c.read();
  ASSERT_TRUE(refused) << c.error();
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("Connection").value_or(""), "close");
  EXPECT_TRUE(c.closed());
}

TEST(HttpServer, AnAnswerWithoutProgressMeetsTheSendTimeout) {
  Parked parked;
  HttpOptions o = options();
  o.send_timeout = 300ms;
  Served s(o, parked.handler());
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/never-answered")));
  ASSERT_TRUE(harness::eventually([&] { return parked.size() == 1; }));
  EXPECT_TRUE(c.closed()) << "a handler that never answers does not hold the connection forever";
  EXPECT_TRUE(c.unread().empty());
  parked.take()[0].second.send(Response::text(200, "too late"));  // harmless now
}

TEST(HttpServer, AHeadTimeoutBehindAnUnansweredRequestStillEnds) {
  Parked parked;
  HttpOptions o = options();
  o.header_timeout = 200ms;
  o.send_timeout = 400ms;
  Served s(o, parked.handler());
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/parked") + "GET /partial HT"));
  ASSERT_TRUE(harness::eventually([&] { return parked.size() == 1; }));
  // The 408 waits behind an answer that never comes; the send timeout still ends it all.
  EXPECT_TRUE(c.closed());
  parked.take()[0].second.send(Response::text(200, "too late"));
}

TEST(HttpServer, AnAnswerOverMaxOutputClosesTheConnection) {
  HttpOptions o = options();
  o.server.tcp.connection.high_water_mark = std::size_t{16} * 1024;
  o.server.tcp.connection.max_output = std::size_t{64} * 1024;
  Served s(o, [](Request&, Responder responder) {
    responder.send(Response::text(200, std::string(1 << 20, 'x')));
  });
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/huge") + get("/next")));
  std::string got;
  EXPECT_TRUE(c.raw().receive_until_closed(&got));
  EXPECT_LT(got.size(), std::size_t{1} << 20) << "not a whole answer, and no next one after it";
}

TEST(HttpServer, AConnectionCloseAnswerEndsThePipelineAndLaterAnswersAreDropped) {
  Parked parked;
  Served s(options(), parked.handler());
  HttpClient c(s.address());
  ASSERT_TRUE(c.send(get("/1") + get("/2")));
  ASSERT_TRUE(harness::eventually([&] { return parked.size() == 2; }));
  auto both = parked.take();
  Response closing = Response::text(200, "first and last");
  closing.headers.add("Connection", "close");
  both[0].second.send(std::move(closing));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "first and last");
  EXPECT_EQ(r->header("Connection").value_or(""), "close");
  both[1].second.send(Response::text(200, "second"));  // after the end: dropped, no crash
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(c.unread().empty());
}

TEST(HttpServer, AbsoluteFormTargetsHaveTheirPath) {
  Served s(options(), [](Request& request, Responder responder) {
    responder.send(
        Response::text(200, std::string(request.path()) + "|" + std::string(request.query())));
  });
  HttpClient c(s.address());
  ASSERT_TRUE(
      c.send(get("http://example.org:8080/a/b?x=1") + get("http://example.org") + get("/plain?y")));
  EXPECT_EQ(c.read()->body, "/a/b|x=1");
  EXPECT_EQ(c.read()->body, "/|");
  EXPECT_EQ(c.read()->body, "/plain|y");
}

TEST(HttpServer, StopLetsRequestsInFlightFinish) {
  Parked parked;
  Served s(options(), parked.handler());
  HttpClient idle(s.address());
  ASSERT_TRUE(idle.send(get("/quick")));
  ASSERT_TRUE(eventually([&] { return parked.size() == 1; }));
  parked.take()[0].second.send(Response::text(200, "quick"));
  ASSERT_TRUE(idle.read());
  HttpClient busy(s.address());
  ASSERT_TRUE(busy.send(get("/slow")));
  ASSERT_TRUE(eventually([&] { return parked.size() == 1; }));

  std::atomic<bool> stopped{false};
  s.server().stop([&] { stopped = true; });
  EXPECT_TRUE(idle.closed()) << "an idle keep-alive connection is closed at once";
  EXPECT_FALSE(stopped.load());
  parked.take()[0].second.send(Response::text(200, "slow but complete"));
  const auto r = busy.read();
  ASSERT_TRUE(r) << busy.error();
  EXPECT_EQ(r->body, "slow but complete");
  EXPECT_EQ(r->header("Connection").value_or(""), "close");
  EXPECT_TRUE(busy.closed());
  EXPECT_TRUE(eventually([&] { return stopped.load(); }));
}

}  // namespace
}  // namespace avant::http
