// client.hpp — a client of Avant's ProtoPackages, over a TCP stream (plain or TLS), WebSocket
// (ws or wss) or UDP, in two styles:
//
//   // Callback style, on a loop the caller runs (the runtime's connector: tcp::TcpClient, and
//   // websocket::WebSocketClient for ws):
//   client::Client c(loop, endpoint, {.up = ..., .package = ..., .down = ...});
//   c.connect();  ... c.send(package) ...
//
//   // Blocking style, on a loop thread of its own:
//   client::BlockingClient c(endpoint);              // connected, or ClientError
//   c.send(package);
//   std::optional<ProtoPackage> p = c.receive(2s);   // the next package, or nothing in time
//
// On a stream each package is one frame (an 8-byte big-endian length, then the package: the
// original's format, docs/original-avant.md); on WebSocket one binary message; on UDP one
// datagram (chapter 08: a socket connected to the server, so only its datagrams are taken; no
// handshake, so the client is up at once; a datagram may be lost, and an answer not come: the
// caller's timeout says so; an ICMP "port unreachable" ends the client with the reason). What the server
// sends is read with the same rules the server applies: a frame longer than endpoint.max_frame
// ends the connection (before its body is kept), and so does a body that is not a ProtoPackage.
// Unlike the original's C++ client, nothing is hard-coded (address, port, buffer) and the
// receive buffer is bounded.
//
// Threads: see each class.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/tcp_connection.hpp>
#include <avant/thread/event_loop_thread.hpp>

namespace avant::client {

// Where the server is, and how to speak to it.
struct Endpoint {
  std::string host = "127.0.0.1";  // a name (resolved once, at connect) or an address
  std::uint16_t port = 20024;      // make run's [listener.proto]
  bool tls = false;
  std::string ca_file;                 // TLS: the roots to trust (PEM); empty: the system's store
  bool verify = true;                  // TLS: check the certificate against ca_file and server_name
  std::string server_name;             // TLS: SNI and the name checked; empty: host
  bool websocket = false;              // ws (wss with tls) instead of the stream
  std::string path = "/";              // WebSocket: the request target
  bool udp = false;                    // datagrams instead of the stream (make run: port 20025)
  std::uint64_t max_frame = 1u << 20;  // bytes of one package from the server
  std::chrono::milliseconds connect_timeout{5000};
};

// A connection that could not be made or was lost, with why ("connect: Connection refused").
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The host's first address (IPv4 or IPv6) with the port. Throws ClientError.
[[nodiscard]] net::SocketAddress resolve(const std::string& host, std::uint16_t port);

// Callback style. One connection attempt (no reconnect): `up` once it can send (after the TLS
// and WebSocket handshakes), `package` for each package from the server, `down` once with the
// reason when it ends or could not be made.
//
// Threads: constructor and destructor on the loop's thread (the destructor ends a connection that
// is up: `down` runs from it); connect(), send() and close() from any thread; handlers on the loop.
class Client {
 public:
  struct Handlers {
    std::function<void(Client&)> up;
    std::function<void(Client&, const ProtoPackage&)> package;
    std::function<void(Client&, const std::string& reason)> down;
  };

  // Resolves the host and reads the TLS roots: throws ClientError when either fails.
  Client(reactor::EventLoop& loop, Endpoint endpoint, Handlers handlers);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;

  // Starts the attempt (once).
  void connect();
  // One package: `dropped` unless up; `backpressure` once output is past the high-water mark.
  tcp::SendStatus send(const ProtoPackage& package);
  // Ends the connection after what was sent (WebSocket: the close handshake).
  void close();
  [[nodiscard]] const Endpoint& endpoint() const noexcept;

  class Transport;  // the stream's, WebSocket's or UDP's (client.cpp)

 private:
  std::unique_ptr<Transport> transport_;
};

// Blocking style, for tools and tests: the constructor connects (or throws ClientError), packages
// from the server wait in a queue until receive() takes them.
//
// Threads: every member from any thread except the client's own loop (it is private).
class BlockingClient {
 public:
  explicit BlockingClient(Endpoint endpoint);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;
  BlockingClient(BlockingClient&&) = delete;
  BlockingClient& operator=(BlockingClient&&) = delete;

  // Throws ClientError when the connection is down.
  void send(const ProtoPackage& package);
  template <class Message>
  void send(ProtoCmd cmd, const Message& message) {
    ProtoPackage package;
    package.set_cmd(cmd);
    message.SerializeToString(package.mutable_protocol());
    send(package);
  }
  // The next package from the server; nothing when `timeout` passes first. Throws ClientError
  // when the connection is down and nothing is left in the queue.
  [[nodiscard]] std::optional<ProtoPackage> receive(std::chrono::milliseconds timeout);
  // Sends, then waits for the next package. Throws ClientError when none comes within `timeout`.
  [[nodiscard]] ProtoPackage call(const ProtoPackage& package, std::chrono::milliseconds timeout);
  // Ends the connection after what was sent and waits for it to be down.
  void close();
  [[nodiscard]] bool is_up() const;
  // Why the connection is down (empty while it is up).
  [[nodiscard]] std::string down_reason() const;

 private:
  // Destroys the client on its loop and stops the loop thread (once).
  void shut() noexcept;

  thread::EventLoopThread thread_{"client"};
  reactor::EventLoop* loop_ = nullptr;
  std::unique_ptr<Client> client_;  // loop thread: made and destroyed there
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ProtoPackage> received_;  // mutex_
  bool up_ = false;                    // mutex_
  bool down_ = false;                  // mutex_
  std::string reason_;                 // mutex_
};

}  // namespace avant::client
