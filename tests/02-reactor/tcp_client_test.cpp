// The outgoing side: TcpClient against a server that echoes, a port that refuses, a listener whose
// queue is full (a black hole) and a server that closes at once; backoff counted, never a busy loop.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/socket.h>

#include <avant/tcp/tcp_client.hpp>
#include <avant/testing/harness.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::tcp {
namespace {

using namespace std::chrono_literals;
using harness::LoopThread;
using Clock = std::chrono::steady_clock;

// Backoff whose delays are their upper bounds (jitter 0.999): 10, 20, 40, 40, ... ms.
BackoffOptions steady_backoff(std::size_t max_attempts) {
  return BackoffOptions{
      .initial = 10ms, .max = 40ms, .max_attempts = max_attempts, .jitter = [] { return 0.999; }};
}

// A loopback port nobody listens on (bound, then closed: the kernel refuses connects to it).
net::SocketAddress refusing_port() {
  net::Socket probe = net::Socket::create(AF_INET, net::SocketType::tcp);
  probe.bind(net::SocketAddress::ipv4_loopback(0));
  return probe.local_address();
}

// A client on its own loop thread, built and destroyed there.
class Client {
 public:
  explicit Client(TcpClientOptions options) {
    client_ = loop_.call([&] {
      auto c = std::make_unique<TcpClient>(loop_.loop(), options);
      c->on_message([this](const TcpConnectionPtr&, net::Buffer& in) {
        const std::lock_guard lock(mutex_);
        received_ += in.view();
        in.retrieve_all();
      });
      return c;
    });
  }
  ~Client() {
    try {
      loop_.call([this] { client_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the client: " << e.what();
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;

  TcpClient& get() { return *client_; }
  LoopThread& loop() { return loop_; }
  std::string received() {
    const std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  LoopThread loop_;
  std::unique_ptr<TcpClient> client_;
  std::mutex mutex_;
  std::string received_;
};

// A TcpServer on its own loop: echoes, or closes every connection at once.
class Server {
 public:
  explicit Server(bool close_at_once) {
    server_ = loop_.call([&] {
      auto s = std::make_unique<TcpServer>(loop_.loop(), TcpServerOptions{});
      s->on_connection([close_at_once](const TcpConnectionPtr& c) {
        if (close_at_once && c->connected()) c->force_close();
      });
      s->on_message([](const TcpConnectionPtr& c, net::Buffer& in) {
        static_cast<void>(c->send(in.view()));
        in.retrieve_all();
      });
      s->start();
      return s;
    });
  }
  ~Server() {
    try {
      loop_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  TcpServer& get() { return *server_; }

 private:
  LoopThread loop_;
  std::unique_ptr<TcpServer> server_;
};

TEST(TcpClient, ConnectsEchoesAndReconnectsWhenTheServerDropsIt) {
  Server server(false);
  Client client(
      TcpClientOptions{.server = server.get().listen_address(), .backoff = steady_backoff(0)});
  client.get().connect();
  ASSERT_TRUE(harness::eventually([&] { return client.get().connection() != nullptr; }))
      << "connected within 10 s";
  EXPECT_EQ(client.get().connection()->send("ping"), SendStatus::ok);
  ASSERT_TRUE(harness::eventually([&] { return client.received() == "ping"; }))
      << "the echo came back: '" << client.received() << "'";

  for (const auto& c : server.get().connections())
    c->force_close();  // the server drops it: the client comes back by itself
  ASSERT_TRUE(harness::eventually([&] { return client.get().stats().connected == 2; }))
      << "reconnected after the server closed: " << client.get().stats().connected;
  ASSERT_TRUE(harness::eventually([&] { return client.get().connection() != nullptr; }));
  EXPECT_EQ(client.get().connection()->send("again"), SendStatus::ok);
  ASSERT_TRUE(harness::eventually([&] { return client.received() == "pingagain"; }));
  EXPECT_EQ(client.get().stats().failures, 0U);
}

TEST(TcpClient, ARefusingPortCostsBoundedAttemptsSpacedByTheBackoff) {
  Client client(TcpClientOptions{.server = refusing_port(), .backoff = steady_backoff(5)});
  const auto start = Clock::now();
  client.get().connect();
  ASSERT_TRUE(harness::eventually([&] { return client.get().stats().gave_up; }))
      << "gave up after max_attempts";
  const auto elapsed = Clock::now() - start;
  const TcpClient::Stats stats = client.get().stats();
  EXPECT_EQ(stats.attempts, 5U) << "exactly max_attempts, no busy loop";
  EXPECT_EQ(stats.failures, 5U);
  EXPECT_EQ(stats.connected, 0U);
  // Four waits between five attempts: 10 + 20 + 40 + 40 ms (x 0.999), timers never fire early.
  EXPECT_GE(elapsed, 109ms) << "the attempts were spaced by the backoff";
}

TEST(TcpClient, ASilentServerCostsOneTimedOutAttempt) {
  // A listener whose accept queue is full drops new SYNs: connect() neither succeeds nor fails.
  net::Socket listener = net::Socket::create(AF_INET, net::SocketType::tcp);
  listener.bind(net::SocketAddress::ipv4_loopback(0));
  ASSERT_EQ(::listen(listener.fd(), 0), 0);
  std::vector<net::Socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(net::Socket::create(AF_INET, net::SocketType::tcp));
    static_cast<void>(fillers.back().connect(listener.local_address()));
  }
  Client client(TcpClientOptions{.server = listener.local_address(),
                                 .connect_timeout = 150ms,
                                 .backoff = BackoffOptions{.retry = false}});
  const auto start = Clock::now();
  client.get().connect();
  ASSERT_TRUE(harness::eventually([&] { return client.get().stats().gave_up; }))
      << "the attempt was abandoned at connect_timeout";
  EXPECT_GE(Clock::now() - start, 150ms) << "abandoned at the timeout, not before";
  const TcpClient::Stats stats = client.get().stats();
  EXPECT_EQ(stats.attempts, 1U) << "retry = false: one attempt";
  EXPECT_EQ(stats.failures, 1U);
  EXPECT_EQ(stats.connected, 0U);
}

TEST(TcpClient, AServerThatClosesAtOnceIsNotHammered) {
  Server server(true);
  Client client(
      TcpClientOptions{.server = server.get().listen_address(), .backoff = steady_backoff(5)});
  const auto start = Clock::now();
  client.get().connect();
  ASSERT_TRUE(harness::eventually([&] { return client.get().stats().gave_up; }))
      << "five short-lived connections, then it gives up";
  EXPECT_EQ(client.get().stats().connected, 5U);
  EXPECT_EQ(client.get().stats().failures, 0U);
  EXPECT_GE(Clock::now() - start, 109ms) << "each reconnect waited its backoff";
}

TEST(TcpClient, StopEndsTheRetriesAtOnce) {
  Client client(TcpClientOptions{.server = refusing_port(),
                                 .backoff = BackoffOptions{.initial = 5ms, .max = 20ms}});
  client.get().connect();
  ASSERT_TRUE(harness::eventually([&] { return client.get().stats().attempts >= 3; }));
  client.get().stop();
  // Once stop() has run on the loop, nothing is scheduled any more: no timer, no attempt.
  const auto [timers, attempts] = client.loop().call([&] {
    return std::make_pair(client.loop().loop().timer_count(), client.get().stats().attempts);
  });
  EXPECT_EQ(timers, 0U) << "no retry pending after stop()";
  EXPECT_EQ(client.loop().call([&] { return client.get().stats().attempts; }), attempts);
  EXPECT_FALSE(client.get().stats().gave_up) << "stopped, not given up";
}

}  // namespace
}  // namespace avant::tcp
