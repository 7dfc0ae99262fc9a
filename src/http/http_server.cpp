#include <utility>

#include <avant/http/http_server.hpp>

#include "http_session.hpp"

namespace avant::http {

namespace {

// Runs fn(session, exchange) on the exchange's loop: at once on that loop's thread, queued from
// any other. Does nothing once the connection is gone.
template <typename Fn>
void on_loop(const std::shared_ptr<detail::Exchange>& ex, Fn&& fn) {
  // On the loop thread (a handler answering at once, the common case) the session is reached
  // directly; the loop outlives the connections it serves.
  if (ex->loop != nullptr && ex->loop->is_in_loop_thread()) {
    if (auto session = ex->session.lock()) fn(*session, *ex);
    return;
  }
  const tcp::TcpConnectionPtr connection = ex->connection.lock();
  if (!connection) return;
  if (connection->loop().is_in_loop_thread()) {
    if (auto session = ex->session.lock()) fn(*session, *ex);
    return;
  }
  connection->loop().queue_in_loop([ex, connection, fn = std::forward<Fn>(fn)]() mutable {
    if (auto session = ex->session.lock()) fn(*session, *ex);
  });
}

}  // namespace

// --- Responder ---

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    release();
    exchange_ = std::move(other.exchange_);
    sent_ = other.sent_;
  }
  return *this;
}

namespace {

// A Responder dropped before its answer was whole: 500, or the end of a stream cut short. Apart
// from release() (and cold), so that the common case makes no frame for it.
[[gnu::cold]] void drop_unfinished(const std::shared_ptr<detail::Exchange>& ex) noexcept {
  try {
    if (!ex->answered.exchange(true)) {
      ex->finished.store(true, std::memory_order_release);
      on_loop(ex, [](Session& s, detail::Exchange& e) {
        s.answer(e, Response::text(500, "Internal Server Error\n"));
      });
    } else if (!ex->finished.exchange(true)) {
      on_loop(ex, [](Session& s, detail::Exchange& e) { s.abort(e); });
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while dropping an answer
  }
}

}  // namespace

void Responder::release() noexcept {
  if (!exchange_) return;
  const std::shared_ptr<detail::Exchange> ex = std::move(exchange_);
  // The common case, a handler that answered in full: nothing is left to do. Both flags only
  // ever turn true while a Responder holds the exchange (it is reset only once no one does).
  if (ex->answered.load(std::memory_order_acquire) && ex->finished.load(std::memory_order_acquire))
    return;
  drop_unfinished(ex);
}

void Responder::send(Response response) {
  if (!exchange_ || exchange_->answered.exchange(true)) return;
  exchange_->finished.store(true, std::memory_order_release);
  sent_ = true;  // whole: the destructor has nothing to check
  detail::Exchange& ex = *exchange_;
  if (ex.loop != nullptr && ex.loop->is_in_loop_thread()) {
    // The common case, a handler answering at once: no task, and the response is not moved again.
    if (auto session = ex.session.lock()) session->answer(ex, std::move(response));
    return;
  }
  on_loop(exchange_, [r = std::move(response)](Session& s, detail::Exchange& e) mutable {
    s.answer(e, std::move(r));
  });
}

void Responder::upgrade(Response head, tcp::ProtocolPtr next) {
  if (!exchange_ || exchange_->answered.exchange(true)) return;
  exchange_->finished.store(true, std::memory_order_release);
  sent_ = true;
  on_loop(exchange_,
          [r = std::move(head), n = std::move(next)](Session& s, detail::Exchange& e) mutable {
            s.upgrade(e, std::move(r), std::move(n));
          });
}

void Responder::start(Response head) {
  if (!exchange_ || exchange_->answered.exchange(true)) return;
  on_loop(exchange_, [r = std::move(head)](Session& s, detail::Exchange& e) mutable {
    s.start(e, std::move(r));
  });
}

tcp::SendStatus Responder::write(std::string_view bytes) {
  if (!exchange_ || exchange_->finished.load()) return tcp::SendStatus::dropped;
  const tcp::TcpConnectionPtr connection = exchange_->connection.lock();
  if (!connection || !connection->connected()) return tcp::SendStatus::dropped;
  if (connection->loop().is_in_loop_thread()) {
    auto session = exchange_->session.lock();
    return session ? session->write(*exchange_, bytes) : tcp::SendStatus::dropped;
  }
  // Off the loop the answer is an estimate: what the connection has queued.
  const bool full = connection->queued_output() >= connection->options().high_water_mark;
  on_loop(exchange_, [data = std::string(bytes), full](Session& s, detail::Exchange& e) {
    s.write_from_elsewhere(e, data, full);
  });
  return full ? tcp::SendStatus::backpressure : tcp::SendStatus::ok;
}

bool Responder::can_send_file() const {
  if (!exchange_) return false;
  const tcp::TcpConnectionPtr connection = exchange_->connection.lock();
  return connection && connection->filter() == nullptr;
}

tcp::SendStatus Responder::send_file(int file_fd, std::uint64_t& offset, std::uint64_t& remaining) {
  if (!exchange_ || exchange_->finished.load()) return tcp::SendStatus::dropped;
  const tcp::TcpConnectionPtr connection = exchange_->connection.lock();
  if (!connection) return tcp::SendStatus::dropped;
  connection->loop().assert_in_loop_thread();
  auto session = exchange_->session.lock();
  return session ? session->send_file(*exchange_, file_fd, offset, remaining)
                 : tcp::SendStatus::dropped;
}

void Responder::finish() {
  if (!exchange_ || exchange_->finished.exchange(true)) return;
  on_loop(exchange_, [](Session& s, detail::Exchange& e) { s.finish(e); });
}

void Responder::on_writable(std::function<void()> cb) {
  if (!exchange_) return;
  on_loop(exchange_, [cb = std::move(cb)](Session& s, detail::Exchange& e) mutable {
    s.set_writable_callback(e, std::move(cb));
  });
}

bool Responder::connected() const noexcept {
  if (!exchange_) return false;
  const tcp::TcpConnectionPtr connection = exchange_->connection.lock();
  return connection && connection->connected();
}

// --- HttpServer ---

HttpServer::HttpServer(reactor::EventLoop& base, const HttpOptions& options, Handler handler)
    : options_(options), shared_(std::make_shared<Shared>()), server_(base, options.server) {
  wire(std::move(handler));
}

HttpServer::HttpServer(thread::EventLoopThreadPool& pool, const HttpOptions& options,
                       Handler handler)
    : options_(options), shared_(std::make_shared<Shared>()), server_(pool, options.server) {
  wire(std::move(handler));
}

void HttpServer::wire(Handler handler) {
  const HttpOptions& options = options_;
  shared_->options = options;
  shared_->handler = std::move(handler);
  if (!options.server_header.empty())
    shared_->server_line = "Server: " + options.server_header + "\r\n";
  // Each connection's protocol is its Session: its events reach it by a virtual call.
  server_.set_protocol([shared = shared_](const tcp::TcpConnectionPtr& connection) {
    return std::make_shared<Session>(shared, *connection);
  });
}

HttpServer::~HttpServer() = default;

void HttpServer::start() {
  server_.start();
}

void HttpServer::stop(std::function<void()> stopped) {
  server_.stop(std::move(stopped));
}

HttpServer::Stats HttpServer::stats() const noexcept {
  Stats s;
  s.requests = shared_->requests.load(std::memory_order_relaxed);
  s.bad_requests = shared_->bad_requests.load(std::memory_order_relaxed);
  s.timeouts = shared_->timeouts.load(std::memory_order_relaxed);
  s.rests = shared_->rests.load(std::memory_order_relaxed);
  s.tcp = server_.stats();
  return s;
}

}  // namespace avant::http
