// site.hpp — chapter 06's test site: an HttpServer on a loop thread of its own whose /ws is a
// WebSocketServer and /hello plain HTTP (with TLS when given a filter), and echo handlers that
// record what they saw. Used by the server's and the client's tests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <avant/http/http_server.hpp>
#include <avant/http/router.hpp>
#include <avant/testing/harness.hpp>
#include <avant/websocket/server.hpp>

#include <gtest/gtest.h>

namespace avant::websocket::testing {

using namespace std::chrono_literals;

// What the handlers saw, from the loops' threads.
struct Seen {
  std::mutex mutex;
  std::vector<std::uint64_t> opened;
  std::vector<std::pair<std::uint16_t, std::string>> closed;

  std::vector<std::uint64_t> ids() {
    const std::lock_guard lock(mutex);
    return opened;
  }
  std::vector<std::pair<std::uint16_t, std::string>> closes() {
    const std::lock_guard lock(mutex);
    return closed;
  }
};

// Echo, with two commands: "join:G" joins group G, and the sessions are recorded in `seen`.
inline Handlers echo_handlers(Seen& seen) {
  return {.open =
              [&seen](Session& s) {
                const std::lock_guard lock(seen.mutex);
                seen.opened.push_back(s.id());
              },
          .message =
              [](Session& s, std::string_view payload, MessageType type) {
                if (payload.starts_with("join:")) {
                  s.join(std::string(payload.substr(5)));
                  (void)s.send("joined");
                  return;
                }
                (void)s.send(payload, type);
              },
          .close =
              [&seen](Session& /*s*/, std::uint16_t code, std::string_view reason) {
                const std::lock_guard lock(seen.mutex);
                seen.closed.emplace_back(code, std::string(reason));
              }};
}

inline ServerOptions ws_options() {
  ServerOptions o;
  o.limits.max_message = 1u << 20;
  return o;
}

// A site on a loop thread of its own: /ws is WebSocket, /hello plain HTTP, on one port.
class Site {
 public:
  Site(const ServerOptions& wo, Handlers handlers, std::size_t workers = 2,
       tcp::FilterFactory filter = {}) {
    http::HttpOptions ho;
    ho.server.workers = workers;
    ho.server.tcp.filter = std::move(filter);
    ho.server.drain_timeout = 5s;
    http_ = base_.call([&] {
      auto server = std::make_unique<http::HttpServer>(
          base_.loop(), ho, [this](http::Request& request, http::Responder responder) {
            router_(request, std::move(responder));
          });
      ws_ = std::make_unique<WebSocketServer>(server->pool(), wo, std::move(handlers));
      router_.get("/ws", ws_->handler());
      router_.get("/hello", [](http::Request&, http::Responder r) {
        r.send(http::Response::text(200, "hello"));
      });
      server->start();
      return server;
    });
  }
  ~Site() {
    try {
      base_.call([this] { http_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;
  Site(Site&&) = delete;
  Site& operator=(Site&&) = delete;

  [[nodiscard]] net::SocketAddress address() const { return http_->listen_address(); }
  WebSocketServer& ws() { return *ws_; }
  http::HttpServer& http() { return *http_; }
  void stop() {
    base_.call([this] { http_->stop(); });
  }

 private:
  harness::LoopThread base_;
  http::Router router_;
  std::unique_ptr<WebSocketServer> ws_;  // destroyed after the HTTP server (declared before)
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace avant::websocket::testing
