// Chapter 06 — WebSocketClient with real sockets: against the chapter's WebSocketServer over ws,
// wss and with permessage-deflate (messages of every length form, from the loop and from other
// threads), both close handshakes, a refused handshake and a refused connect reported with 1006,
// and against a hand-written server that checks what a client must do on the wire: a fresh key
// per connection, the accept value checked, a fresh masking key per frame.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <avant/net/io.hpp>
#include <avant/net/socket.hpp>
#include <avant/testing/harness.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>
#include <avant/websocket/client.hpp>

#include <gtest/gtest.h>

#include "pki.hpp"
#include "site.hpp"

namespace avant::websocket {
namespace {

using harness::eventually;
using testing::echo_handlers;
using testing::Seen;
using testing::Site;
using testing::ws_options;
using namespace std::chrono_literals;

// A WebSocketClient on a loop thread of its own, and what its handlers saw.
class Client {
 public:
  explicit Client(ClientOptions options) {
    client_ = loop_.call([&] {
      auto c = std::make_unique<WebSocketClient>(loop_.loop(), std::move(options), handlers());
      c->connect();
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

  WebSocketClient& ws() { return *client_; }
  harness::LoopThread& loop() { return loop_; }

  [[nodiscard]] bool wait_open() {
    return eventually([this] { return opened() > 0 || !closes().empty(); }) && opened() > 0;
  }
  [[nodiscard]] int opened() {
    const std::lock_guard lock(mutex_);
    return opened_;
  }
  [[nodiscard]] std::vector<std::pair<MessageType, std::string>> messages() {
    const std::lock_guard lock(mutex_);
    return messages_;
  }
  [[nodiscard]] std::vector<std::pair<std::uint16_t, std::string>> closes() {
    const std::lock_guard lock(mutex_);
    return closes_;
  }
  // Waits for the n-th message (1-based); nullopt after the deadline.
  std::optional<std::pair<MessageType, std::string>> message(std::size_t n) {
    if (!eventually([&] { return messages().size() >= n; })) return std::nullopt;
    return messages()[n - 1];
  }
  // Waits for the close report.
  std::optional<std::pair<std::uint16_t, std::string>> closed() {
    if (!eventually([&] { return !closes().empty(); })) return std::nullopt;
    return closes().front();
  }

 private:
  ClientHandlers handlers() {
    return {.open =
                [this](WebSocketClient&) {
                  const std::lock_guard lock(mutex_);
                  ++opened_;
                },
            .message =
                [this](WebSocketClient&, std::string_view payload, MessageType type) {
                  const std::lock_guard lock(mutex_);
                  messages_.emplace_back(type, std::string(payload));
                },
            .close =
                [this](WebSocketClient&, std::uint16_t code, const std::string& reason) {
                  const std::lock_guard lock(mutex_);
                  closes_.emplace_back(code, reason);
                }};
  }

  harness::LoopThread loop_;
  std::unique_ptr<WebSocketClient> client_;
  std::mutex mutex_;
  int opened_ = 0;
  std::vector<std::pair<MessageType, std::string>> messages_;
  std::vector<std::pair<std::uint16_t, std::string>> closes_;
};

ClientOptions to(const net::SocketAddress& server, std::string path = "/ws") {
  ClientOptions o;
  o.tcp.server = server;
  o.request.path = std::move(path);
  o.limits.max_message = 4u << 20;
  return o;
}

// Sends from the client's loop thread (as a handler would).
tcp::SendStatus send_on_loop(Client& c, const std::string& payload, MessageType type) {
  return c.loop().call([&] { return c.ws().send(payload, type); });
}

TEST(WebSocketClient, EchoesOfEveryLengthFormComeBackWhole) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  Client c(to(site.address()));
  ASSERT_TRUE(c.wait_open()) << (c.closes().empty() ? "" : c.closes().front().second);
  // 7-bit, 16-bit and 64-bit lengths and their edges; the server refuses an unmasked frame, so an
  // echo also says the client masked.
  const std::vector<std::size_t> sizes = {0, 1, 125, 126, 65535, 65536, 1u << 20};
  std::size_t n = 0;
  for (const std::size_t size : sizes) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
      payload[i] = static_cast<char>('a' + (i * 31 + size) % 26);
    const MessageType type = size % 2 == 0 ? MessageType::binary : MessageType::text;
    ASSERT_EQ(send_on_loop(c, payload, type), tcp::SendStatus::ok);
    const auto got = c.message(++n);
    ASSERT_TRUE(got) << "no echo of " << size << " bytes";
    EXPECT_EQ(got->first, type);
    EXPECT_EQ(got->second, payload) << size << " bytes";
  }
  EXPECT_TRUE(c.closes().empty());
}

TEST(WebSocketClient, SendsFromAnotherThreadKeepTheirOrder) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  Client c(to(site.address()));
  ASSERT_TRUE(c.wait_open());
  for (int i = 0; i < 100; ++i) {
    ASSERT_NE(c.ws().send("m" + std::to_string(i)), tcp::SendStatus::dropped);
  }
  ASSERT_TRUE(c.message(100));
  const auto got = c.messages();
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(got[static_cast<std::size_t>(i)].second, "m" + std::to_string(i));
}

TEST(WebSocketClient, WssThroughTheTlsFilter) {
  tls::testing::TempDir dir;
  const auto pki = tls::testing::make_test_pki(dir.path());
  auto server_tls = std::make_shared<const tls::TlsContext>(tls::TlsContext::server(
      {.certificate_chain_file = pki.server_chain, .private_key_file = pki.server_key}));
  auto client_tls =
      std::make_shared<const tls::TlsContext>(tls::TlsContext::client({.ca_file = pki.ca}));
  Seen seen;
  Site site(ws_options(), echo_handlers(seen), 1, tls::server_filter(server_tls));
  ClientOptions o = to(site.address());
  o.tcp.filter = tls::client_filter(client_tls, "localhost");
  Client c(std::move(o));
  ASSERT_TRUE(c.wait_open()) << (c.closes().empty() ? "" : c.closes().front().second);
  const std::string big(200'000, 'w');
  ASSERT_EQ(send_on_loop(c, "over tls", MessageType::text), tcp::SendStatus::ok);
  ASSERT_EQ(send_on_loop(c, big, MessageType::binary), tcp::SendStatus::ok);
  ASSERT_TRUE(c.message(2));
  EXPECT_EQ(c.messages()[0].second, "over tls");
  EXPECT_EQ(c.messages()[1].second, big);
}

TEST(WebSocketClient, PermessageDeflateIsAgreedAndUsedBothWays) {
  ServerOptions so = ws_options();
  so.deflate.enabled = true;
  Seen seen;
  Site site(so, echo_handlers(seen));
  ClientOptions o = to(site.address());
  o.request.offer_deflate = true;
  Client c(std::move(o));
  ASSERT_TRUE(c.wait_open());
  EXPECT_TRUE(c.loop().call([&] { return c.ws().compressed(); }));
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "line " + std::to_string(i % 50) + " of a repetitive text\n";
  ASSERT_EQ(send_on_loop(c, text, MessageType::text), tcp::SendStatus::ok);
  ASSERT_EQ(send_on_loop(c, "short", MessageType::text), tcp::SendStatus::ok);
  ASSERT_EQ(send_on_loop(c, text, MessageType::text), tcp::SendStatus::ok);
  ASSERT_TRUE(c.message(3));
  EXPECT_EQ(c.messages()[0].second, text);
  EXPECT_EQ(c.messages()[1].second, "short");
  EXPECT_EQ(c.messages()[2].second, text);
  // The compressed bytes on the wire are far fewer than the text (both directions compressed).
  const auto stats = site.ws().stats();
  EXPECT_EQ(stats.messages_in, 3u);
}

TEST(WebSocketClient, TheClientsCloseIsAnsweredAndBothEndsReportItsCode) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  Client c(to(site.address()));
  ASSERT_TRUE(c.wait_open());
  c.ws().close(4000, "done here");
  const auto closed = c.closed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->first, 4000) << closed->second;
  ASSERT_TRUE(eventually([&] { return !seen.closes().empty(); }));
  EXPECT_EQ(seen.closes().front().first, 4000);
  EXPECT_EQ(seen.closes().front().second, "done here");
  EXPECT_FALSE(c.ws().is_open());
  EXPECT_EQ(c.ws().send("too late"), tcp::SendStatus::dropped);
}

TEST(WebSocketClient, TheServersCloseIsAnsweredAndReportedWithItsCodeAndReason) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  Client c(to(site.address()));
  ASSERT_TRUE(c.wait_open());
  ASSERT_TRUE(eventually([&] { return seen.ids().size() == 1; }));
  site.ws().close(seen.ids().front(), 4001, "the server says");
  const auto closed = c.closed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->first, 4001);
  EXPECT_EQ(closed->second, "the server says");
  // The server saw our answer (its own code back), not a lost connection.
  ASSERT_TRUE(eventually([&] { return !seen.closes().empty(); }));
  EXPECT_EQ(seen.closes().front().first, 4001);
}

TEST(WebSocketClient, ARefusedHandshakeAndARefusedConnectAreReportedWith1006) {
  Seen seen;
  Site site(ws_options(), echo_handlers(seen));
  {
    Client c(to(site.address(), "/hello"));  // plain HTTP: 200, not 101
    const auto closed = c.closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->first, close_code::kAbnormal);
    EXPECT_NE(closed->second.find("answered 200"), std::string::npos) << closed->second;
    EXPECT_EQ(c.opened(), 0);
  }
  {
    // A port with no listener: a closed socket's port.
    net::SocketAddress nobody = net::SocketAddress::ipv4_loopback(0);
    {
      auto s = net::Socket::create(AF_INET, net::SocketType::tcp);
      s.bind(net::SocketAddress::ipv4_loopback(0));
      nobody = s.local_address();
    }
    Client c(to(nobody));
    const auto closed = c.closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->first, close_code::kAbnormal);
    EXPECT_NE(closed->second.find("connect"), std::string::npos) << closed->second;
  }
}

// --- against a hand-written server ---

// One accepted connection of a listener on 127.0.0.1, read and written with deadlines.
class RawServer {
 public:
  RawServer() : listener_(net::Socket::create(AF_INET, net::SocketType::tcp)) {
    listener_.bind(net::SocketAddress::ipv4_loopback(0));
    listener_.listen();
  }
  [[nodiscard]] net::SocketAddress address() const { return listener_.local_address(); }

  bool accept() {
    if ((net::wait_ready(listener_.fd(), POLLIN, harness::kDeadline) & POLLIN) == 0) return false;
    auto r = listener_.accept();
    if (r.status != net::IoStatus::ok) return false;
    peer_ = std::move(r.socket);
    buffer_.clear();
    return true;
  }
  // The request's head, or "" after the deadline.
  std::string head() {
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return {};
    }
    std::string h = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    return h;
  }
  std::string bytes(std::size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) return {};
    }
    std::string b = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return b;
  }
  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto r = peer_.write(bytes);
      if (r.ok()) {
        bytes.remove_prefix(r.bytes);
      } else if (r.status != net::IoStatus::would_block ||
                 (net::wait_ready(peer_.fd(), POLLOUT, harness::kDeadline) & POLLOUT) == 0) {
        return false;
      }
    }
    return true;
  }

 private:
  bool fill() {
    std::array<char, 4096> chunk{};
    for (;;) {
      const auto r = peer_.read(chunk);
      if (r.ok()) {
        buffer_.append(chunk.data(), r.bytes);
        return true;
      }
      if (r.status != net::IoStatus::would_block) return false;
      if ((net::wait_ready(peer_.fd(), POLLIN, harness::kDeadline) & POLLIN) == 0) return false;
    }
  }

  net::Socket listener_;
  net::Socket peer_{net::FileDescriptor{}};
  std::string buffer_;
};

std::string field(const std::string& head, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const std::size_t at = head.find(key);
  if (at == std::string::npos) return {};
  const std::size_t from = at + key.size();
  return head.substr(from, head.find("\r\n", from) - from);
}

std::string answer_101(const std::string& accept) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept + "\r\n\r\n";
}

TEST(WebSocketClient, AWrongAcceptValueFailsTheConnection) {
  RawServer server;
  Client c(to(server.address(), "/"));
  ASSERT_TRUE(server.accept());
  const std::string head = server.head();
  ASSERT_TRUE(is_valid_key(field(head, "Sec-WebSocket-Key"))) << head;
  // The accept value of another key (the RFC's sample): a replayed or cached answer.
  ASSERT_TRUE(server.write(answer_101(accept_key("dGhlIHNhbXBsZSBub25jZQ=="))));
  const auto closed = c.closed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->first, close_code::kAbnormal);
  EXPECT_NE(closed->second.find("Sec-WebSocket-Accept"), std::string::npos) << closed->second;
  EXPECT_EQ(c.opened(), 0);
}

TEST(WebSocketClient, EachConnectionHasAFreshKeyAndEachFrameAFreshMask) {
  RawServer server;
  std::set<std::string> keys;
  for (int connection = 0; connection < 2; ++connection) {
    Client c(to(server.address(), "/chat"));
    ASSERT_TRUE(server.accept());
    const std::string head = server.head();
    ASSERT_EQ(head.rfind("GET /chat HTTP/1.1\r\n", 0), 0u) << head;
    EXPECT_EQ(field(head, "Sec-WebSocket-Version"), "13");
    const std::string key = field(head, "Sec-WebSocket-Key");
    ASSERT_TRUE(is_valid_key(key)) << head;
    keys.insert(key);
    ASSERT_TRUE(server.write(answer_101(accept_key(key))));
    ASSERT_TRUE(c.wait_open());
    // Eight frames of the same payload: masked, each with its own key, unmasking to the payload.
    std::set<std::string> masks;
    for (int i = 0; i < 8; ++i) {
      ASSERT_EQ(send_on_loop(c, "same", MessageType::text), tcp::SendStatus::ok);
      const std::string frame = server.bytes(2 + 4 + 4);
      ASSERT_EQ(frame.size(), 10u);
      EXPECT_EQ(static_cast<std::uint8_t>(frame[0]), 0x81);      // FIN, text
      EXPECT_EQ(static_cast<std::uint8_t>(frame[1]), 0x80 | 4);  // masked, 4 bytes
      MaskKey mask{};
      for (std::size_t b = 0; b < 4; ++b)
        mask[b] = static_cast<std::uint8_t>(frame[2 + b]);
      std::string payload = frame.substr(6);
      apply_mask(payload.data(), payload.size(), mask, 0);
      EXPECT_EQ(payload, "same");
      masks.insert(frame.substr(2, 4));
    }
    EXPECT_EQ(masks.size(), 8u) << "a masking key was used twice";
  }
  EXPECT_EQ(keys.size(), 2u) << "the same Sec-WebSocket-Key twice";
}

}  // namespace
}  // namespace avant::websocket
