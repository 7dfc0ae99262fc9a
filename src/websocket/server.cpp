// server.cpp — WebSocketServer: the handshake on an HTTP route, each loop's sessions, and the
// operations that reach them from any thread (send by id, close by id, broadcast).
#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <avant/reactor/log.hpp>
#include <avant/tcp/connection_id.hpp>
#include <avant/websocket/server.hpp>

#include "server_shared.hpp"

namespace avant::websocket {

namespace detail {

void LoopSessions::add(Session& session) {
  if (thread == std::thread::id{}) thread = std::this_thread::get_id();
  ++count;
  if (walking_ > 0) {
    arriving_.push_back(&session);
    return;
  }
  by_id_.insert(&session);
}

void LoopSessions::remove(Session& session) {
  --count;
  if (session.extra_) {
    for (const std::string& group : session.extra_->groups) {
      if (const auto it = groups.find(group); it != groups.end()) {
        it->second.erase(&session);
        if (it->second.empty()) groups.erase(it);
      }
    }
    session.extra_->groups.clear();
  }
  if (walking_ == 0) {
    by_id_.erase(session.id());
  } else if (std::erase(arriving_, &session) == 0) {
    leaving_.push_back(session.shared_from_this());
  }
}

Session* LoopSessions::find(std::uint64_t id) const {
  Session* s = by_id_.find(id);
  if (s != nullptr) return s->up_ ? s : nullptr;
  for (Session* a : arriving_) {
    if (a->id() == id) return a;
  }
  return nullptr;
}

void LoopSessions::settle() {
  for (Session* s : arriving_)
    by_id_.insert(s);
  arriving_.clear();
  // The last reference to a session may be the last to the server's state, this table's owner:
  // nothing here is touched once `gone` is.
  std::vector<std::shared_ptr<Session>> gone;
  gone.swap(leaving_);
  for (const auto& s : gone)
    by_id_.erase(s->id());
}

void Shared::sweep_started(reactor::EventLoop& loop, LoopSessions& sessions) {
  if (sessions.sweeping) return;
  sessions.sweeping = true;
  sessions.sweep = loop.run_every(tick, [weak = weak_from_this(), &loop, list = &sessions] {
    const auto self = weak.lock();
    if (!self) return;
    const reactor::TimePoint now = loop.poll_time();
    // A session may end inside its tick (a deadline): the walk allows it.
    list->for_each([&](Session& s) { s.tick(now, self->tick); });
  });
}

void Shared::sweep_stopped(reactor::EventLoop& loop, LoopSessions& sessions) {
  if (!sessions.sweeping) return;
  sessions.sweeping = false;
  loop.cancel(sessions.sweep);
}

}  // namespace detail

WebSocketServer::WebSocketServer(thread::EventLoopThreadPool& pool, ServerOptions options,
                                 Handlers handlers)
    : shared_(std::make_shared<detail::Shared>(pool, std::move(options), std::move(handlers))) {}

WebSocketServer::~WebSocketServer() = default;

const ServerOptions& WebSocketServer::options() const noexcept {
  return shared_->options;
}

void WebSocketServer::accept(http::Request& request, http::Responder responder) {
  const ServerOptions& o = shared_->options;
  Handshake handshake = check_upgrade(request, o.handshake);
  if (!wants_websocket(request)) {
    // A plain request to a WebSocket route (a browser's address bar): told what to speak.
    handshake.status = 426;
    handshake.reason = "this resource speaks WebSocket only";
  }
  if (handshake.status != 101) {
    shared_->refused.fetch_add(1, std::memory_order_relaxed);
    reactor::log::info("websocket", "upgrade of " + request.target + " refused with " +
                                        std::to_string(handshake.status) + " (" + handshake.reason +
                                        ")");
    http::Response refusal = handshake_response(handshake);
    if (handshake.status == 426) {
      // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to.
      refusal.headers.set("Upgrade", "websocket");
    }
    responder.send(std::move(refusal));
    return;
  }
  http::Response head = handshake_response(handshake);
  std::optional<Negotiated> deflate;
  if (o.deflate.enabled) {
    std::string offers;
    for (const auto& [name, value] : request.headers) {
      if (!http::iequals(name, "Sec-WebSocket-Extensions")) continue;
      if (!offers.empty()) offers += ", ";
      offers += value;
    }
    if (!offers.empty()) deflate = negotiate_deflate(offers, o.deflate);
    if (deflate) head.headers.add("Sec-WebSocket-Extensions", deflate->response);
  }
  auto session =
      std::make_shared<Session>(shared_, std::string(request.path()), handshake.subprotocol,
                                deflate ? &deflate->params : nullptr);
  shared_->accepted.fetch_add(1, std::memory_order_relaxed);
  responder.upgrade(std::move(head), std::move(session));
}

http::Handler WebSocketServer::handler() {
  return [this](http::Request& request, http::Responder responder) {
    accept(request, std::move(responder));
  };
}

tcp::SendStatus WebSocketServer::send(std::uint64_t id, std::string_view payload,
                                      MessageType type) {
  reactor::EventLoop& loop = shared_->loop_at(tcp::split_connection_id(id).worker);
  if (loop.is_in_loop_thread()) {
    Session* s = shared_->sessions_on(loop).find(id);
    return s == nullptr ? tcp::SendStatus::dropped : s->send_in_loop(payload, type);
  }
  // Whether the session is still there is known on its loop only: queued, and ok.
  loop.queue_in_loop([shared = shared_, &loop, id, bytes = std::string(payload), type] {
    if (Session* s = shared->sessions_on(loop).find(id)) (void)s->send_in_loop(bytes, type);
  });
  return tcp::SendStatus::ok;
}

void WebSocketServer::close(std::uint64_t id, std::uint16_t code, std::string_view reason) {
  reactor::EventLoop& loop = shared_->loop_at(tcp::split_connection_id(id).worker);
  loop.run_in_loop([shared = shared_, &loop, id, code, text = std::string(reason)] {
    if (Session* s = shared->sessions_on(loop).find(id)) s->close_in_loop(code, text);
  });
}

void WebSocketServer::broadcast(std::string_view payload, MessageType type,
                                std::function<void(std::size_t delivered)> done) {
  broadcast_impl({}, payload, type, std::move(done));
}

void WebSocketServer::broadcast_to(std::string_view group, std::string_view payload,
                                   MessageType type,
                                   std::function<void(std::size_t delivered)> done) {
  broadcast_impl(std::string(group), payload, type, std::move(done));
}

void WebSocketServer::broadcast_impl(std::string group, std::string_view payload, MessageType type,
                                     std::function<void(std::size_t delivered)> done) {
  // Framed once, uncompressed (valid on every session, with or without permessage-deflate), and
  // shared by the loops' tasks.
  struct Job {
    std::string frame;
    std::string group;
    std::function<void(std::size_t)> done;
    std::atomic<std::size_t> delivered{0};
    std::atomic<std::size_t> loops_left{0};
  };
  auto job = std::make_shared<Job>();
  FrameHeader h;
  h.opcode = type == MessageType::text ? Opcode::text : Opcode::binary;
  h.length = payload.size();
  append_frame(job->frame, h, payload);
  job->group = std::move(group);
  job->done = std::move(done);
  const auto& workers = shared_->pool.loops();
  const std::size_t n = workers.empty() ? 1 : workers.size();
  job->loops_left = n;
  for (std::size_t i = 0; i < n; ++i) {
    reactor::EventLoop& loop = shared_->loop_at(i);
    // Always queued, even to the calling loop: a handler that broadcasts is not re-entered.
    loop.queue_in_loop([shared = shared_, job, &loop] {
      detail::LoopSessions& sessions = shared->sessions_on(loop);
      std::size_t delivered = 0;
      const auto send_to = [&](Session* s) {
        if (s->send_frame(job->frame) != tcp::SendStatus::dropped) ++delivered;
      };
      if (job->group.empty()) {
        sessions.for_each([&](Session& s) { send_to(&s); });  // a slow consumer's close may end one
      } else if (const auto it = sessions.groups.find(job->group); it != sessions.groups.end()) {
        // A copy: a send may end a session, which leaves the group.
        const std::vector<Session*> members(it->second.begin(), it->second.end());
        for (Session* s : members)
          send_to(s);
      }
      job->delivered.fetch_add(delivered, std::memory_order_relaxed);
      if (job->loops_left.fetch_sub(1, std::memory_order_acq_rel) == 1 && job->done) {
        shared->pool.base().queue_in_loop(
            [job] { job->done(job->delivered.load(std::memory_order_relaxed)); });
      }
    });
  }
}

WebSocketServer::Stats WebSocketServer::stats() const noexcept {
  const detail::Shared& s = *shared_;
  Stats out;
  out.accepted = s.accepted.load(std::memory_order_relaxed);
  out.refused = s.refused.load(std::memory_order_relaxed);
  out.open = s.open.load(std::memory_order_relaxed);
  for (const auto& loop : s.loops) {
    out.messages_in += loop->messages_in.get();
    out.messages_out += loop->messages_out.get();
  }
  out.dropped = s.dropped.load(std::memory_order_relaxed);
  out.slow_closed = s.slow_closed.load(std::memory_order_relaxed);
  out.protocol_errors = s.protocol_errors.load(std::memory_order_relaxed);
  out.ping_timeouts = s.ping_timeouts.load(std::memory_order_relaxed);
  return out;
}

}  // namespace avant::websocket
