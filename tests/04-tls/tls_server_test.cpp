// Integration tests of TLS under TcpConnection: a multi-threaded echo server whose connections
// all speak TLS, driven by real sockets on 127.0.0.1 with a TlsEngine as the client.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <openssl/ssl.h>
#include <poll.h>

#include <avant/tcp/tcp_client.hpp>
#include <avant/testing/harness.hpp>
#include <avant/testing/steps.hpp>
#include <avant/thread/threaded_tcp_server.hpp>
#include <avant/tls/tls_filter.hpp>

#include <gtest/gtest.h>

#include "../02-reactor/switching.hpp"
#include "api.hpp"
#include "pki.hpp"

namespace avant::tls {
namespace {

using namespace std::chrono_literals;
using harness::Client;
using harness::kDeadline;
using harness::LoopThread;
using tcp::TcpConnectionPtr;

// A TLS client over a blocking test socket: our engine on one side, the server's on the other.
class TlsClient {
 public:
  TlsClient(const net::SocketAddress& server, const TlsContext& context)
      : tcp_(server), engine_(TlsEngine::client(context, "localhost")) {}

  // Runs the handshake; false if it failed or the deadline passed.
  bool handshake() {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!engine_.handshake_done()) {
      if (!flush() || !pull(until)) return false;
    }
    return flush();
  }
  // Sends `data` and returns the echo of it (shorter if the connection ends or stalls).
  std::string exchange(std::string_view data) {
    if (engine_.send(data) != TlsStatus::ok || !flush()) return {};
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (plain_.readable_bytes() < data.size()) {
      if (!pull(until)) break;
    }
    return plain_.retrieve_all_as_string();
  }
  // Sends `data` as one record (or more, past 16 KiB); false if the socket refused it.
  bool send(std::string_view data) { return engine_.send(data) == TlsStatus::ok && flush(); }
  // Reads until `n` bytes of plaintext came (fewer if the connection ends or stalls).
  std::string receive(std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (plain_.readable_bytes() < n) {
      if (!pull(until)) break;
    }
    return plain_.retrieve_all_as_string();
  }
  // Reads until the server ends the connection: true if it said close_notify first.
  bool closed_with_close_notify() {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (last_ != TlsStatus::closed) {
      if (!pull(until)) break;
    }
    return last_ == TlsStatus::closed;
  }
  [[nodiscard]] const TlsEngine& engine() const { return engine_; }

 private:
  bool flush() {
    std::string out;
    static_cast<void>(engine_.take_output(out));
    return out.empty() || tcp_.send_all(out);
  }
  // One read from the socket into the engine; false on end of stream, error or deadline.
  bool pull(std::chrono::steady_clock::time_point until) {
    std::array<char, 16384> chunk{};
    for (;;) {
      const net::IoResult r = tcp_.socket().read(chunk);
      if (r.ok()) {
        last_ = engine_.receive(std::string_view(chunk.data(), r.bytes), plain_);
        return last_ == TlsStatus::ok;
      }
      if (r.status != net::IoStatus::would_block) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || net::wait_ready(tcp_.fd(), POLLIN, left) == 0) return false;
    }
  }

  Client tcp_;
  TlsEngine engine_;
  net::Buffer plain_;
  TlsStatus last_ = TlsStatus::ok;
};

class TlsServer : public ::testing::Test {
 public:
  TlsServer() : pki_(testing::make_test_pki(dir_.path())) {}
  ~TlsServer() override {
    try {
      if (server_) base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  TlsServer(TlsServer&&) = delete;
  TlsServer& operator=(TlsServer&&) = delete;

 protected:
  void start(std::chrono::milliseconds handshake_timeout = 10s) {
    auto context = std::make_shared<const TlsContext>(TlsContext::server(
        {.certificate_chain_file = pki_.server_chain, .private_key_file = pki_.server_key}));
    thread::ThreadedServerOptions options{.workers = 2};
    options.tcp.filter = server_filter(std::move(context));
    options.tcp.connection.handshake_timeout = handshake_timeout;
    server_ = base_.call([&] {
      auto s = std::make_unique<thread::ThreadedTcpServer>(base_.loop(), options);
      s->on_connection([this](const TcpConnectionPtr& c) {
        const std::lock_guard lock(mutex_);
        if (c->connected()) {
          ++up_;
          const TlsEngine* session = tls_session(*c);
          if (session != nullptr) alpn_ = session->alpn();
        } else {
          ++down_;
        }
        changed_.notify_all();
      });
      s->on_message([](const TcpConnectionPtr& c, net::Buffer& in) {
        static_cast<void>(c->send(in.view()));
        in.retrieve_all();
      });
      s->start();
      return s;
    });
  }
  [[nodiscard]] TlsContext client_context(std::vector<std::string> alpn = {"http/1.1"}) const {
    return TlsContext::client({.ca_file = pki_.ca, .alpn = std::move(alpn)});
  }
  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  template <class P>
  bool wait(P done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, done);
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  LoopThread base_;
  std::unique_ptr<thread::ThreadedTcpServer> server_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int up_ = 0;        // mutex_
  int down_ = 0;      // mutex_
  std::string alpn_;  // mutex_: of the last connection up
};

TEST_F(TlsServer, EchoesPlaintextOverTlsInEverySize) {
  avant::testing::Steps steps;
  start();
  const TlsContext context = client_context();
  TlsClient client(address(), context);
  ASSERT_TRUE(client.handshake()) << client.engine().error();
  steps.expect_eq("version", std::string("TLSv1.3"), client.engine().version());
  steps.expect_eq("ALPN", std::string("http/1.1"), client.engine().alpn());
  ASSERT_TRUE(wait([&] { return up_ == 1; })) << "\"up\" comes once the handshake is done";
  {
    const std::lock_guard lock(mutex_);
    steps.expect_eq("the server's view of ALPN", std::string("http/1.1"), alpn_);
  }
  for (const std::size_t n :
       std::initializer_list<std::size_t>{1, 100, 16383, 16384, 16385, 100000, 1000000}) {
    const std::string data = harness::pattern(n, static_cast<unsigned>(n));
    ASSERT_EQ(client.exchange(data), data) << n << " bytes";
  }
}

TEST_F(TlsServer, ServesAHundredConcurrentTlsClients) {
  start();
  const TlsContext context = client_context();
  std::vector<std::unique_ptr<TlsClient>> clients;
  clients.reserve(100);
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<TlsClient>(address(), context));
    ASSERT_TRUE(clients.back()->handshake())
        << "client " << i << ": " << clients.back()->engine().error();
  }
  ASSERT_TRUE(wait([&] { return up_ == 100; }));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string data = "client " + std::to_string(i) + " " + harness::pattern(3000, 5);
    ASSERT_EQ(clients[i]->exchange(data), data);
  }
  EXPECT_EQ(server_->connection_count(), 100U);
}

TEST_F(TlsServer, BadClientsAreClosedAndEveryoneElseKeepsGoing) {
  avant::testing::Steps steps;
  start(300ms);
  const TlsContext context = client_context();
  TlsClient good(address(), context);
  ASSERT_TRUE(good.handshake());

  steps.add("plain text to the TLS port: closed");
  Client plain(address());
  ASSERT_TRUE(plain.send_all("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  steps.expect_eq("the plain client is closed", true, plain.receive_until_closed());

  steps.add("a client that stops in the middle of its handshake: closed by the timeout");
  Client stalled(address());
  {
    TlsEngine half = TlsEngine::client(context, "localhost");
    std::string hello;
    static_cast<void>(half.take_output(hello));
    ASSERT_TRUE(stalled.send_all(hello.substr(0, hello.size() / 2)));
  }
  Client silent(address());  // connects and never says anything
  steps.expect_eq("the stalled client is closed", true, stalled.receive_until_closed());
  steps.expect_eq("the silent client is closed", true, silent.receive_until_closed());

  steps.add("a client offering only TLS 1.0: refused");
  const TlsContext old = client_context();
  SSL_CTX_set_security_level(old.native(), 0);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(old.native(), TLS1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(old.native(), TLS1_VERSION), 1);
  TlsClient ancient(address(), old);
  steps.expect_eq("the TLS 1.0 handshake", false, ancient.handshake());

  steps.add("the good client still echoes; none of the bad ones ever came \"up\"");
  steps.expect_eq("echo", std::string("still here"), good.exchange("still here"));
  const std::lock_guard lock(mutex_);
  steps.expect_eq("connections up", 1, up_);
  steps.expect_eq("connections down", 0, down_);
}

TEST_F(TlsServer, BytesSentBeforeTheHandshakeAreCountedThenDelivered) {
  avant::testing::Steps steps;
  start();
  const TlsContext context = client_context();
  TlsClient client(address(), context);  // connected, no handshake yet
  ASSERT_TRUE(harness::eventually([&] { return server_->connection_count() == 1; }));
  const TcpConnectionPtr connection = server_->connections().front();
  // Listed at accept, established a moment later on its worker: sends before that are dropped.
  ASSERT_TRUE(harness::eventually([&] { return connection->connected(); }));
  steps.add("the server sends 1000 bytes to a connection still in its handshake");
  ASSERT_EQ(connection->send(std::string(1000, 'e')), tcp::SendStatus::ok);
  steps.expect_eq("they count as queued output while the filter holds them", true,
                  harness::eventually([&] { return connection->queued_output() == 1000; }));
  steps.add("the client completes its handshake and receives them");
  ASSERT_TRUE(client.handshake());
  steps.expect_eq("the early bytes", std::string(1000, 'e'), client.receive(1000));
  steps.expect_eq("nothing is left queued", true,
                  harness::eventually([&] { return connection->queued_output() == 0; }));
}

TEST_F(TlsServer, StopSaysCloseNotifyBeforeClosing) {
  start();
  const TlsContext context = client_context();
  auto client = std::make_unique<TlsClient>(address(), context);
  ASSERT_TRUE(client->handshake());
  ASSERT_EQ(client->exchange("hello"), "hello");
  std::promise<void> stopped;
  server_->stop([&] { stopped.set_value(); });
  EXPECT_TRUE(client->closed_with_close_notify()) << "a TLS goodbye, not a bare FIN";
  client.reset();  // the client closes too: the stop ends before its drain deadline
  EXPECT_EQ(stopped.get_future().wait_for(kDeadline), std::future_status::ready);
}

// The client side of the TLS filter: tcp::TcpClient with tls::client_filter, which sends the
// server name (SNI) and verifies the server's certificate against the CA and that name.
TEST_F(TlsServer, ATlsClientVerifiesTheServerAndEchoesThroughItsFilter) {
  start();
  struct Run {
    std::mutex mutex;
    std::string received;
    bool up = false;
  };
  const auto connect_with = [&](const std::string& server_name, Run& run) {
    tcp::TcpClientOptions options{.server = address(),
                                  .backoff = tcp::BackoffOptions{.retry = false}};
    options.filter =
        client_filter(std::make_shared<const TlsContext>(client_context()), server_name);
    LoopThread loop;
    auto client = loop.call([&] {
      auto c = std::make_unique<tcp::TcpClient>(loop.loop(), options);
      c->on_connection([&run](const TcpConnectionPtr& conn) {
        const std::lock_guard lock(run.mutex);
        run.up = conn->connected();
        if (run.up) static_cast<void>(conn->send("over tls"));
      });
      c->on_message([&run](const TcpConnectionPtr&, net::Buffer& in) {
        const std::lock_guard lock(run.mutex);
        run.received += in.view();
        in.retrieve_all();
      });
      c->connect();
      return c;
    });
    // Either the echo comes back, or the refused handshake closes the connection (without
    // "up") and, with retry off, the client gives up: wait for whichever comes first.
    const bool settled = harness::eventually([&] {
      const std::lock_guard lock(run.mutex);
      return run.received == "over tls" || client->stats().gave_up;
    });
    loop.call([&] { client.reset(); });
    const std::lock_guard lock(run.mutex);
    return std::make_pair(settled, run.received == "over tls");
  };

  Run good;
  const auto [settled, echoed] = connect_with("localhost", good);
  EXPECT_TRUE(settled && echoed) << "the echo came back through both TLS filters";

  Run wrong_name;
  const auto [settled_wrong, echoed_wrong] = connect_with("not-this-server.example", wrong_name);
  EXPECT_TRUE(settled_wrong) << "the refused handshake ended the attempt within 10 s";
  EXPECT_FALSE(echoed_wrong) << "a certificate for another name is refused";
  const std::lock_guard lock(wrong_name.mutex);
  EXPECT_FALSE(wrong_name.up) << "the application never saw the connection up";
}

// One pool for a plain and a TLS listener (the process runs one set of workers, whatever the
// number of ports): both place their connections on the same loops and both serve.
TEST_F(TlsServer, APlainAndATlsListenerShareOnePool) {
  auto context = std::make_shared<const TlsContext>(TlsContext::server(
      {.certificate_chain_file = pki_.server_chain, .private_key_file = pki_.server_key}));
  std::unique_ptr<thread::EventLoopThreadPool> pool;
  std::vector<std::unique_ptr<thread::ThreadedTcpServer>> servers;
  base_.call([&] {
    pool = std::make_unique<thread::EventLoopThreadPool>(base_.loop(),
                                                         thread::LoopPoolOptions{.threads = 2});
    pool->start();
    for (const bool tls : {false, true}) {
      thread::ThreadedServerOptions options{};
      if (tls) options.tcp.filter = server_filter(context);
      auto s = std::make_unique<thread::ThreadedTcpServer>(*pool, options);
      s->on_message([](const TcpConnectionPtr& c, net::Buffer& in) {
        static_cast<void>(c->send(in.view()));
        in.retrieve_all();
      });
      s->start();
      servers.push_back(std::move(s));
    }
  });
  Client plain(servers[0]->listen_address());
  EXPECT_EQ(plain.exchange("plain"), "plain");
  TlsClient secure(servers[1]->listen_address(), client_context());
  // No ASSERT before the cleanup below: the servers and the pool must go on the base loop.
  const bool shook = secure.handshake();
  EXPECT_TRUE(shook) << "the TLS listener of the shared pool completes a handshake";
  if (shook) {
    EXPECT_EQ(secure.exchange("secure"), "secure");
  }
  EXPECT_EQ(pool->connections_on(0) + pool->connections_on(1), 2U)
      << "both listeners' connections live on the one pool's loops";
  EXPECT_EQ(pool->connections_on(0), 1U) << "round robin across the listeners: one on each loop";
  base_.call([&] {
    servers.clear();  // first: their connections close on the pool's running loops
    pool.reset();
  });
}

// The switch of chapter 02 under the TLS filter: the next protocol gets the decrypted bytes the
// old one left, the filter stays. The input comes as two records, split after every byte.
TEST_F(TlsServer, AProtocolSwitchHandsOverTheDecryptedBytesAtEverySplit) {
  auto context = std::make_shared<const TlsContext>(TlsContext::server(
      {.certificate_chain_file = pki_.server_chain, .private_key_file = pki_.server_key}));
  std::mutex mutex;
  std::shared_ptr<tcp::switching::SwitchLog> latest;
  tcp::TcpServerOptions options{};
  options.filter = server_filter(context);
  std::unique_ptr<tcp::TcpServer> server = base_.call([&] {
    auto s = std::make_unique<tcp::TcpServer>(base_.loop(), options);
    s->set_protocol([&](const TcpConnectionPtr&) {
      auto log = std::make_shared<tcp::switching::SwitchLog>();
      const std::lock_guard lock(mutex);
      latest = log;
      return std::make_shared<tcp::switching::LineProtocol>(std::move(log));
    });
    s->start();
    return s;
  });
  const std::string payload = "hello\nSWITCH\nabc def";
  const std::string answer = "line:hello\nOK\nABC DEF";
  for (std::size_t split = 0; split <= payload.size(); ++split) {
    SCOPED_TRACE("the plaintext split after byte " + std::to_string(split));
    TlsClient client(server->listen_address(), client_context());
    if (!client.handshake()) {
      ADD_FAILURE() << "the handshake did not finish";
      break;
    }
    std::shared_ptr<tcp::switching::SwitchLog> log;
    const bool found = harness::eventually([&] {
      const std::lock_guard lock(mutex);
      log = latest;  // reset after each connection: this one's
      return log != nullptr;
    });
    if (!found) {
      ADD_FAILURE() << "the connection's protocol was not made";
      break;
    }
    EXPECT_TRUE(client.send(std::string_view(payload).substr(0, split)));
    EXPECT_TRUE(harness::eventually([&] { return log->arrived == split; }))
        << "the server decrypted " << log->arrived << " bytes";
    EXPECT_TRUE(client.send(std::string_view(payload).substr(split)));
    EXPECT_EQ(client.receive(answer.size()), answer);
    EXPECT_EQ(log->switches, 1);
    EXPECT_EQ(log->consumed, payload.size());
    EXPECT_EQ(log->stale_calls, 0) << "the old protocol heard nothing after the switch";
    {
      const std::lock_guard lock(mutex);
      latest.reset();
    }
  }
  base_.call([&] { server.reset(); });
}

}  // namespace
}  // namespace avant::tls
