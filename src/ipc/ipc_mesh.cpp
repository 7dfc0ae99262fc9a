// ipc_mesh.cpp — the mesh, its links and their sessions (ipc_mesh.hpp).
#include <algorithm>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <avant/ipc/handshake.hpp>
#include <avant/ipc/ipc_mesh.hpp>
#include <avant/ipc/link_rules.hpp>
#include <avant/net/buffer.hpp>
#include <avant/proto/avant.pb.h>
#include <avant/reactor/log.hpp>
#include <avant/tcp/tcp_server.hpp>

namespace avant::ipc {

namespace {

constexpr std::string_view kLog = "ipc";

// Bytes of outbox frames handed to a link in one send().
constexpr std::size_t kFlushBatch = 64u << 10;

// A receiver acknowledges at least every this many packages (and on every heartbeat).
constexpr std::uint64_t kAckEvery = 256;

}  // namespace

std::string_view to_string(Delivery delivery) noexcept {
  switch (delivery) {
    case Delivery::queued:
      return "queued";
    case Delivery::rejected:
      return "rejected";
    case Delivery::unknown_peer:
      return "unknown peer";
    case Delivery::stopped:
      return "stopped";
  }
  return "?";
}

class IpcSession;

// One peer: its entry, its dialer, its link and its outbox.
struct Peer {
  std::string app_id;
  net::SocketAddress address;
  bool we_dial = false;  // its app_id is higher than ours

  // Loop thread.
  std::unique_ptr<tcp::TcpClient> client;
  tcp::TcpConnectionPtr link;
  IpcSession* session = nullptr;  // the link's
  bool link_dialed_by_us = false;
  // With acknowledgements: the packages of send() handed to the link and not yet confirmed, each
  // with its place among every package sent on the link (answers count there too, but are not
  // kept: an answer is sent once); what the peer confirmed so far.
  struct Unconfirmed {
    std::uint64_t place;
    std::string frame;
  };
  std::deque<Unconfirmed> unacked;
  std::uint64_t sent_on_link = 0;
  std::uint64_t acked_on_link = 0;

  // Any thread.
  std::atomic<bool> up{false};
  std::mutex mutex;
  std::deque<std::string> outbox;  // mutex: framed packages, oldest first
  std::size_t unacked_now = 0;     // mutex: unacked.size(), for stats() (read with the outbox)
  bool flush_posted = false;       // mutex: a flush task is queued on the loop
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> links{0};
  std::atomic<std::uint64_t> acknowledged{0};
  std::atomic<std::uint64_t> resent{0};
};

struct IpcMesh::Core : std::enable_shared_from_this<Core> {
  Core(reactor::EventLoop& l, MeshOptions o, std::shared_ptr<const proto::Dispatcher> d)
      : loop(l), options(std::move(o)), dispatcher(std::move(d)) {}

  void start();
  void stop_in_loop();
  void shut();  // the destructor's: everything closed at once, no callbacks

  Peer* find(std::string_view app_id) const noexcept {
    for (const auto& p : peers) {
      if (p->app_id == app_id) return p.get();
    }
    return nullptr;
  }
  [[nodiscard]] bool acks() const noexcept { return options.heartbeat.count() > 0; }
  Delivery enqueue(Peer& peer, std::string frame);
  void flush(Peer& peer);
  // Sends a package's frame on the peer's link, kept until acknowledged when acks() are on.
  void transmit(Peer& peer, std::string frame);
  // The peer read `received` packages on its link so far: false when that cannot be.
  bool acknowledged(Peer& peer, std::uint64_t received);
  // The link is gone: what it did not get confirmed goes back to the front of the outbox.
  void requeue(Peer& peer);
  // A session's handshake is done: false when its connection is a pair's second and is to close.
  bool link_up(IpcSession& session, const tcp::TcpConnectionPtr& connection);
  void link_down(IpcSession& session, const tcp::TcpConnectionPtr& connection);
  void tick();
  [[nodiscard]] tcp::ProtocolFactory factory(Role role, std::string dialed);

  reactor::EventLoop& loop;
  const MeshOptions options;
  const std::shared_ptr<const proto::Dispatcher> dispatcher;
  std::vector<std::unique_ptr<Peer>> peers;
  std::unique_ptr<tcp::TcpServer> server;
  std::function<void(const std::string&)> up_cb;
  std::function<void(const std::string&)> down_cb;
  reactor::TimerId ticker{};
  std::atomic<bool> stopping{false};
  bool quiet = false;  // loop thread: being destroyed, no callbacks

  std::atomic<std::uint64_t> links_up{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> handshake_timeouts{0};
  std::atomic<std::uint64_t> before_handshake{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> silent{0};
  std::atomic<std::uint64_t> bad_frames{0};
  std::atomic<std::uint64_t> packages{0};
  std::atomic<std::uint64_t> unknown{0};
  std::atomic<std::uint64_t> heartbeats_sent{0};
  std::atomic<std::uint64_t> heartbeats_received{0};
  std::atomic<std::uint64_t> open_connections{0};
};

// One IPC connection, accepted or dialed: the handshake, then packages to the dispatcher. It is
// its own Context for the handlers.
class IpcSession final : public tcp::Protocol, public proto::Context {
 public:
  IpcSession(std::shared_ptr<IpcMesh::Core> core, Role role, std::string dialed)
      : Context(&core->dispatcher->directory()),
        core_(std::move(core)),
        handshake_(role, core_->options.app_id, core_->options.mesh, std::move(dialed)),
        decoder_(proto::FrameLimits{core_->options.max_frame}) {}

  void on_up(const tcp::TcpConnectionPtr& connection) override {
    connection_ = connection.get();
    core_->open_connections.fetch_add(1, std::memory_order_relaxed);
    counted_ = true;
    last_read_ = last_sent_ = core_->loop.poll_time();
    if (core_->stopping.load()) return connection->force_close();
    if (std::string hello = handshake_.start(); !hello.empty()) write(std::move(hello));
    // The connection owns this session (an IPC connection never switches protocol): while it
    // lives, so does `this`.
    std::weak_ptr<tcp::TcpConnection> weak = connection;
    timer_ = core_->loop.run_after(core_->options.handshake_timeout, [this, weak] {
      if (auto c = weak.lock()) handshake_expired(*c);
    });
  }

  void on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) override {
    last_read_ = core_->loop.poll_time();
    // What this read makes (answers, the handshake's reply, outbox frames, acknowledgements)
    // leaves in one write when the read is handled, as chapter 07's stream does.
    batching_ = true;
    read_frames(connection, input);
    batching_ = false;
    if (!closing_ && peer_ != nullptr && core_->acks() && received_ - acked_sent_ >= kAckEvery) {
      heartbeat();
    }
    if (!batch_.empty()) {
      std::string out;
      out.swap(batch_);
      write(std::move(out));
    }
  }

  void read_frames(const tcp::TcpConnectionPtr& connection, net::Buffer& input) {
    while (!input.empty() && !closing_) {
      const auto r = decoder_.feed({input.data(), input.readable_bytes()});
      if (r.event == proto::FrameDecoder::Event::need_more) {
        input.retrieve(r.consumed);
        return;
      }
      if (r.event == proto::FrameDecoder::Event::error) {
        input.retrieve_all();
        core_->bad_frames.fetch_add(1, std::memory_order_relaxed);
        return refuse(connection, decoder_.error());
      }
      std::optional<proto::PackageView> package = proto::view_package(decoder_.body());
      ProtoPackage parsed;
      if (!package) {
        if (!proto::parse_package(decoder_.body(), parsed)) {
          input.retrieve_all();
          core_->bad_frames.fetch_add(1, std::memory_order_relaxed);
          return refuse(connection, "a frame of " + std::to_string(decoder_.body().size()) +
                                        " bytes is not a ProtoPackage");
        }
        package = proto::PackageView{parsed.cmd(), parsed.protocol()};
      }
      handle(connection, *package);
      input.retrieve(r.consumed);
    }
  }

  void on_down(const tcp::TcpConnectionPtr& connection) override {
    core_->loop.cancel(timer_);
    if (counted_) core_->open_connections.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
    if (peer_ != nullptr) core_->link_down(*this, connection);
    connection_ = nullptr;
  }

  void on_write_complete(const tcp::TcpConnectionPtr& /*connection*/) override {
    if (peer_ != nullptr && peer_->session == this) core_->flush(*peer_);
  }

  // Context.
  [[nodiscard]] std::uint64_t connection_id() const noexcept override {
    return connection_ != nullptr ? connection_->id() : 0;
  }
  void reply(const ProtoPackage& package) override {
    std::string frame;
    proto::append_frame(frame, package);
    answer(std::move(frame));
  }
  void reply(ProtoCmd cmd, const google::protobuf::MessageLite& message) override {
    std::string frame;
    proto::append_frame(frame, cmd, message);
    answer(std::move(frame));
  }
  void close() override {
    if (connection_ != nullptr) connection_->shutdown();
  }

  void write(std::string bytes) {
    if (connection_ == nullptr || closing_) return;
    last_sent_ = core_->loop.poll_time();
    if (batching_) {
      if (batch_.empty()) {
        batch_ = std::move(bytes);
      } else {
        batch_ += bytes;
      }
      return;
    }
    (void)connection_->send(std::move(bytes));
  }

  // The heartbeat: our handshake frame again, with the count of packages read on this link.
  void heartbeat() {
    acked_sent_ = received_;
    core_->heartbeats_sent.fetch_add(1, std::memory_order_relaxed);
    write(Handshake::frame(core_->options.app_id, received_));
  }
  [[nodiscard]] bool owes_ack() const noexcept { return received_ != acked_sent_; }

  [[nodiscard]] const std::string& peer_id() const noexcept { return handshake_.peer_id(); }
  [[nodiscard]] Role role() const noexcept { return handshake_.role(); }
  [[nodiscard]] reactor::TimePoint last_read() const noexcept { return last_read_; }
  [[nodiscard]] reactor::TimePoint last_sent() const noexcept { return last_sent_; }
  [[nodiscard]] tcp::TcpConnection* connection() const noexcept { return connection_; }
  void set_peer(Peer* peer) noexcept { peer_ = peer; }

 private:
  // A handler's answer: on the link like any package (acknowledged, sent again on the next link
  // if this one breaks first).
  void answer(std::string frame) {
    if (peer_ != nullptr) return core_->transmit(*peer_, std::move(frame));
    write(std::move(frame));
  }

  void handle(const tcp::TcpConnectionPtr& connection, const proto::PackageView& package) {
    if (handshake_.state() != Handshake::State::done) {
      Handshake::Step step = handshake_.on_package(package);
      switch (step.kind) {
        case Handshake::Step::Kind::wait:
          return;
        case Handshake::Step::Kind::dropped:
          core_->before_handshake.fetch_add(1, std::memory_order_relaxed);
          return;
        case Handshake::Step::Kind::refused:
          core_->refused.fetch_add(1, std::memory_order_relaxed);
          return refuse(connection, step.reason);
        case Handshake::Step::Kind::done:
          core_->loop.cancel(timer_);
          if (!step.reply.empty()) write(std::move(step.reply));
          if (!core_->link_up(*this, connection)) closing_ = true;
          return;
      }
      return;
    }
    if (package.cmd == PROTO_CMD_IPC_STREAM_AUTH_HANDSHAKE) {
      // The heartbeat: the peer's handshake frame again, with what it read so far. Another id on
      // this link is a lie.
      std::string id;
      std::uint64_t read = 0;
      if (!Handshake::read_app_id(package.protocol, id, &read) || id != peer_id()) {
        core_->refused.fetch_add(1, std::memory_order_relaxed);
        return refuse(connection, "a handshake naming another app_id on " + peer_id() + "'s link");
      }
      core_->heartbeats_received.fetch_add(1, std::memory_order_relaxed);
      if (peer_ != nullptr && core_->acks() && !core_->acknowledged(*peer_, read)) {
        return refuse(connection, "an acknowledgement of " + std::to_string(read) +
                                      " packages, which is not what was sent");
      }
      return;
    }
    ++received_;
    if (peer_ != nullptr) peer_->received.fetch_add(1, std::memory_order_relaxed);
    switch (core_->dispatcher->dispatch(*this, package)) {
      case proto::Dispatcher::Outcome::handled:
        core_->packages.fetch_add(1, std::memory_order_relaxed);
        break;
      case proto::Dispatcher::Outcome::unknown:
        core_->unknown.fetch_add(1, std::memory_order_relaxed);
        break;
      case proto::Dispatcher::Outcome::malformed:
        core_->bad_frames.fetch_add(1, std::memory_order_relaxed);
        return refuse(connection, "the message of command " + std::to_string(package.cmd) +
                                      " does not parse as its handler's type");
    }
  }

  void handshake_expired(tcp::TcpConnection& connection) {
    if (handshake_.state() != Handshake::State::waiting) return;
    core_->handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
    reactor::log::warn(kLog, "closing " + connection.peer_address().to_string() +
                                 ": no handshake within " +
                                 std::to_string(core_->options.handshake_timeout.count()) + " ms");
    connection.force_close();
  }

  void refuse(const tcp::TcpConnectionPtr& connection, const std::string& why) {
    closing_ = true;
    const std::string who = peer_id().empty() ? connection->peer_address().to_string() : peer_id();
    reactor::log::warn(kLog, "closing the connection of " + who + ": " + why);
    connection->force_close();
  }

  std::shared_ptr<IpcMesh::Core> core_;
  Handshake handshake_;
  proto::FrameDecoder decoder_;
  tcp::TcpConnection* connection_ = nullptr;
  Peer* peer_ = nullptr;  // once the handshake is done and this is the pair's link
  reactor::TimerId timer_{};
  reactor::TimePoint last_read_{};
  reactor::TimePoint last_sent_{};
  std::uint64_t received_ = 0;    // packages read on this link after the handshake
  std::uint64_t acked_sent_ = 0;  // the count our last heartbeat told the peer
  std::string batch_;             // a read's writes (on_message)
  bool batching_ = false;
  bool closing_ = false;
  bool counted_ = false;
};

tcp::ProtocolFactory IpcMesh::Core::factory(Role role, std::string dialed) {
  std::weak_ptr<Core> weak = shared_from_this();
  return
      [weak, role, dialed = std::move(dialed)](const tcp::TcpConnectionPtr&) -> tcp::ProtocolPtr {
        auto core = weak.lock();
        if (!core) throw std::runtime_error("the IPC mesh is gone");
        return std::make_shared<IpcSession>(std::move(core), role, dialed);
      };
}

void IpcMesh::Core::start() {
  server->start();
  for (auto& peer : peers) {
    if (peer->client) peer->client->connect();
  }
  const auto period = options.heartbeat.count() > 0 ? options.heartbeat : options.peer_timeout / 4;
  if (period.count() > 0) {
    std::weak_ptr<Core> weak = shared_from_this();
    ticker = loop.run_every(period, [weak] {
      if (auto core = weak.lock()) core->tick();
    });
  }
}

bool IpcMesh::Core::link_up(IpcSession& session, const tcp::TcpConnectionPtr& connection) {
  Peer* peer = find(session.peer_id());
  if (peer == nullptr || stopping.load()) {  // the handshake checked the id: only when stopping
    connection->force_close();
    return false;
  }
  const bool dialed_by_us = session.role() == Role::connecting;
  const bool was_up = peer->link != nullptr;  // a replaced link: the peer never went down
  if (peer->link != nullptr && peer->link != connection) {
    const bool keep_new =
        keeps_new_link(options.app_id, peer->app_id, dialed_by_us, peer->link_dialed_by_us);
    duplicates.fetch_add(1, std::memory_order_relaxed);
    if (!keep_new) {
      reactor::log::info(kLog, "closing a second connection with " + peer->app_id +
                                   ": the pair keeps the link " +
                                   std::string(lower_of(options.app_id, peer->app_id)) + " dialed");
      connection->force_close();
      return false;
    }
    reactor::log::info(kLog, "replacing the link with " + peer->app_id + " by the one " +
                                 std::string(lower_of(options.app_id, peer->app_id)) + " dialed");
    tcp::TcpConnectionPtr old = std::move(peer->link);
    peer->session->set_peer(nullptr);
    peer->session = nullptr;
    requeue(*peer);
    old->force_close();
  }
  peer->link = connection;
  peer->session = &session;
  peer->link_dialed_by_us = dialed_by_us;
  session.set_peer(peer);
  peer->up.store(true);
  peer->links.fetch_add(1, std::memory_order_relaxed);
  links_up.fetch_add(1, std::memory_order_relaxed);
  connection->want_write_complete(true);
  if (!was_up) {
    reactor::log::info(kLog, "peer " + peer->app_id + " up (" +
                                 (dialed_by_us ? "dialed " : "accepted from ") +
                                 connection->peer_address().to_string() + ")");
    if (up_cb && !quiet) up_cb(peer->app_id);
  }
  flush(*peer);
  return true;
}

void IpcMesh::Core::link_down(IpcSession& session, const tcp::TcpConnectionPtr& connection) {
  Peer* peer = find(session.peer_id());
  if (peer == nullptr || peer->link != connection) return;
  peer->link = nullptr;
  peer->session = nullptr;
  peer->up.store(false);
  session.set_peer(nullptr);
  requeue(*peer);
  if (quiet) return;
  reactor::log::info(kLog, "peer " + peer->app_id + " down");
  if (down_cb) down_cb(peer->app_id);
}

Delivery IpcMesh::Core::enqueue(Peer& peer, std::string frame) {
  bool post = false;
  {
    const std::lock_guard lock(peer.mutex);
    if (peer.outbox.size() >= options.max_queued) {
      if (options.when_full == WhenFull::reject || options.max_queued == 0) {
        peer.rejected.fetch_add(1, std::memory_order_relaxed);
        return Delivery::rejected;
      }
      peer.outbox.pop_front();
      peer.dropped.fetch_add(1, std::memory_order_relaxed);
    }
    peer.outbox.push_back(std::move(frame));
    if (!peer.flush_posted && peer.up.load()) {
      peer.flush_posted = true;
      post = true;
    }
  }
  if (post) {
    std::weak_ptr<Core> weak = shared_from_this();
    loop.queue_in_loop([weak, p = &peer] {
      auto core = weak.lock();
      if (!core) return;
      {
        const std::lock_guard lock(p->mutex);
        p->flush_posted = false;
      }
      core->flush(*p);
    });
  }
  return Delivery::queued;
}

void IpcMesh::Core::flush(Peer& peer) {
  if (peer.link == nullptr || peer.session == nullptr || !peer.link->connected()) return;
  const std::size_t high_water = peer.link->options().high_water_mark;
  // With acknowledgements, at most max_queued packages are in flight: the rest wait in the
  // outbox, where the overflow policy sees them.
  const auto window_open = [&] { return !acks() || peer.unacked.size() < options.max_queued; };
  while (peer.link->queued_output() < high_water && window_open()) {
    std::string batch;
    std::size_t count = 0;
    {
      const std::lock_guard lock(peer.mutex);
      while (!peer.outbox.empty() && batch.size() < kFlushBatch && window_open()) {
        std::string& frame = peer.outbox.front();
        batch += frame;
        if (acks()) peer.unacked.push_back({peer.sent_on_link, std::move(frame)});
        ++peer.sent_on_link;
        peer.outbox.pop_front();
        ++count;
      }
      peer.unacked_now = peer.unacked.size();
    }
    if (count == 0) break;
    peer.sent.fetch_add(count, std::memory_order_relaxed);
    peer.session->write(std::move(batch));
  }
  // Above the high-water mark: on_write_complete brings us back once the output is written; a
  // closed window, the next acknowledgement.
}

void IpcMesh::Core::transmit(Peer& peer, std::string frame) {
  if (peer.session == nullptr) return;
  ++peer.sent_on_link;  // counted by the peer like any package; not kept (sent once)
  peer.session->write(std::move(frame));
}

bool IpcMesh::Core::acknowledged(Peer& peer, std::uint64_t received) {
  if (received > peer.sent_on_link) return false;   // more than was sent: a broken peer
  if (received <= peer.acked_on_link) return true;  // nothing new (or an older count)
  peer.acked_on_link = received;
  std::size_t confirmed = 0;
  while (!peer.unacked.empty() && peer.unacked.front().place < received) {
    peer.unacked.pop_front();
    ++confirmed;
  }
  {
    const std::lock_guard lock(peer.mutex);
    peer.unacked_now = peer.unacked.size();
    peer.acknowledged.fetch_add(confirmed, std::memory_order_relaxed);
  }
  if (confirmed > 0) flush(peer);
  return true;
}

void IpcMesh::Core::requeue(Peer& peer) {
  peer.sent_on_link = 0;
  peer.acked_on_link = 0;
  if (peer.unacked.empty()) return;
  const std::lock_guard lock(peer.mutex);
  peer.resent.fetch_add(peer.unacked.size(), std::memory_order_relaxed);
  peer.sent.fetch_sub(peer.unacked.size(), std::memory_order_relaxed);
  for (auto it = peer.unacked.rbegin(); it != peer.unacked.rend(); ++it) {
    peer.outbox.push_front(std::move(it->frame));
  }
  peer.unacked.clear();
  peer.unacked_now = 0;
}

void IpcMesh::Core::tick() {
  const reactor::TimePoint now = loop.poll_time();
  for (auto& peer : peers) {
    if (peer->link == nullptr || peer->session == nullptr) continue;
    IpcSession& s = *peer->session;
    if (options.peer_timeout.count() > 0 && now - s.last_read() >= options.peer_timeout) {
      silent.fetch_add(1, std::memory_order_relaxed);
      reactor::log::warn(kLog, "closing the link with " + peer->app_id + ": nothing read for " +
                                   std::to_string(options.peer_timeout.count()) + " ms");
      tcp::TcpConnectionPtr link = peer->link;
      link->force_close();
      continue;
    }
    if (acks() && (s.owes_ack() || now - s.last_sent() >= options.heartbeat)) s.heartbeat();
  }
}

void IpcMesh::Core::stop_in_loop() {
  loop.cancel(ticker);
  for (auto& peer : peers) {
    if (peer->client) peer->client->stop();
    if (peer->link) peer->link->shutdown();
  }
  if (server) server->stop(std::chrono::milliseconds(1000));
}

void IpcMesh::Core::shut() {
  quiet = true;
  stopping.store(true);
  loop.cancel(ticker);
  for (auto& peer : peers) {
    peer->client.reset();  // force-closes its connection
    if (peer->link) {
      tcp::TcpConnectionPtr link = peer->link;
      link->force_close();
    }
  }
  server.reset();
}

IpcMesh::IpcMesh(reactor::EventLoop& loop, MeshOptions options,
                 std::shared_ptr<const proto::Dispatcher> dispatcher) {
  loop.assert_in_loop_thread();
  const MeshEntry* own = options.mesh.find(options.app_id);
  if (own == nullptr) {
    throw MeshConfigError("ipc.json has no entry for this process's app_id \"" + options.app_id +
                          "\"");
  }
  if (options.heartbeat.count() > 0 && options.peer_timeout.count() > 0 &&
      options.peer_timeout <= options.heartbeat) {
    throw std::invalid_argument("the IPC peer timeout must be longer than the heartbeat period");
  }
  if (!dispatcher) dispatcher = std::make_shared<proto::Dispatcher>();
  tcp::TcpServerOptions server_options;
  server_options.listen = options.listen.value_or(own->address);
  server_options.max_connections = options.max_connections;
  server_options.filter = options.server_filter;
  core_ = std::make_shared<Core>(loop, std::move(options), std::move(dispatcher));
  Core& c = *core_;
  for (const auto& entry : c.options.mesh.entries) {
    if (entry.app_id == c.options.app_id) continue;
    auto peer = std::make_unique<Peer>();
    peer->app_id = entry.app_id;
    peer->address = entry.address;
    peer->we_dial = dials(c.options.app_id, entry.app_id);
    c.peers.push_back(std::move(peer));
  }
  c.server = std::make_unique<tcp::TcpServer>(loop, server_options);
  c.server->set_protocol(c.factory(Role::accepting, {}));
  for (auto& peer : c.peers) {
    if (!peer->we_dial) continue;
    tcp::TcpClientOptions o;
    o.server = peer->address;
    o.connect_timeout = c.options.connect_timeout;
    o.backoff = c.options.backoff;
    if (c.options.client_filter) {
      o.filter = c.options.client_filter(MeshEntry{peer->app_id, peer->address});
    }
    peer->client = std::make_unique<tcp::TcpClient>(loop, std::move(o));
    peer->client->set_protocol(c.factory(Role::connecting, peer->app_id));
  }
}

IpcMesh::~IpcMesh() {
  core_->loop.assert_in_loop_thread();
  core_->shut();
}

void IpcMesh::on_peer_up(std::function<void(const std::string&)> cb) {
  core_->up_cb = std::move(cb);
}
void IpcMesh::on_peer_down(std::function<void(const std::string&)> cb) {
  core_->down_cb = std::move(cb);
}

void IpcMesh::start() {
  core_->loop.assert_in_loop_thread();
  if (core_->stopping.load()) return;
  core_->start();
}

void IpcMesh::stop() {
  if (core_->stopping.exchange(true)) return;
  std::weak_ptr<Core> weak = core_;
  core_->loop.run_in_loop([weak] {
    if (auto core = weak.lock()) core->stop_in_loop();
  });
}

Delivery IpcMesh::send(std::string_view app_id, const ProtoPackage& package) {
  Peer* peer = core_->find(app_id);
  if (peer == nullptr) return Delivery::unknown_peer;
  if (core_->stopping.load()) return Delivery::stopped;
  std::string frame;
  proto::append_frame(frame, package);
  return core_->enqueue(*peer, std::move(frame));
}

Delivery IpcMesh::send(std::string_view app_id, ProtoCmd cmd,
                       const google::protobuf::MessageLite& message) {
  Peer* peer = core_->find(app_id);
  if (peer == nullptr) return Delivery::unknown_peer;
  if (core_->stopping.load()) return Delivery::stopped;
  std::string frame;
  proto::append_frame(frame, cmd, message);
  return core_->enqueue(*peer, std::move(frame));
}

std::size_t IpcMesh::broadcast(const ProtoPackage& package) {
  if (core_->stopping.load()) return 0;
  std::string frame;
  proto::append_frame(frame, package);
  std::size_t taken = 0;
  for (auto& peer : core_->peers) {
    if (core_->enqueue(*peer, frame) == Delivery::queued) ++taken;
  }
  return taken;
}

const std::string& IpcMesh::app_id() const noexcept {
  return core_->options.app_id;
}

net::SocketAddress IpcMesh::listen_address() const {
  return core_->server->listen_address();
}

IpcMesh::Stats IpcMesh::stats() const {
  const Core& c = *core_;
  Stats s;
  s.links_up = c.links_up.load();
  s.refused = c.refused.load();
  s.handshake_timeouts = c.handshake_timeouts.load();
  s.before_handshake = c.before_handshake.load();
  s.duplicates = c.duplicates.load();
  s.over_limit = c.server ? c.server->stats().refused_max_connections : 0;
  s.silent = c.silent.load();
  s.bad_frames = c.bad_frames.load();
  s.packages = c.packages.load();
  s.unknown = c.unknown.load();
  s.heartbeats_sent = c.heartbeats_sent.load();
  s.heartbeats_received = c.heartbeats_received.load();
  s.open_connections = c.open_connections.load();
  return s;
}

std::optional<IpcMesh::PeerStats> IpcMesh::peer_stats(std::string_view app_id) const {
  Peer* peer = core_->find(app_id);
  if (peer == nullptr) return std::nullopt;
  PeerStats s;
  s.up = peer->up.load();
  {
    const std::lock_guard lock(peer->mutex);  // one moment: what waits and what is in flight
    s.queued = peer->outbox.size();
    s.unacked = peer->unacked_now;
    s.acknowledged = peer->acknowledged.load();
  }
  s.sent = peer->sent.load();
  s.rejected = peer->rejected.load();
  s.dropped = peer->dropped.load();
  s.received = peer->received.load();
  s.links = peer->links.load();
  s.resent = peer->resent.load();
  if (peer->client) {  // made in the constructor, gone only with the mesh
    const auto c = peer->client->stats();
    s.attempts = c.attempts;
    s.failures = c.failures;
  }
  return s;
}

std::vector<std::string> IpcMesh::peers_up() const {
  std::vector<std::string> up;
  for (const auto& peer : core_->peers) {
    if (peer->up.load()) up.push_back(peer->app_id);
  }
  return up;
}

const std::string& IpcMesh::peer_of(const proto::Context& context) {
  static const std::string none;
  const auto* session = dynamic_cast<const IpcSession*>(&context);
  return session != nullptr ? session->peer_id() : none;
}

}  // namespace avant::ipc
