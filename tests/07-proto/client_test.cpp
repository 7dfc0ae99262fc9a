// Chapter 07 — the C++ client (clients/cpp) against the real transports: the blocking client's
// echo over TCP, TLS (the certificate checked) and WebSocket with every byte value; a package over
// the client's own limit ends its connection; a refused connect is an error, not a hang; and the
// load the issue asks for: 500 clients x 1000 echoes each, over TCP and over TLS, every answer
// checked, in callback style on one loop.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <avant/client/client.hpp>
#include <avant/client/commands.hpp>
#include <avant/proto/dispatcher.hpp>
#include <avant/proto/stream.hpp>
#include <avant/proto/websocket.hpp>
#include <avant/testing/harness.hpp>
#include <avant/thread/threaded_tcp_server.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>

#include <gtest/gtest.h>

#include "pki.hpp"
#include "site.hpp"
#include "wire.hpp"

namespace avant::proto {
namespace {

using namespace std::chrono_literals;
using client::BlockingClient;
using client::ClientError;
using client::Endpoint;

std::shared_ptr<Dispatcher> echo_dispatcher() {
  auto d = std::make_shared<Dispatcher>();
  add_echo_example(*d);
  return d;
}

// The echo example on a stream server with two worker loops, optionally behind TLS.
class StreamSite {
 public:
  explicit StreamSite(tcp::FilterFactory filter = {})
      : service_(std::make_unique<StreamService>(echo_dispatcher(), StreamOptions{})) {
    thread::ThreadedServerOptions o;
    o.workers = 2;
    o.tcp.filter = std::move(filter);
    server_ = base_.call([&] {
      auto s = std::make_unique<thread::ThreadedTcpServer>(base_.loop(), o);
      s->set_protocol(service_->factory());
      s->start();
      return s;
    });
  }
  ~StreamSite() {
    try {
      base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  StreamSite(const StreamSite&) = delete;
  StreamSite& operator=(const StreamSite&) = delete;
  StreamSite(StreamSite&&) = delete;
  StreamSite& operator=(StreamSite&&) = delete;

  [[nodiscard]] std::uint16_t port() const { return server_->listen_address().port(); }
  [[nodiscard]] StreamService::Stats stats() const { return service_->stats(); }

 private:
  harness::LoopThread base_;
  std::unique_ptr<StreamService> service_;
  std::unique_ptr<thread::ThreadedTcpServer> server_;
};

struct Pki {
  tls::testing::TempDir dir;
  tls::testing::TestPki files = tls::testing::make_test_pki(dir.path());
  [[nodiscard]] tcp::FilterFactory server() const {
    return tls::server_filter(std::make_shared<const tls::TlsContext>(tls::TlsContext::server(
        {.certificate_chain_file = files.server_chain, .private_key_file = files.server_key})));
  }
};

// An endpoint on this machine (fields set one by one: -Werror refuses designated initializers
// that leave fields out).
Endpoint local(std::uint16_t port) {
  Endpoint e;
  e.host = "127.0.0.1";
  e.port = port;
  return e;
}

Endpoint local_tls(std::uint16_t port, const std::string& ca) {
  Endpoint e = local(port);
  e.tls = true;
  e.ca_file = ca;
  e.server_name = "localhost";
  return e;
}

// The text of a CS_RES_EXAMPLE answer, or a description of what came instead.
std::string echoed(const ProtoPackage& answer) {
  ProtoCSResExample res;
  if (answer.cmd() != PROTO_CMD_CS_RES_EXAMPLE || !res.ParseFromString(answer.protocol()))
    return "(not a CS_RES_EXAMPLE: cmd " + std::to_string(answer.cmd()) + ")";
  return res.testcontext();
}

std::string every_byte() {
  std::string s;
  for (int b = 0; b < 256; ++b)
    s.push_back(static_cast<char>(b));
  return s;
}

void expect_echoes(BlockingClient& c) {
  for (const std::string& text : {std::string("hello"), every_byte(), std::string()}) {
    EXPECT_EQ(echoed(c.call(testing::request_package(text), 10s)), text);
  }
}

TEST(Clients, EveryCommandFindsItsMessageByTheSchemasNamingRule) {
  // PROTO_CMD_<NAME> carries Proto<Name>: what avant-cli relies on to read and show JSON.
  const auto* commands = ProtoCmd_descriptor();
  for (int i = 0; i < commands->value_count(); ++i) {
    const int cmd = commands->value(i)->number();
    EXPECT_NE(client::message_of(cmd), nullptr) << commands->value(i)->name();
  }
  EXPECT_EQ(client::message_of(PROTO_CMD_CS_REQ_EXAMPLE), ProtoCSReqExample::descriptor());
  EXPECT_EQ(client::message_of(PROTO_CMD_UDP_SAFESTOP_RES), ProtoUDPSafeStopRes::descriptor());
  EXPECT_EQ(client::message_of(PROTO_CMD_LUA_TEST), ProtoLuaTest::descriptor());
  EXPECT_EQ(client::message_of(12345), nullptr);
  EXPECT_EQ(client::parse_cmd("CS_RES_EXAMPLE"), 1);
  EXPECT_EQ(client::parse_cmd("PROTO_CMD_LUA_TEST"), 8);
  EXPECT_EQ(client::parse_cmd("15"), 15);
  EXPECT_EQ(client::parse_cmd("NO_SUCH_COMMAND"), std::nullopt);
  // JSON in (bytes in base64), text out with the bytes as they are.
  const ProtoPackage p = client::from_json(PROTO_CMD_CS_RES_EXAMPLE, R"({"testContext":"aGk="})");
  EXPECT_EQ(echoed(p), "hi");
  EXPECT_EQ(client::describe(p),
            R"(PROTO_CMD_CS_RES_EXAMPLE ProtoCSResExample { testContext: "hi" })");
  EXPECT_EQ(client::describe(p, client::Format::json),
            R"({"cmd":"PROTO_CMD_CS_RES_EXAMPLE","message":{"testContext":"aGk="}})");
  EXPECT_THROW((void)client::from_json(PROTO_CMD_CS_REQ_EXAMPLE, R"({"nope":1})"), ClientError);
}

TEST(Clients, TheBlockingClientEchoesOverTcp) {
  StreamSite site;
  BlockingClient c(local(site.port()));
  EXPECT_TRUE(c.is_up());
  expect_echoes(c);
  c.close();
  EXPECT_FALSE(c.is_up());
  EXPECT_EQ(site.stats().packages, 3u);
}

TEST(Clients, TheBlockingClientEchoesOverTlsAndChecksTheCertificate) {
  const Pki pki;
  StreamSite site(pki.server());
  BlockingClient c(local_tls(site.port(), pki.files.ca));
  expect_echoes(c);
  // The same server, trusted by nothing the system knows: the handshake fails, and says so.
  EXPECT_THROW(BlockingClient(local_tls(site.port(), "")), ClientError);
}

TEST(Clients, TheBlockingClientEchoesOverWebSocket) {
  websocket::testing::Site site(websocket::testing::ws_options(),
                                websocket_handlers(echo_dispatcher(), {}));
  Endpoint e = local(site.address().port());
  e.websocket = true;
  e.path = "/ws";
  BlockingClient c(e);
  expect_echoes(c);
}

TEST(Clients, AnAnswerOverTheClientsLimitEndsItsConnection) {
  StreamSite site;
  Endpoint e = local(site.port());
  e.max_frame = 64;
  BlockingClient c(e);
  EXPECT_EQ(echoed(c.call(testing::request_package("short"), 10s)), "short");
  c.send(testing::request_package(std::string(100, 'x')));  // answered in a 106-byte package
  EXPECT_THROW((void)c.receive(10s), ClientError);
  EXPECT_NE(c.down_reason().find("over the limit of 64"), std::string::npos) << c.down_reason();
}

TEST(Clients, ARefusedConnectIsAnErrorNotAHang) {
  std::uint16_t closed_port = 0;
  {
    StreamSite gone;
    closed_port = gone.port();
  }
  try {
    BlockingClient c(local(closed_port));
    ADD_FAILURE() << "connected to a closed port";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
  Endpoint nowhere = local(1);
  nowhere.host = "no-such-host.invalid";
  EXPECT_THROW(BlockingClient{nowhere}, ClientError);
}

// 500 clients on one loop, each sending its next echo when the last came back, 1000 times; every
// answer is checked against what that client sent.
void five_hundred_times_a_thousand(const Endpoint& to) {
  constexpr int kClients = 500;
  constexpr int kEchoes = 1000;
  std::mutex mutex;
  std::condition_variable changed;
  int finished = 0;
  int failed = 0;
  std::string first_failure;
  std::vector<int> done(kClients, 0);
  harness::LoopThread loop;
  std::vector<std::unique_ptr<client::Client>> clients;
  const auto text = [](int c, int i) { return std::to_string(c) + "/" + std::to_string(i); };
  const auto fail = [&](const std::string& why) {
    const std::lock_guard lock(mutex);
    if (first_failure.empty()) first_failure = why;
    ++failed;
    changed.notify_all();
  };
  loop.call([&] {
    for (int c = 0; c < kClients; ++c) {
      clients.push_back(std::make_unique<client::Client>(
          loop.loop(), to,
          client::Client::Handlers{.up =
                                       [&, c](client::Client& self) {
                                         (void)self.send(testing::request_package(text(c, 0)));
                                       },
                                   .package =
                                       [&, c](client::Client& self, const ProtoPackage& answer) {
                                         int& n = done[static_cast<std::size_t>(c)];
                                         if (echoed(answer) != text(c, n)) {
                                           fail("client " + std::to_string(c) + " got '" +
                                                echoed(answer) + "' for '" + text(c, n) + "'");
                                           return self.close();
                                         }
                                         if (++n < kEchoes) {
                                           (void)self.send(testing::request_package(text(c, n)));
                                           return;
                                         }
                                         const std::lock_guard lock(mutex);
                                         ++finished;
                                         changed.notify_all();
                                       },
                                   .down =
                                       [&, c](client::Client&, const std::string& reason) {
                                         if (done[static_cast<std::size_t>(c)] < kEchoes)
                                           fail("client " + std::to_string(c) + " down: " + reason);
                                       }}));
      clients.back()->connect();
    }
  });
  {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, 240s, [&] { return finished + failed == kClients; }))
        << finished << " finished, " << failed << " failed";
    EXPECT_EQ(finished, kClients) << first_failure;
  }
  loop.call([&] { clients.clear(); });
}

TEST(Clients, FiveHundredClientsEchoAThousandTimesEachOverTcp) {
  StreamSite site;
  five_hundred_times_a_thousand(local(site.port()));
  EXPECT_EQ(site.stats().packages, 500'000u);
  EXPECT_EQ(site.stats().refused, 0u);
}

TEST(Clients, FiveHundredClientsEchoAThousandTimesEachOverTls) {
  const Pki pki;
  StreamSite site(pki.server());
  five_hundred_times_a_thousand(local_tls(site.port(), pki.files.ca));
  EXPECT_EQ(site.stats().packages, 500'000u);
}

}  // namespace
}  // namespace avant::proto
