// connection_filter.hpp — a layer between a connection's socket and its application (TLS).
//
//   socket ──wire bytes──> filter.receive() ──application bytes──> message callback
//   socket <──wire bytes── filter.take_output() <── filter.send() <── TcpConnection::send()
//
// A TcpConnection given a filter (TcpServerOptions::filter makes one per connection) passes every
// byte through it, both ways, and the application sees only the other side: plaintext. The
// interface lives here, in chapter 02, so that module tcp never includes module tls (chapter 04),
// which implements it. A filter is sans-IO: it never touches the socket.
//
// With a filter, the connection reports "up" only once ready() (the handshake is done), and
// "down" only if it reported "up"; a handshake that does not finish within
// ConnectionOptions::handshake_timeout closes the connection. A filter error closes the
// connection with one log line; the other connections do not notice.
//
// Threads: the owning connection's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace avant::net {
class Buffer;
}

namespace avant::tcp {

class ConnectionFilter {
 public:
  enum class Status : std::uint8_t {
    ok,      // nothing wrong
    closed,  // the peer said goodbye (TLS close_notify): no more application bytes will come
    error,   // unusable: error() says why
  };

  ConnectionFilter() = default;
  virtual ~ConnectionFilter() = default;
  ConnectionFilter(const ConnectionFilter&) = delete;
  ConnectionFilter& operator=(const ConnectionFilter&) = delete;
  ConnectionFilter(ConnectionFilter&&) = delete;
  ConnectionFilter& operator=(ConnectionFilter&&) = delete;

  // Wire bytes from the peer, all of them; application bytes are appended to `app`.
  virtual Status receive(std::string_view wire, net::Buffer& app) = 0;
  // Application bytes for the peer (held by the filter until it is ready()).
  virtual Status send(std::string_view app) = 0;
  // Our side is done: queue the protocol's goodbye (TLS close_notify).
  virtual void close() = 0;
  // Appends the wire bytes the calls above produced (handshake, records, alerts) to `wire`.
  virtual std::size_t take_output(std::string& wire) = 0;
  // The handshake is done: application bytes flow.
  [[nodiscard]] virtual bool ready() const = 0;
  // Why the last call failed.
  [[nodiscard]] virtual std::string error() const = 0;
};

// Makes the filter of one new connection; may throw (the connection is then refused and logged).
using FilterFactory = std::function<std::unique_ptr<ConnectionFilter>()>;

}  // namespace avant::tcp
