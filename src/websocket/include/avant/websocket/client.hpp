// client.hpp — a WebSocket client on the runtime's TcpClient (RFC 6455, the client's side).
//
//   WebSocketClient ── TcpClient (connect, backoff, TLS filter) ── one Link per connection:
//     on up: GET with a fresh random key ──> the 101 checked (accept value, subprotocol,
//     extensions) ──> open handler ──> frames: every one masked with a fresh random key,
//     messages to the message handler, pings answered, the close handshake ──> close handler
//
// For tests, the load generator and command-line clients: ws over a plain connection, wss with
// tls::client_filter(context, "server name") as options.tcp.filter (no TLS code here).
//
// Masking. A client masks every frame with a key the page's script cannot predict (RFC 6455
// §10.3): the keys come from OpenSSL's generator, drawn 4 bytes at a time from a per-thread block
// of random bytes (one RAND_bytes call per 256 frames).
//
// Closing. close(code, reason) sends a close frame and waits close_timeout for the server's; the
// server's close is answered with its code. Then the client waits close_timeout for the server to
// end the TCP connection (the server closes first, §7.1.1) and ends it itself if it does not. A
// frame the parser refuses is answered with a close frame with its code and a FIN. The close
// handler runs once per connection that came up, when it is gone: with the server's code, 1005
// for a close frame without one, or 1006 (and the reason) when the connection was lost, the
// handshake failed or no close frame came. A connection attempt that fails (refused, timed out)
// is reported the same way: 1006 and the reason.
//
// Reconnecting. With options.tcp.backoff.retry (off by default here) the TcpClient reconnects
// after each connection ends, with its backoff; every connection makes its own handshake and has
// its own open and close.
//
// Threads: connect(), send(), close(), is_open(), buffered() from any thread; the handlers run on
// the loop; the constructor and the destructor on the loop's thread (the destructor force-closes a
// connection that is up: its close handler runs from the destructor).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/callbacks.hpp>
#include <avant/tcp/tcp_client.hpp>
#include <avant/websocket/deflate.hpp>
#include <avant/websocket/frame.hpp>
#include <avant/websocket/handshake.hpp>
#include <avant/websocket/message_parser.hpp>
#include <avant/websocket/server.hpp>

namespace avant::websocket {

class WebSocketClient;

struct ClientOptions {
  ClientOptions() { tcp.backoff.retry = false; }

  // The server's address, connect timeout, backoff (retry off unless set), output limits, and the
  // TLS filter for wss.
  tcp::TcpClientOptions tcp;
  // Host (empty: the server's address), path, Origin, subprotocols offered, permessage-deflate.
  UpgradeRequest request;
  MessageLimits limits;                // of a message from the server
  std::size_t max_answer = 16u << 10;  // bytes of the server's answer head
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds close_timeout{5000};
  std::size_t deflate_min_size = 64;  // shorter messages are sent uncompressed
  int deflate_level = 6;
};

struct ClientHandlers {
  // The handshake succeeded: messages can be sent.
  std::function<void(WebSocketClient&)> open;
  // A whole message (inflated, text checked as UTF-8); the view is valid during the call.
  std::function<void(WebSocketClient&, std::string_view payload, MessageType type)> message;
  // The connection is gone (see "Closing").
  std::function<void(WebSocketClient&, std::uint16_t code, const std::string& reason)> close;
};

class WebSocketClient {
 public:
  WebSocketClient(reactor::EventLoop& loop, ClientOptions options, ClientHandlers handlers);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;
  WebSocketClient(WebSocketClient&&) = delete;
  WebSocketClient& operator=(WebSocketClient&&) = delete;

  // Any thread: starts connecting (once).
  void connect();
  // Any thread: one message, masked (compressed when agreed and long enough). `dropped` unless
  // the connection is open (handshake done, no close frame sent or received); `backpressure` once
  // its output is past the high-water mark. Off the loop the payload is copied and sent from it.
  tcp::SendStatus send(std::string_view payload, MessageType type = MessageType::text);
  // Any thread: starts the close handshake (see "Closing"); does nothing unless open. With
  // retry on, the TcpClient reconnects afterwards: destroy the client to stop for good.
  void close(std::uint16_t code = close_code::kNormal, std::string_view reason = {});
  // Any thread.
  [[nodiscard]] bool is_open() const;
  [[nodiscard]] std::size_t buffered() const;
  // The loop's thread, after open: what the server agreed to.
  [[nodiscard]] const std::string& subprotocol() const noexcept { return subprotocol_; }
  [[nodiscard]] bool compressed() const noexcept { return compressed_; }
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return tcp_.loop(); }
  [[nodiscard]] const tcp::TcpClient& tcp() const noexcept { return tcp_; }

 private:
  class Link;
  friend class Link;

  void opened(const std::shared_ptr<Link>& link);
  void not_open(const Link& link);  // a close frame was sent or received
  void ended(const Link& link, std::uint16_t code, const std::string& reason);

  const ClientOptions options_;
  const ClientHandlers handlers_;
  std::string subprotocol_;  // loop thread
  bool compressed_ = false;  // loop thread
  mutable std::mutex mutex_;
  std::shared_ptr<Link> open_;  // mutex_: the connection while it is open
  // Last: destroyed first, while the handlers above still exist (its destructor ends the
  // connection and the close handler runs).
  tcp::TcpClient tcp_;
};

}  // namespace avant::websocket
