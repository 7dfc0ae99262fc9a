// session.cpp — one WebSocket connection, server side: frames in, messages to the handler,
// messages and control frames out, the close handshake, pings (server.hpp says what and why).
#include <string>
#include <thread>
#include <utility>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/websocket/server.hpp>
#include <avant/websocket/utf8.hpp>

#include "server_shared.hpp"

namespace avant::websocket {

namespace {

// Where a frame is built before it is handed to the connection (which copies only what the
// kernel does not take at once), and where a compressed message is inflated or deflated: one of
// each per thread, kept small between large messages.
constexpr std::size_t kKeptScratch = 64u << 10;

std::string& frame_scratch() {
  thread_local std::string s;
  return s;
}
// The read's batch (Session::read_frames): only the session whose read is being handled uses it,
// and a loop handles one read at a time.
std::string& batch_scratch() {
  thread_local std::string s;
  return s;
}
std::string& deflate_scratch() {
  thread_local std::string s;
  return s;
}
std::string& inflate_scratch() {
  thread_local std::string s;
  return s;
}
void trim(std::string& s) {
  s.clear();
  if (s.capacity() > kKeptScratch) s.shrink_to_fit();
}

Opcode opcode_of(MessageType type) noexcept {
  return type == MessageType::text ? Opcode::text : Opcode::binary;
}

void append_unmasked(std::string& out, Opcode opcode, bool rsv1, std::string_view payload) {
  FrameHeader h;
  h.fin = true;
  h.rsv1 = rsv1;
  h.opcode = opcode;
  h.masked = false;
  h.length = payload.size();
  append_frame(out, h, payload);
}

}  // namespace

// permessage-deflate as agreed at the handshake; the zlib state of its own only where context
// takeover asks for it, made at the first message that needs it.
struct Session::Compression {
  DeflateParams params;
  std::unique_ptr<Deflater> deflater;
  std::unique_ptr<Inflater> inflater;

  Deflater& out(int level) {
    if (params.server_no_context_takeover)
      return shared_deflater(params.server_max_window_bits, level);
    if (!deflater)
      deflater = std::make_unique<Deflater>(params.server_max_window_bits, true, level);
    return *deflater;
  }
  Inflater& in() {
    if (params.client_no_context_takeover) return shared_inflater();
    if (!inflater) inflater = std::make_unique<Inflater>(params.client_max_window_bits, true);
    return *inflater;
  }
};

Session::Session(std::shared_ptr<detail::Shared> shared, std::string path, std::string subprotocol,
                 const DeflateParams* deflate)
    : shared_(std::move(shared)), path_(std::move(path)), has_subprotocol_(!subprotocol.empty()) {
  if (has_subprotocol_) extra().subprotocol = std::move(subprotocol);
  if (deflate != nullptr) {
    deflate_ = std::make_unique<Compression>();
    deflate_->params = *deflate;
  }
}

detail::LoopSessions& Session::loop_sessions() const noexcept {
  return shared_->sessions_of(id_);
}

std::uint32_t Session::stamp(reactor::TimePoint t) noexcept {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  return static_cast<std::uint32_t>(ms.count());
}

bool Session::passed(reactor::TimePoint now, std::chrono::milliseconds wait) const noexcept {
  const std::uint32_t elapsed = stamp(now) - since_;  // modulo 2^32: right across a wrap
  return std::chrono::milliseconds(elapsed) >= wait;
}

MessageParser& Session::parser() {
  if (!parser_) {
    parser_ = std::make_unique<MessageParser>(Role::server, shared_->options.limits);
    parser_->set_compression(deflate_ != nullptr);
  }
  return *parser_;
}

Session::~Session() = default;

const std::string& Session::no_text() noexcept {
  static const std::string empty;
  return empty;
}

// --- the connection's events ---

void Session::on_up(const tcp::TcpConnectionPtr& connection) {
  connection_ = connection.get();
  weak_connection_ = connection;
  id_ = connection->id();
  up_ = true;
  reactor::EventLoop& loop = connection->loop();
  detail::LoopSessions& sessions = shared_->sessions_on(loop);
  sessions.add(*this);
  if (sessions.count == 1) shared_->sweep_started(loop, sessions);
  shared_->open.fetch_add(1, std::memory_order_relaxed);
  if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
    reactor::trace::emit(reactor::trace::Topic::http, "conn ", id_, ": websocket session on ",
                         path_, compressed() ? " (permessage-deflate)" : "");
  // The upgrade request's buffer goes now (an idle session holds none); frames sent with the
  // request keep theirs until they are read.
  connection->release_buffers();
  if (shared_->handlers.open) shared_->handlers.open(*this);
}

void Session::on_message(const tcp::TcpConnectionPtr& /*connection*/, net::Buffer& input) {
  batching_ = true;
  read_frames(input);
  batching_ = false;
  flush_batch();
}

void Session::read_frames(net::Buffer& input) {
  while (!input.empty()) {
    MessageParser& parser = this->parser();
    if (parser.closed() || parser.failed() || state_.load() == State::closed) {
      input.retrieve_all();  // nothing is read after a close frame or a refusal
      return;
    }
    const MessageParser::Result r = parser.feed({input.data(), input.readable_bytes()});
    // The event's payload may be a view of the input: it is handled before the bytes go.
    switch (r.event) {
      case MessageParser::Event::need_more:
        input.retrieve(r.consumed);
        return;
      case MessageParser::Event::message:
        deliver();
        break;
      case MessageParser::Event::ping:
        // Answered unless the peer is not reading (a ping flood then costs nothing).
        if (state_.load() == State::open && !over_limit(parser.payload().size() + 2))
          send_control(Opcode::pong, parser.payload());
        break;
      case MessageParser::Event::pong:
        awaiting_pong_ = false;
        break;
      case MessageParser::Event::close:
        peer_closed();
        break;
      case MessageParser::Event::error:
        refuse(parser.error().code, parser.error().reason);
        input.retrieve_all();
        return;
    }
    input.retrieve(r.consumed);
    if (!connection_->connected()) return;
  }
}

void Session::deliver() {
  const MessageParser& parser = *parser_;
  std::string_view payload = parser.payload();
  const MessageType type =
      parser.opcode() == Opcode::text ? MessageType::text : MessageType::binary;
  std::string& inflated = inflate_scratch();
  const bool compressed = parser.compressed();
  if (compressed) {
    switch (deflate_->in().inflate(payload, parser.limits().max_message, inflated)) {
      case Inflater::Status::ok:
        break;
      case Inflater::Status::too_big:
        trim(inflated);
        refuse(close_code::kMessageTooBig, "a compressed message inflates past the limit");
        return;
      case Inflater::Status::corrupt:
        trim(inflated);
        refuse(close_code::kInvalidPayload, "a compressed message is not valid DEFLATE");
        return;
    }
    // The parser could check only the compressed bytes: the text is checked here.
    if (type == MessageType::text && !is_valid_utf8(inflated)) {
      trim(inflated);
      refuse(close_code::kInvalidPayload, "a text message is not valid UTF-8");
      return;
    }
    payload = inflated;
  }
  loop_sessions().messages_in.add();
  if (shared_->handlers.message) shared_->handlers.message(*this, payload, type);
  if (compressed) trim(inflated);
}

void Session::peer_closed() {
  peer_close_seen_ = true;
  const std::uint16_t code = parser_->close_code();
  extra().close_code = code;
  extra_->close_reason = std::string(parser_->close_reason());
  if (state_.load() == State::open) {
    // Answered with its own code (none for a close without one, RFC 6455 §5.5.1).
    const std::string payload =
        code == close_code::kNoStatus ? std::string() : close_payload(code, {});
    send_control(Opcode::close, payload);
  }
  state_.store(State::closed, std::memory_order_release);
  end_tcp();
}

void Session::refuse(std::uint16_t code, const std::string& reason) {
  shared_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  reactor::log::warn("websocket", connection_->peer_address().to_string() + ": closing with " +
                                      std::to_string(code) + " (" + reason + ")");
  if (state_.load() == State::open) {
    // A close reason is at most 123 bytes; the log has the whole story.
    send_control(Opcode::close, close_payload(code, std::string_view(reason).substr(0, 120)));
  }
  if (!peer_close_seen_) {
    extra().close_code = close_code::kAbnormal;
    extra_->close_reason = reason;
  }
  state_.store(State::closed, std::memory_order_release);
  end_tcp();
}

void Session::end_tcp() {
  if (fin_sent_) return;
  fin_sent_ = true;
  flush_batch();  // the close frame (and what came before it) goes before the FIN
  since_ = stamp(connection_->loop().poll_time());
  connection_->shutdown();  // FIN after the output; the peer's FIN ends it (or the deadline)
}

void Session::on_down(const tcp::TcpConnectionPtr& connection) {
  if (!up_) return;
  up_ = false;
  state_.store(State::closed, std::memory_order_release);
  reactor::EventLoop& loop = connection->loop();
  detail::LoopSessions& sessions = shared_->sessions_on(loop);
  sessions.remove(*this);
  if (sessions.count == 0) shared_->sweep_stopped(loop, sessions);
  shared_->open.fetch_sub(1, std::memory_order_relaxed);
  if (shared_->handlers.close)
    shared_->handlers.close(*this, close_code(), extra_ ? extra_->close_reason : no_text());
  // The application's state may hold this session: the cycle ends here.
  if (extra_) extra_->context.reset();
}

void Session::on_drain(const tcp::TcpConnectionPtr& /*connection*/) {
  close_in_loop(close_code::kGoingAway, "server stopping");
}

// --- sending ---

// The methods callable from any thread reach the connection through the weak reference only: a
// session held by the application may outlive its connection (and the connection's loop).
std::size_t Session::buffered() const noexcept {
  const auto connection = weak_connection_.lock();
  return connection ? connection->queued_output() : 0;
}

bool Session::over_limit(std::size_t more) {
  // A message larger than the limit still goes out when nothing is queued: the limit bounds what
  // piles up behind a peer that does not read, not the size of one message (max_message does).
  const std::size_t queued =
      connection_->queued_output() + (batching_ ? batch_scratch().size() : 0);
  return queued > 0 && queued + more > shared_->options.max_buffered;
}

tcp::SendStatus Session::slow(std::size_t size) {
  if (shared_->options.slow_consumer == SlowConsumer::drop) {
    shared_->dropped.fetch_add(1, std::memory_order_relaxed);
    return tcp::SendStatus::dropped;
  }
  shared_->slow_closed.fetch_add(1, std::memory_order_relaxed);
  reactor::log::warn("websocket", connection_->peer_address().to_string() + ": " +
                                      std::to_string(connection_->queued_output()) +
                                      " bytes queued and " + std::to_string(size) +
                                      " more would pass max_buffered; closing");
  close_in_loop(shared_->options.slow_consumer_code, "too slow");
  return tcp::SendStatus::dropped;
}

tcp::SendStatus Session::send(std::string_view payload, MessageType type) {
  // On the session's own thread (a handler answering): no reference to take, up_ tells.
  if (std::this_thread::get_id() == loop_sessions().thread) {
    if (!up_) return tcp::SendStatus::dropped;
    return send_in_loop(payload, type);
  }
  const auto connection = weak_connection_.lock();
  if (!connection || state_.load(std::memory_order_acquire) != State::open)
    return tcp::SendStatus::dropped;
  if (connection->loop().is_in_loop_thread()) return send_in_loop(payload, type);
  // Sent from the loop, so that it never follows our close frame; the policy decides there.
  connection->loop().queue_in_loop([self = shared_from_this(), bytes = std::string(payload), type] {
    (void)self->send_in_loop(bytes, type);
  });
  return connection->queued_output() >= connection->options().high_water_mark
             ? tcp::SendStatus::backpressure
             : tcp::SendStatus::ok;
}

tcp::SendStatus Session::send_in_loop(std::string_view payload, MessageType type) {
  if (!up_ || state_.load() != State::open) return tcp::SendStatus::dropped;
  bool rsv1 = false;
  if (deflate_ && payload.size() >= shared_->options.deflate.min_size) {
    std::string& deflated = deflate_scratch();
    deflated.clear();
    deflate_->out(shared_->options.deflate.level).compress(payload, deflated);
    payload = deflated;
    rsv1 = true;
  }
  tcp::SendStatus status = tcp::SendStatus::ok;
  if (batching_) {
    // Framed straight into the batch (the header's size is known: at most 10 bytes).
    if (over_limit(payload.size() + 10)) {
      status = slow(payload.size() + 10);
    } else {
      loop_sessions().messages_out.add();
      append_unmasked(batch_scratch(), opcode_of(type), rsv1, payload);
    }
  } else {
    std::string& frame = frame_scratch();
    frame.clear();
    append_unmasked(frame, opcode_of(type), rsv1, payload);
    status = send_frame(frame);
    trim(frame);
  }
  if (rsv1) trim(deflate_scratch());
  return status;
}

tcp::SendStatus Session::send_frame(std::string_view frame) {
  if (!up_ || state_.load() != State::open) return tcp::SendStatus::dropped;
  if (over_limit(frame.size())) return slow(frame.size());
  loop_sessions().messages_out.add();
  return out(frame);
}

tcp::SendStatus Session::out(std::string_view frame) {
  if (!batching_) return connection_->send(frame);
  batch_scratch() += frame;
  return tcp::SendStatus::ok;
}

void Session::flush_batch() {
  std::string& batch = batch_scratch();
  if (batch.empty()) return;
  // A view: the connection copies only what the kernel does not take at once.
  (void)connection_->send(std::string_view(batch));
  trim(batch);
}

void Session::send_control(Opcode opcode, std::string_view payload) {
  if (batching_) {
    append_unmasked(batch_scratch(), opcode, false, payload.substr(0, kMaxControlPayload));
    return;
  }
  std::string& frame = frame_scratch();
  frame.clear();
  append_unmasked(frame, opcode, false, payload.substr(0, kMaxControlPayload));
  (void)connection_->send(std::string_view(frame));
  frame.clear();
}

void Session::close(std::uint16_t code, std::string_view reason) {
  const auto connection = weak_connection_.lock();
  if (!connection) return;
  if (connection->loop().is_in_loop_thread()) {
    close_in_loop(code, reason);
    return;
  }
  connection->loop().queue_in_loop([self = shared_from_this(), code, text = std::string(reason)] {
    self->close_in_loop(code, text);
  });
}

void Session::close_in_loop(std::uint16_t code, std::string_view reason) {
  if (!up_ || state_.load() != State::open) return;
  if (!is_valid_close_code(code)) code = close_code::kInternalError;
  send_control(Opcode::close, close_payload(code, reason.substr(0, 123)));
  state_.store(State::closing, std::memory_order_release);
  since_ = stamp(connection_->loop().poll_time());
  extra().close_code = code;  // until the peer's answer says otherwise
  extra_->close_reason = std::string(reason);
}

// --- the sweep ---

void Session::tick(reactor::TimePoint now, std::chrono::milliseconds idle_after) {
  const ServerOptions& o = shared_->options;
  const State state = state_.load();
  if (state != State::open || fin_sent_) {
    // The peer's close frame (closing) or its FIN (after ours) is overdue.
    if (passed(now, o.close_timeout)) {
      if (reactor::trace::on(reactor::trace::Topic::http)) [[unlikely]]
        reactor::trace::emit(reactor::trace::Topic::http, "conn ", id_,
                             ": the peer did not finish the close in time");
      connection_->force_close();
    }
    return;
  }
  const reactor::TimePoint last = connection_->last_activity();
  if (o.ping_interval.count() > 0) {
    if (awaiting_pong_ && passed(now, o.ping_interval)) {
      shared_->ping_timeouts.fetch_add(1, std::memory_order_relaxed);
      reactor::log::info("websocket", connection_->peer_address().to_string() +
                                          ": no pong within the ping interval; closing");
      connection_->force_close();
      return;
    }
    if (!awaiting_pong_ && now - last >= o.ping_interval) {
      send_control(Opcode::ping, {});
      awaiting_pong_ = true;
      since_ = stamp(now);
    }
  }
  // Idle: the parser's and the connection's buffers go (an idle session holds none), and the
  // zlib state of a context-takeover peer stays (it is the context).
  if (now - last >= idle_after && (!parser_ || parser_->at_rest())) {
    parser_.reset();
    connection_->release_buffers();
  }
}

void Session::join(const std::string& group) {
  if (!up_) return;
  auto& members = shared_->sessions_on(connection_->loop()).groups[group];
  if (members.insert(this).second) extra().groups.push_back(group);
}

void Session::leave(const std::string& group) {
  if (!up_) return;
  auto& groups = shared_->sessions_on(connection_->loop()).groups;
  if (const auto it = groups.find(group); it != groups.end()) {
    it->second.erase(this);
    if (it->second.empty()) groups.erase(it);
  }
  if (extra_) std::erase(extra_->groups, group);
}

const net::SocketAddress& Session::peer_address() const noexcept {
  return connection_->peer_address();
}

}  // namespace avant::websocket
