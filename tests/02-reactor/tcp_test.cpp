// Integration tests of TcpServer and TcpConnection over loopback, with real sockets as clients:
// echo of every size, many clients, half-close, reset, backpressure and each overflow policy,
// idle timeout, max connections, and sends from another thread.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <avant/testing/harness.hpp>
#include <avant/testing/steps.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::tcp {
namespace {

using namespace std::chrono_literals;
using harness::Client;
using harness::kDeadline;
using harness::LoopThread;
using harness::pattern;

// What the loop thread saw, for the test thread to wait on.
struct Events {
  std::mutex mutex;
  std::condition_variable changed;
  int up = 0;
  int down = 0;
  int high_water = 0;
  int write_complete = 0;
  TcpConnectionPtr last;  // the last connection that came up

  template <class Predicate>
  bool wait(Predicate done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kDeadline, [&] { return done(*this); });
  }
  template <class F>
  void update(F f) {
    {
      const std::lock_guard lock(mutex);
      f(*this);
    }
    changed.notify_all();
  }
};

void echo(const TcpConnectionPtr& c, net::Buffer& in) {
  static_cast<void>(c->send(in.view()));
  in.retrieve_all();
}

// A TcpServer on its own loop thread, with the test's callbacks and the Events it records.
class Server {
 public:
  explicit Server(TcpServerOptions options = {}, MessageCallback on_message = echo) {
    server_ = lt_.call([&] {
      auto s = std::make_unique<TcpServer>(lt_.loop(), options);
      s->on_connection([this](const TcpConnectionPtr& c) {
        events.update([&](Events& e) {
          if (c->connected()) {
            ++e.up;
            e.last = c;
          } else {
            ++e.down;
          }
        });
      });
      s->on_high_water([this](const TcpConnectionPtr&, std::size_t) {
        events.update([](Events& e) { ++e.high_water; });
      });
      s->on_write_complete([this](const TcpConnectionPtr&) {
        events.update([](Events& e) { ++e.write_complete; });
      });
      s->on_message(std::move(on_message));
      s->start();
      return s;
    });
  }
  ~Server() {
    try {
      lt_.call([this] { server_.reset(); });
      // Then, after the tasks the destruction queued have run: nothing of the server is left in
      // the loop, only the loop's own wake-up and timer channels.
      lt_.call([this] {
        EXPECT_EQ(lt_.loop().channel_count(), 2U);
        EXPECT_EQ(lt_.loop().timer_count(), 0U);
      });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "tearing the server down: " << e.what();
    }
    const std::lock_guard lock(events.mutex);
    events.last.reset();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  TcpServer& get() { return *server_; }
  LoopThread& loop_thread() { return lt_; }
  TcpConnectionPtr last() {
    const std::lock_guard lock(events.mutex);
    return events.last;
  }

  Events events;

 private:
  LoopThread lt_;
  std::unique_ptr<TcpServer> server_;
};

TEST(TcpServer, EchoesEverySizeFromOneByteTo16MiB) {
  Server server;
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{2}, std::size_t{1000}, std::size_t{64} << 10,
        std::size_t{1} << 20, std::size_t{16} << 20}) {
    Client client(server.address());
    const std::string data = pattern(size, static_cast<unsigned>(size));
    const std::string echoed = client.exchange(data);
    ASSERT_EQ(echoed.size(), size) << "echo of " << size << " bytes";
    EXPECT_TRUE(echoed == data) << "echo of " << size << " bytes differs";
  }
}

TEST(TcpServer, AReadThatFillsItsRoomIsFollowedByAnotherWithoutNewBytes) {
  // A connection is edge-triggered: epoll reports bytes once, when they arrive. With max_input
  // 1000 a read takes 1000 bytes at most, and the 20,000 sent in one write are in the socket
  // before the second read: nothing new arrives to report them, so the connection must come
  // back for them itself (TcpConnection::on_readable).
  TcpServerOptions options;
  options.connection.max_input = 1000;
  Server server(options);
  Client client(server.address());
  const std::string data = pattern(20000, 7);
  const std::string echoed = client.exchange(data);
  ASSERT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data);
}

TEST(TcpServer, BytesBehindAnUrgentMarkAreReadWithoutNewBytes) {
  // A read stops at the urgent mark (a byte sent with MSG_OOB): "abc" X "def" is read as "abc",
  // then, by a second read, "def" (X is out of band). With the loop held until all of it has
  // arrived, one edge reports the lot, and nothing new comes to report "def": the connection
  // must come back for it itself because the event said EPOLLPRI (TcpConnection::on_readable).
  Server server;
  Client client(server.address());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 1; }));
  auto held = std::make_shared<std::promise<void>>();
  auto release = std::make_shared<std::promise<void>>();
  server.loop_thread().loop().queue_in_loop([held, waiting = release->get_future().share()] {
    held->set_value();
    static_cast<void>(waiting.wait_for(kDeadline));
  });
  ASSERT_EQ(held->get_future().wait_for(kDeadline), std::future_status::ready);
  const int fd = client.fd();
  ASSERT_TRUE(client.send_all("abc"));
  ASSERT_EQ(::send(fd, "X", 1, MSG_OOB), 1);
  ASSERT_TRUE(client.send_all("def"));
  // Every byte acknowledged by the server's kernel: all of it is in the server's socket.
  EXPECT_TRUE(harness::eventually([fd] {
    int unacknowledged = -1;
    return ::ioctl(fd, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0;
  }));
  release->set_value();
  EXPECT_EQ(client.receive(6), "abcdef");
}

TEST(TcpServer, ServesTwoHundredClientsAtOnce) {
  Server server;
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i)
    clients.push_back(std::make_unique<Client>(server.address()));
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == kClients; }));
  EXPECT_EQ(server.get().connection_count(), static_cast<std::size_t>(kClients));
  for (int round = 0; round < 3; ++round) {
    // Everybody sends before anybody reads: the server has 200 requests in flight at once.
    for (int i = 0; i < kClients; ++i) {
      const std::string message =
          "client " + std::to_string(i) + " round " + std::to_string(round) + ";";
      ASSERT_TRUE(clients[static_cast<std::size_t>(i)]->send_all(message));
    }
    for (int i = 0; i < kClients; ++i) {
      const std::string message =
          "client " + std::to_string(i) + " round " + std::to_string(round) + ";";
      ASSERT_EQ(clients[static_cast<std::size_t>(i)]->receive(message.size()), message);
    }
  }
  clients.clear();
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == kClients; }));
  EXPECT_EQ(server.loop_thread().call([&] { return server.get().connection_count(); }), 0U);
}

TEST(TcpServer, PeerHalfCloseStillGetsItsEchoThenEndOfStream) {
  avant::testing::Steps steps;
  Server server;
  Client client(server.address());
  steps.add("client sends 'half' and shuts down its sending side");
  ASSERT_TRUE(client.send_all("half"));
  ASSERT_TRUE(client.socket().shutdown_write().ok());
  steps.expect_eq("echo after the half-close", std::string("half"), client.receive(4));
  steps.expect_eq("then the server closes too", true, client.receive_until_closed());
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == 1; }));
}

TEST(TcpServer, PeerResetIsCleanedUp) {
  Server server;
  Client client(server.address());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 1; }));
  client.reset();  // SO_LINGER 0: RST instead of FIN
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == 1; }));
  // Read on the loop, after the close callbacks that ran with the "down" event have finished.
  EXPECT_EQ(server.loop_thread().call([&] { return server.get().connection_count(); }), 0U);
}

// An amplifier: each 'x' received is answered by 1 MiB, each 'y' by "Y".
void amplify(const TcpConnectionPtr& c, net::Buffer& in) {
  static const std::string mebibyte = pattern(1 << 20);
  for (const char ch : in.view()) {
    if (ch == 'x') static_cast<void>(c->send(mebibyte));
    if (ch == 'y') static_cast<void>(c->send(std::string_view("Y")));
  }
  in.retrieve_all();
}

TEST(TcpServer, SlowReaderPausesReadingAtTheHighWaterMark) {
  avant::testing::Steps steps;
  Server server(TcpServerOptions{.connection = {.high_water_mark = 256 << 10,
                                                .max_output = 32 << 20,
                                                .overflow = OverflowPolicy::pause_reading}},
                amplify);
  Client client(server.address());
  steps.add("ask for 8 MiB and read nothing: the socket buffers fill, the output queue grows");
  ASSERT_TRUE(client.send_all("xxxxxxxx"));
  steps.expect_eq("high-water callback", true,
                  server.events.wait([](const Events& e) { return e.high_water >= 1; }));
  const TcpConnectionPtr conn = server.last();
  ASSERT_TRUE(conn);
  steps.expect_eq("reading paused (pause_reading policy)", false,
                  server.loop_thread().call([&] { return conn->is_reading(); }));
  steps.add("send 'y' while paused, then read everything");
  ASSERT_TRUE(client.send_all("y"));
  const std::string bulk = client.receive(8u << 20);
  steps.expect_eq("bytes of the 8 MiB received", std::size_t{8} << 20, bulk.size());
  steps.expect_eq("the 'y' was read after the output drained", std::string("Y"), client.receive(1));
  EXPECT_TRUE(server.loop_thread().call([&] { return conn->is_reading(); }));
}

// Sends 512 KiB chunks until the connection refuses one; publishes what happened.
struct Flood {
  std::vector<SendStatus> statuses;
  std::size_t accepted = 0;
};

TEST(TcpServer, DropPolicyRefusesSendsPastMaxOutputAndKeepsTheConnection) {
  Flood flood;
  std::promise<void> flooded;
  Server server(TcpServerOptions{.connection = {.high_water_mark = 256 << 10,
                                                .max_output = 2 << 20,
                                                .overflow = OverflowPolicy::drop}},
                [&](const TcpConnectionPtr& c, net::Buffer& in) {
                  if (in.view().find('g') != std::string_view::npos) {
                    const std::string chunk = pattern(512 << 10);
                    for (int i = 0; i < 100; ++i) {
                      const SendStatus s = c->send(chunk);
                      flood.statuses.push_back(s);
                      if (s == SendStatus::dropped) break;
                      flood.accepted += chunk.size();
                    }
                    flooded.set_value();
                  }
                  if (in.view().find('p') != std::string_view::npos) {
                    static_cast<void>(c->send(std::string_view("P")));
                  }
                  in.retrieve_all();
                });
  Client client(server.address());
  ASSERT_TRUE(client.send_all("g"));
  ASSERT_EQ(flooded.get_future().wait_for(kDeadline), std::future_status::ready);
  ASSERT_FALSE(flood.statuses.empty());
  EXPECT_EQ(flood.statuses.back(), SendStatus::dropped) << "the flood must hit max_output";
  EXPECT_NE(std::find(flood.statuses.begin(), flood.statuses.end(), SendStatus::backpressure),
            flood.statuses.end())
      << "sends above the high-water mark answer backpressure before anything is dropped";
  const std::string got = client.receive(flood.accepted);
  EXPECT_EQ(got.size(), flood.accepted) << "every accepted byte arrives, no dropped byte does";
  ASSERT_TRUE(client.send_all("p"));
  EXPECT_EQ(client.receive(1), "P") << "the connection is still open and serving";
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == 0; }));
}

TEST(TcpServer, ClosePolicyDisconnectsAPeerThatDoesNotRead) {
  std::promise<void> flooded;
  Server server(TcpServerOptions{.connection = {.high_water_mark = 256 << 10,
                                                .max_output = 2 << 20,
                                                .overflow = OverflowPolicy::close}},
                [&](const TcpConnectionPtr& c, net::Buffer& in) {
                  const std::string chunk = pattern(512 << 10);
                  for (int i = 0; i < 100 && c->send(chunk) != SendStatus::dropped; ++i) {
                  }
                  in.retrieve_all();
                  flooded.set_value();
                });
  Client client(server.address());
  ASSERT_TRUE(client.send_all("g"));
  ASSERT_EQ(flooded.get_future().wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == 1; }))
      << "a send past max_output closes the connection";
  EXPECT_TRUE(client.receive_until_closed());
}

TEST(TcpServer, IdleTimeoutClosesTheIdleConnectionButNotTheActiveOne) {
  avant::testing::Steps steps;
  // Long enough that a stalled (loaded, sanitized) machine cannot make the active client look idle.
  Server server(TcpServerOptions{.idle_timeout = 1000ms});
  Client idle(server.address());
  Client active(server.address());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 2; }));
  steps.add("the active client ping-pongs until the server closes somebody");
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  for (;;) {
    {
      const std::lock_guard lock(server.events.mutex);
      if (server.events.down > 0) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "nobody was closed for idleness";
    ASSERT_EQ(active.exchange("ping"), "ping") << "after " << pings << " pings";
    ++pings;
  }
  steps.expect_eq("the idle client sees the close", true, idle.receive_until_closed());
  steps.expect_eq("the active client still echoes", std::string("still here"),
                  active.exchange("still here"));
  steps.expect_eq("idle_closed", std::uint64_t{1}, server.get().stats().idle_closed);
}

// A connection filter with nothing to negotiate: every byte XOR 0x20, both ways. (TLS, chapter 04,
// is the real one; this one shows the plumbing with no handshake.)
class XorFilter final : public ConnectionFilter {
 public:
  Status receive(std::string_view wire, net::Buffer& app) override {
    std::string plain(wire);
    for (char& c : plain)
      c = static_cast<char>(c ^ 0x20);
    return app.append(plain) ? Status::ok : Status::error;
  }
  Status send(std::string_view app) override {
    for (const char c : app)
      out_.push_back(static_cast<char>(c ^ 0x20));
    return Status::ok;
  }
  void close() override {}
  std::size_t take_output(std::string& wire) override {
    wire += out_;
    const std::size_t n = out_.size();
    out_.clear();
    return n;
  }
  [[nodiscard]] bool ready() const override { return true; }
  [[nodiscard]] std::string error() const override { return {}; }

 private:
  std::string out_;
};

TEST(TcpServer, AFilterSeesEveryByteBothWaysAndOneWithoutHandshakeIsUpAtOnce) {
  testing::Steps steps;
  TcpServerOptions options;
  options.filter = [] { return std::make_unique<XorFilter>(); };
  std::mutex mutex;
  std::string seen;  // what the application received
  Server server(options, [&](const TcpConnectionPtr& c, net::Buffer& in) {
    {
      const std::lock_guard lock(mutex);
      seen += in.view();
    }
    static_cast<void>(c->send(in.view()));
    in.retrieve_all();
  });
  Client client(server.address());
  steps.expect_eq("\"up\" without a byte from the peer", true,
                  server.events.wait([](const Events& e) { return e.up == 1; }));
  steps.add("the client sends HELLO on the wire: the application sees hello and echoes it");
  steps.expect_eq("the echo on the wire", std::string("HELLO"), client.exchange("HELLO"));
  {
    const std::lock_guard lock(mutex);
    steps.expect_eq("what the application saw", std::string("hello"), seen);
  }
  steps.expect_eq("queued output drains to 0", true, harness::eventually([&] {
                    return server.last() != nullptr && server.last()->queued_output() == 0;
                  }));
}

TEST(TcpServer, MaxConnectionsRefusesTheOneTooMany) {
  Server server(TcpServerOptions{.max_connections = 2});
  Client a(server.address());
  Client b(server.address());
  ASSERT_EQ(a.exchange("a"), "a");
  ASSERT_EQ(b.exchange("b"), "b");
  Client c(server.address());  // the kernel completes the handshake; the server closes it
  std::string got;
  EXPECT_TRUE(c.receive_until_closed(&got));
  EXPECT_EQ(got, "");
  EXPECT_EQ(server.get().stats().refused_max_connections, 1U);
  EXPECT_EQ(a.exchange("still a"), "still a");
  EXPECT_EQ(server.get().connection_count(), 2U);
}

TEST(TcpConnection, SendsFromAnotherThreadArriveInOrder) {
  Server server;
  Client client(server.address());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 1; }));
  const TcpConnectionPtr conn = server.last();
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    char line[32];
    std::snprintf(line, sizeof line, "msg %05d\n", i);
    expected += line;
    ASSERT_NE(conn->send(std::string(line)), SendStatus::dropped);  // moved across threads
  }
  EXPECT_TRUE(client.receive(expected.size()) == expected);
}

TEST(TcpConnection, ShutdownWritesEverythingQueuedThenEndsTheStream) {
  const std::string big = pattern(4 << 20);
  Server server(TcpServerOptions{}, [&](const TcpConnectionPtr& c, net::Buffer& in) {
    in.retrieve_all();
    static_cast<void>(c->send(big));
    c->shutdown();
    EXPECT_EQ(c->send(std::string_view("late")), SendStatus::dropped)
        << "nothing is queued after shutdown()";
  });
  Client client(server.address());
  ASSERT_TRUE(client.send_all("s"));
  std::string got;
  ASSERT_TRUE(client.receive_until_closed(&got));
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big);
}

TEST(TcpConnection, ForceCloseFromAnotherThread) {
  Server server;
  Client client(server.address());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 1; }));
  server.last()->force_close();
  EXPECT_TRUE(client.receive_until_closed());
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.down == 1; }));
  EXPECT_EQ(server.last()->send(std::string_view("x")), SendStatus::dropped);
}

TEST(TcpConnection, WriteCompleteFiresWhenTheOutputDrains) {
  Server server(TcpServerOptions{}, [](const TcpConnectionPtr& c, net::Buffer& in) {
    in.retrieve_all();
    static_cast<void>(c->send(pattern(2 << 20)));
  });
  Client client(server.address());
  ASSERT_TRUE(client.send_all("w"));
  EXPECT_EQ(client.receive(2 << 20).size(), std::size_t{2} << 20);
  EXPECT_TRUE(server.events.wait([](const Events& e) { return e.write_complete >= 1; }));
  EXPECT_EQ(server.last()->queued_output(), 0U);
}

}  // namespace
}  // namespace avant::tcp
