// protocol.hpp — what reads and answers a connection: the layer above TCP.
//
//   TcpConnection ── holds ──> std::shared_ptr<Protocol>
//        │ bytes read (decrypted, with a filter)  ──> on_message(connection, input)
//        │ up / down / drained / high water       ──> on_up, on_down, on_write_complete, ...
//        └ switch_protocol(next): from now on `next` is called, with the bytes already read
//          but not consumed
//
// A protocol is one object. It is also the connection's typed state: an HTTP session, a WebSocket
// session, a length-prefixed protobuf reader each keep their parser and buffers in their own
// Protocol subclass, reached by a virtual call per event (no lookup, no cast). A protocol that
// keeps no per-connection state can serve many connections at once: CallbackProtocol, which
// TcpServer builds from its on_message/on_connection/... callbacks, is one object per server,
// shared by every connection (nothing copied per connection).
//
// Switching (TcpConnection::switch_protocol, the connection's loop thread): the old protocol gets
// no further call, not even on_down; it stays alive until the running callback has returned. The
// new one gets on_up, then on_message with the bytes the old one left in the input — after the
// old one's on_message has returned, when the switch happens inside it. With a filter (TLS) the
// input is the decrypted bytes: a switch does not touch the filter. The old protocol consumes
// what is its own before it switches, and does not touch the input afterwards.
//
// Threads: every call runs on the connection's loop thread, with a reference to the connection
// held. A protocol shared by connections on several loops is called from several threads at once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <avant/tcp/callbacks.hpp>

namespace avant::net {
class Buffer;
}

namespace avant::tcp {

class Protocol {
 public:
  Protocol() = default;
  virtual ~Protocol() = default;
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;
  Protocol(Protocol&&) = delete;
  Protocol& operator=(Protocol&&) = delete;

  // The connection is up (with a filter: its handshake is done), or was switched to this
  // protocol.
  virtual void on_up(const TcpConnectionPtr& connection);
  // Bytes arrived: consume what forms complete messages from `input`, leave the rest for later.
  virtual void on_message(const TcpConnectionPtr& connection, net::Buffer& input) = 0;
  // The connection went down (only after an on_up).
  virtual void on_down(const TcpConnectionPtr& connection);
  // Every queued output byte was handed to the kernel. Called only while the connection wants it
  // (TcpConnection::want_write_complete): each call costs a queued task.
  virtual void on_write_complete(const TcpConnectionPtr& connection);
  // The output crossed the high-water mark upwards; `queued` is the bytes it holds now.
  virtual void on_high_water(const TcpConnectionPtr& connection, std::size_t queued);
  // The server is stopping: finish what is in flight, then close. The default half-closes once
  // the queued output is written (TcpConnection::shutdown).
  virtual void on_drain(const TcpConnectionPtr& connection);
};

using ProtocolPtr = std::shared_ptr<Protocol>;
// Makes the protocol of one new connection, on the loop that owns it, before it comes up.
using ProtocolFactory = std::function<ProtocolPtr(const TcpConnectionPtr&)>;

// The protocol made of callbacks (TcpServer::on_message and friends): one object, shared by every
// connection it serves. An unset callback does nothing (an unset message callback drops the bytes,
// an unset drain callback shuts down).
class CallbackProtocol final : public Protocol {
 public:
  struct Callbacks {
    ConnectionCallback connection;  // up and down: connected() tells which
    MessageCallback message;
    WriteCompleteCallback write_complete;
    HighWaterCallback high_water;
    ConnectionCallback drain;
  };

  explicit CallbackProtocol(Callbacks callbacks) : callbacks_(std::move(callbacks)) {}
  // Whether a write-complete callback was given (the connection then asks for the calls).
  [[nodiscard]] bool wants_write_complete() const noexcept {
    return static_cast<bool>(callbacks_.write_complete);
  }

  void on_up(const TcpConnectionPtr& connection) override;
  void on_message(const TcpConnectionPtr& connection, net::Buffer& input) override;
  void on_down(const TcpConnectionPtr& connection) override;
  void on_write_complete(const TcpConnectionPtr& connection) override;
  void on_high_water(const TcpConnectionPtr& connection, std::size_t queued) override;
  void on_drain(const TcpConnectionPtr& connection) override;

 private:
  const Callbacks callbacks_;
};

}  // namespace avant::tcp
