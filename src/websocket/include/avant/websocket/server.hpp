// server.hpp — WebSocket sessions on the HTTP server (RFC 6455, the server's side).
//
//   HttpServer ── a route's handler: ws.accept(request, responder)
//        │ the handshake checked (400/403/426 refused); permessage-deflate negotiated
//        └ Responder::upgrade(101, session) ──> the connection's protocol is now a Session
//
//   Session (one per connection, on its loop)          WebSocketServer (one per endpoint)
//     frames in ── MessageParser ── handlers.message     send(id, ...), broadcast(...), close(id)
//     send()/close() from any thread                      from any thread, to every loop
//     pings when idle, closes when no pong comes          the sessions of each loop, by id and
//     the close handshake, with a deadline                by group (a loop's own, no lock)
//
// Any route may accept: the rest of the site keeps being served on the same port, with TLS when
// the HttpServer has it (wss), and no TLS code here.
//
// Closing. close(code, reason) sends a close frame and waits close_timeout for the peer's; the
// peer's close is answered with its own code. Then the server ends the TCP connection (it closes
// first, as RFC 6455 §7.1.1 asks) and waits close_timeout more for the peer's FIN. A frame the
// parser refuses is answered with a close frame with its code (1002, 1007, 1009) and our FIN at
// once (nothing more is read from such a peer), then the same wait. The
// close handler runs once, when the connection is gone, with the peer's code, or 1006 when the
// connection was lost without a close frame from the peer.
//
// Keepalive. A session silent for ping_interval (nothing read or written) gets a ping; no pong
// within another ping_interval and the connection is closed (a half-open TCP connection would
// otherwise hold its memory for ever). Each loop checks its sessions a few times per interval
// with one timer, armed only while the loop holds a session.
//
// Slow consumers. What a session has queued is buffered() (bytes not yet taken by the kernel).
// A message that would take it past max_buffered (with something already queued: one message
// larger than the limit still goes out on an empty queue) is, by SlowConsumer policy, dropped (send()
// answers `dropped`, counted) or ends the session with close code slow_consumer_code (1008 or
// 1013). Pongs are not queued past it either (a ping flood from a peer that does not read costs
// nothing). send() answers `backpressure` once the connection is past its high-water mark.
//
// Batching. The answers to one read go out together: what a session sends while its message
// handler runs (and its pongs and close frames) is collected and handed to the connection in one
// write once the frames of that read are handled, so a peer that pipelines costs a write per
// read, not per message. Such a send() answers `ok` or `dropped`; the limits above count the
// collected bytes too.
//
// Stopping. HttpServer::stop() asks every session to drain: it sends 1001 (going away) and the
// close handshake runs; what is still open after the server's drain_timeout is closed.
//
// Threads: WebSocketServer's methods and Session's send()/close()/buffered()/id() from any
// thread; the handlers run on the session's loop (several loops at once); a Session's other
// methods on its loop only. The WebSocketServer must outlive the HTTP server's start() to stop()
// and is used between them (broadcasts reach the pool's loops).
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <avant/http/http_server.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/websocket/deflate.hpp>
#include <avant/websocket/frame.hpp>
#include <avant/websocket/handshake.hpp>
#include <avant/websocket/message_parser.hpp>

namespace avant::websocket {

enum class MessageType : std::uint8_t { text, binary };
// What a message that would pass max_buffered does (see the header comment).
enum class SlowConsumer : std::uint8_t { drop, close };

struct ServerOptions {
  MessageLimits limits{};        // max_message: 1009 above it (after inflating, too)
  HandshakeOptions handshake{};  // origins, subprotocols
  DeflateOptions deflate{};      // permessage-deflate; off unless enabled
  std::chrono::milliseconds ping_interval{30000};  // 0: no pings
  std::chrono::milliseconds close_timeout{5000};   // for the peer's close frame, then its FIN
  std::size_t max_buffered = 4u << 20;             // a session's queued bytes (see above)
  SlowConsumer slow_consumer = SlowConsumer::close;
  std::uint16_t slow_consumer_code = close_code::kTryAgainLater;
};

class Session;
class WebSocketServer;

// Called on the session's loop. `payload` is valid for the length of the call.
struct Handlers {
  std::function<void(Session& session)> open;
  std::function<void(Session& session, std::string_view payload, MessageType type)> message;
  // Once, when the connection is gone (see "Closing").
  std::function<void(Session& session, std::uint16_t code, std::string_view reason)> close;
};

namespace detail {
struct Shared;
struct LoopSessions;
}  // namespace detail

// One WebSocket connection, server side: the connection's protocol (tcp/protocol.hpp).
class Session final : public tcp::Protocol, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<detail::Shared> shared, std::string path, std::string subprotocol,
          const DeflateParams* deflate);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;

  // --- any thread ---
  // Queues one message (see "Slow consumers"); `dropped` once the session is closing or gone.
  // Off the loop the payload is copied and sent from the loop.
  tcp::SendStatus send(std::string_view payload, MessageType type = MessageType::text);
  // Starts the close handshake (see "Closing"). Does nothing once it has begun.
  void close(std::uint16_t code = close_code::kNormal, std::string_view reason = {});
  // The connection's id (tcp/connection_id.hpp): the key of WebSocketServer::send().
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  // Output bytes queued and not yet taken by the kernel.
  [[nodiscard]] std::size_t buffered() const noexcept;
  // Messages can still be sent (no close frame sent or received yet).
  [[nodiscard]] bool is_open() const noexcept {
    return state_.load(std::memory_order_acquire) == State::open;
  }
  // Set at the handshake: the request's path, the subprotocol chosen (or empty), whether
  // permessage-deflate was agreed.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& subprotocol() const noexcept {
    // extra_ is then made by the constructor and never replaced: readable from any thread.
    return has_subprotocol_ ? extra_->subprotocol : no_text();
  }
  [[nodiscard]] bool compressed() const noexcept { return deflate_ != nullptr; }

  // --- the session's loop ---
  // The peer's address (valid while the session is up).
  [[nodiscard]] const net::SocketAddress& peer_address() const noexcept;
  // Groups this session belongs to, for WebSocketServer::broadcast(group, ...). A session
  // leaves them all when it ends.
  void join(const std::string& group);
  void leave(const std::string& group);
  // The application's own state for this session, made on first use (T default-constructible),
  // or replaced by emplace_context. Asking for another type than the one held throws
  // std::bad_any_cast.
  template <class T>
  T& context() {
    std::any& held = extra().context;
    if (!held.has_value()) held.emplace<T>();
    return std::any_cast<T&>(held);
  }
  template <class T, class... Args>
  T& emplace_context(Args&&... args) {
    return extra().context.emplace<T>(std::forward<Args>(args)...);
  }

  // tcp::Protocol (the connection's loop).
  void on_up(const tcp::TcpConnectionPtr& connection) override;
  void on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) override;
  void on_down(const tcp::TcpConnectionPtr& connection) override;
  void on_drain(const tcp::TcpConnectionPtr& connection) override;

 private:
  friend class WebSocketServer;
  friend struct detail::LoopSessions;
  friend struct detail::Shared;

  // open --close()--> closing --the peer's close--> closed
  //   └── the peer's close (answered), or a refused frame (close frame sent) ──┘
  // closed: our FIN follows the output; the peer's FIN awaited (close_timeout).
  enum class State : std::uint8_t { open, closing, closed };
  struct Compression;
  // What most sessions never use, or only at their end: out of line, made on first use (an
  // idle session is a connection per client, and each pointer's worth counts).
  struct Extra {
    std::string subprotocol;
    std::any context;
    std::vector<std::string> groups;
    std::string close_reason;                          // reported to the close handler
    std::uint16_t close_code = close_code::kAbnormal;  // likewise
  };
  // Made once, never replaced (subprotocol() reads it from any thread).
  Extra& extra() {
    if (!extra_) extra_ = std::make_unique<Extra>();
    return *extra_;
  }
  [[nodiscard]] std::uint16_t close_code() const noexcept {
    return extra_ ? extra_->close_code : close_code::kAbnormal;
  }
  // Its loop's sessions (found from the id; valid from on_up).
  [[nodiscard]] detail::LoopSessions& loop_sessions() const noexcept;
  // since_ is kept in milliseconds of the loop's clock, 32 bits (its intervals are far shorter
  // than the 49 days after which it wraps).
  static std::uint32_t stamp(reactor::TimePoint t) noexcept;
  [[nodiscard]] bool passed(reactor::TimePoint now, std::chrono::milliseconds wait) const noexcept;
  static const std::string& no_text() noexcept;

  // Loop thread.
  tcp::SendStatus send_in_loop(std::string_view payload, MessageType type);
  // An already framed message (a broadcast): the slow-consumer policy, then the bytes.
  tcp::SendStatus send_frame(std::string_view frame);
  [[nodiscard]] bool over_limit(std::size_t more);
  tcp::SendStatus slow(std::size_t size);
  void send_control(Opcode opcode, std::string_view payload);
  // Inside on_message every frame goes to the read's batch (one write for all the answers to one
  // read: a pipelining peer costs a syscall per read, not per message); out() is where a frame
  // goes now, flush_batch() hands the batch to the connection.
  void read_frames(net::Buffer& input);
  tcp::SendStatus out(std::string_view frame);
  void flush_batch();
  void close_in_loop(std::uint16_t code, std::string_view reason);
  MessageParser& parser();
  void deliver();
  void peer_closed();
  void refuse(std::uint16_t code, const std::string& reason);
  void end_tcp();
  // From the loop's sweep: pings, their deadline, the close deadline, idle memory.
  void tick(reactor::TimePoint now, std::chrono::milliseconds idle_after);

  // 136 bytes (an idle session is one per client: docs/websocket.md, "Idle memory"). Its loop's
  // sessions, and whether the caller runs on that loop, are found from the id.
  std::shared_ptr<detail::Shared> shared_;
  tcp::TcpConnection* connection_ = nullptr;  // the owner (it holds this session), from on_up
  std::weak_ptr<tcp::TcpConnection> weak_connection_;  // for the other threads
  std::uint64_t id_ = 0;                               // from on_up, never changed after
  // Made when bytes come; dropped by the sweep when the session is idle between messages (an
  // idle session holds none). Kept once it saw a close or an error.
  std::unique_ptr<MessageParser> parser_;
  std::unique_ptr<Compression> deflate_;  // null without permessage-deflate
  std::string path_;
  std::unique_ptr<Extra> extra_;
  std::uint32_t since_ = 0;  // stamp(): the ping sent (awaiting_pong_), or the close state began
  std::atomic<State> state_{State::open};
  const bool has_subprotocol_;  // set by the constructor only: read from any thread
  // The loop's alone.
  bool up_ : 1 = false;
  bool awaiting_pong_ : 1 = false;
  bool peer_close_seen_ : 1 = false;
  bool fin_sent_ : 1 = false;
  bool batching_ : 1 = false;  // inside on_message
};

class WebSocketServer {
 public:
  struct Stats {
    std::uint64_t accepted = 0;         // handshakes answered 101
    std::uint64_t refused = 0;          // handshakes answered 400/403/426
    std::uint64_t open = 0;             // sessions up now
    std::uint64_t messages_in = 0;      // messages handed to the handler
    std::uint64_t messages_out = 0;     // messages queued (a broadcast counts each session)
    std::uint64_t dropped = 0;          // messages dropped for a slow consumer
    std::uint64_t slow_closed = 0;      // sessions closed for a slow consumer
    std::uint64_t protocol_errors = 0;  // sessions closed for a refused frame (1002/1007/1009)
    std::uint64_t ping_timeouts = 0;    // sessions closed because no pong came
  };

  // `pool`: the loops of the HttpServer the sessions live on (HttpServer::pool()).
  WebSocketServer(thread::EventLoopThreadPool& pool, ServerOptions options, Handlers handlers);
  ~WebSocketServer();
  WebSocketServer(const WebSocketServer&) = delete;
  WebSocketServer& operator=(const WebSocketServer&) = delete;
  WebSocketServer(WebSocketServer&&) = delete;
  WebSocketServer& operator=(WebSocketServer&&) = delete;

  // The handler of a route that serves WebSocket (on the connection's loop): a valid upgrade
  // request is accepted (101, and the connection becomes a Session); anything else is refused
  // with 400, 403 or 426 and stays HTTP.
  void accept(http::Request& request, http::Responder responder);
  // accept() as an http::Handler, for a Router: router.get("/ws", ws.handler()).
  [[nodiscard]] http::Handler handler();

  // Any thread. A message to the session with this id; `dropped` when there is none (or it is
  // closing), otherwise as Session::send().
  tcp::SendStatus send(std::uint64_t id, std::string_view payload,
                       MessageType type = MessageType::text);
  // Any thread. Starts the close handshake of the session with this id, if it is there.
  void close(std::uint64_t id, std::uint16_t code = close_code::kNormal,
             std::string_view reason = {});
  // Any thread. One message to every open session (or every one in `group`), framed once; each
  // session gets it in the order of its other sends, under the slow-consumer policy. `done`, if
  // given, runs on the pool's base loop afterwards with the number of sessions it was queued to.
  void broadcast(std::string_view payload, MessageType type = MessageType::text,
                 std::function<void(std::size_t delivered)> done = {});
  void broadcast_to(std::string_view group, std::string_view payload,
                    MessageType type = MessageType::text,
                    std::function<void(std::size_t delivered)> done = {});

  [[nodiscard]] Stats stats() const noexcept;
  [[nodiscard]] const ServerOptions& options() const noexcept;

 private:
  void broadcast_impl(std::string group, std::string_view payload, MessageType type,
                      std::function<void(std::size_t delivered)> done);

  std::shared_ptr<detail::Shared> shared_;
};

}  // namespace avant::websocket
