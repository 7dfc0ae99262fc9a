// http_server.hpp — an HTTP/1.1 server (plain or TLS) on the threaded TCP server.
//
//   bytes ──> RequestParser ──> Request ──> handler(request, responder)
//                                               │ answers now or later, from any thread
//   socket <── in request order <── Responder ──┘ (send, or start/write/finish to stream)
//
// Keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`) and pipelining: a
// client may send requests without waiting for answers; each is handed to the handler as soon as
// it is parsed, and the answers leave strictly in request order whichever finishes first (a later
// answer waits in memory, bounded, until the earlier ones are out). At most max_pipeline requests
// are read ahead of their answers; then the server stops reading from that client.
//
// Timeouts: header_timeout for a whole request head (slowloris; 408 and close), body_timeout
// between two reads of a body (408), keep_alive_timeout for an idle connection (closed quietly),
// send_timeout for an answer that makes no progress (closed), and max_requests_per_connection
// (the last answer says `Connection: close`).
//
// Bad requests get their status (400, 413, 414, 417, 431, 501, 505, see request_parser.hpp),
// `Connection: close`, one log line, and the connection closes after the answer; nobody else is
// affected.
//
// Stopping: stop() stops accepting, closes idle connections, lets requests in flight finish and
// their answers go out (with `Connection: close`), and force-closes what is left after
// server.drain_timeout.
//
// Threads: start(), stop() and the statistics from any thread; the handler runs on the loop that
// owns the connection (a worker thread when server.workers > 0, several at once).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <avant/http/request.hpp>
#include <avant/http/request_parser.hpp>
#include <avant/http/response.hpp>
#include <avant/tcp/tcp_connection.hpp>
#include <avant/thread/threaded_tcp_server.hpp>

namespace avant::http {

namespace detail {
struct Exchange;
}

struct HttpOptions {
  thread::ThreadedServerOptions server{};  // listener, worker_cnt, TLS (server.tcp.filter), drain
  ParserLimits limits{};
  std::chrono::milliseconds header_timeout{10000};      // one request's whole head (408)
  std::chrono::milliseconds body_timeout{30000};        // between two reads of a body (408)
  std::chrono::milliseconds keep_alive_timeout{75000};  // an idle connection is closed
  // An idle keep-alive connection that has asked more than one request keeps its Session
  // (parser, spare exchange) this long before it rests (a small Rest instead: see chapter 05): a
  // busy client's next request finds the Session ready and costs no new one. After the first
  // request, and with 0, a connection rests as soon as it is idle.
  std::chrono::milliseconds rest_after{1000};
  // An answer in production with no byte moving either way for this long (a client that stopped
  // reading, a handler that never answers): the connection is closed.
  std::chrono::milliseconds send_timeout{60000};
  std::size_t max_requests_per_connection = 1000;  // then `Connection: close`
  std::size_t max_pipeline = 32;                   // requests read ahead of their answers
  std::string server_header = "avant";             // the Server field; empty: none
};

// The answer to one request: a movable handle, usable from any thread. Answer exactly once,
// either whole with send(), or streamed with start(), write()... and finish(). A Responder
// dropped without an answer answers 500; one dropped in the middle of a stream closes the
// connection (the client must not take a truncated body for a whole one).
// Threads: every method from any thread; off the loop the work is queued to it. Handlers must be
// done with their Responders before the server is destroyed.
class Responder {
 public:
  Responder() = default;
  explicit Responder(std::shared_ptr<detail::Exchange> exchange) noexcept
      : exchange_(std::move(exchange)) {}
  ~Responder() {
    // A moved-from Responder, and one that answered with send(), only let go of the exchange (no
    // call); any other may owe an answer (release()).
    if (exchange_ && !sent_) release();
  }
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // The whole answer. Content-Length is set from the body (for HEAD, a Content-Length the
  // handler set is kept and the body left out).
  void send(Response response);
  // Takes the connection out of HTTP, for a request that asked to (Request::upgrade): answers
  // 101 Switching Protocols with `head`'s fields (its status and body are not used; `Connection:
  // Upgrade` is added) and, once every earlier answer of the pipeline is out, hands the
  // connection to `next` (tcp/protocol.hpp) with the bytes that followed the request. A request
  // that did not ask gets 500 instead, and one on a connection that closes after it (the server
  // stops, `Connection: close`, the connection's last request) 503; HTTP then goes on or ends as
  // it would have.
  void upgrade(Response head, tcp::ProtocolPtr next);
  // Starts a streamed answer: the status and headers now (with the body so far, if any), the
  // rest by write(). With a Content-Length header the stream must add up to it; without one it
  // is sent chunked (HTTP/1.1) or ended by closing the connection (HTTP/1.0).
  void start(Response head);
  // More of a streamed body. `backpressure`: the client is slow — stop producing until
  // on_writable() fires; `dropped`: the connection is gone, stop producing for good.
  tcp::SendStatus write(std::string_view bytes);
  // Ends a streamed answer.
  void finish();
  // Loop thread only. Whether send_file() can be used: the connection has no filter (TLS must
  // encrypt every byte itself, so a TLS answer reads the file and write()s it).
  [[nodiscard]] bool can_send_file() const;
  // Loop thread only, for a stream started with a Content-Length: hands the next part of a file
  // to the socket with sendfile(2), advancing `offset` and lowering `remaining` by what went.
  // `ok` with remaining == 0: done (call finish()); `backpressure`: wait for on_writable() and
  // call again; `dropped`: the connection is gone.
  tcp::SendStatus send_file(int file_fd, std::uint64_t& offset, std::uint64_t& remaining);
  // `cb` runs on the connection's loop when the output a backpressure answer waited on has been
  // written. Replaces an earlier callback.
  void on_writable(std::function<void()> cb);
  // Whether the connection is still there to answer to.
  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] explicit operator bool() const noexcept { return exchange_ != nullptr; }

 private:
  void release() noexcept;
  std::shared_ptr<detail::Exchange> exchange_;
  bool sent_ = false;  // send() or upgrade() answered whole through this Responder
};

// The handler: called on the connection's loop for each request, in order. `request` is valid
// for the length of the call (move out what an answer given later needs).
using Handler = std::function<void(Request& request, Responder responder)>;

class HttpServer {
 public:
  struct Stats {
    std::uint64_t requests = 0;      // complete requests handed to the handler
    std::uint64_t bad_requests = 0;  // refused by the parser (4xx/5xx and close)
    std::uint64_t timeouts = 0;      // 408 for a slow head or body
    std::uint64_t rests = 0;         // times an idle connection gave its Session up for a Rest
    tcp::TcpServer::Stats tcp{};
  };

  // Binds (throws std::system_error naming the call and address); starts no thread yet. Runs on
  // a pool of its own of options.server.workers loops.
  HttpServer(reactor::EventLoop& base, const HttpOptions& options, Handler handler);
  // The same on a pool it borrows, shared with the process's other listeners (see
  // thread::ThreadedTcpServer): the pool's owner starts it first and stops it last.
  HttpServer(thread::EventLoopThreadPool& pool, const HttpOptions& options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  // Any thread: starts the workers, then accepts.
  void start();
  // Any thread: see the header comment; `stopped` runs on the base loop at the end.
  void stop(std::function<void()> stopped = {});

  [[nodiscard]] const net::SocketAddress& listen_address() const noexcept {
    return server_.listen_address();
  }
  [[nodiscard]] std::size_t connection_count() const noexcept { return server_.connection_count(); }
  // Any thread: the open connection with this id — serving HTTP, or handed to another protocol
  // (a WebSocket session) — or nullptr once it is gone.
  [[nodiscard]] tcp::TcpConnectionPtr find(std::uint64_t id) const { return server_.find(id); }
  // The loops the connections live on (for what reaches them all, e.g. a WebSocket broadcast).
  [[nodiscard]] thread::EventLoopThreadPool& pool() const noexcept { return server_.pool(); }
  [[nodiscard]] Stats stats() const noexcept;
  [[nodiscard]] const HttpOptions& options() const noexcept { return options_; }

  // Shared with every connection's session (internal).
  // enable_shared_from_this: a resting connection keeps a plain pointer (Rest, http_session.hpp)
  // and makes its next Session a shared_ptr from it.
  struct Shared : std::enable_shared_from_this<Shared> {
    HttpOptions options;
    Handler handler;
    std::string server_line;  // "Server: avant\r\n", or empty
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> bad_requests{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> rests{0};
  };

 private:
  void wire(Handler handler);  // the connection callbacks, shared by both constructors

  const HttpOptions options_;
  std::shared_ptr<Shared> shared_;
  thread::ThreadedTcpServer server_;
};

}  // namespace avant::http
