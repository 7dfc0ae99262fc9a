#include <algorithm>
#include <exception>
#include <future>
#include <string>
#include <utility>

#include <avant/net/io.hpp>
#include <avant/reactor/log.hpp>
#include <avant/tcp/connection_id.hpp>
#include <avant/tcp/tcp_server.hpp>

namespace avant::tcp {

TcpServer::TcpServer(reactor::EventLoop& loop, const TcpServerOptions& options, LoopSource* workers)
    : loop_(loop),
      options_(options),
      workers_(workers),
      acceptor_(loop, AcceptorOptions{.listen = options.listen,
                                      .backlog = options.backlog,
                                      .reuse_port = options.reuse_port,
                                      .accept_per_tick = options.accept_per_tick}),
      life_(std::make_shared<Life>(Life{this})) {
  // A peer that resets while we write must cost a connection, never the process.
  net::ignore_sigpipe();
  acceptor_.on_new_connection([this](net::Socket socket, const net::SocketAddress& peer) {
    new_connection(std::move(socket), peer);
  });
}

TcpServer::~TcpServer() {
  loop_.assert_in_loop_thread();
  life_->server = nullptr;  // tasks still queued on this loop for us now do nothing
  loop_.cancel(drain_timer_);
  acceptor_.stop();
  // Every loop that holds a connection or a wheel of ours closes them itself, on its own thread;
  // we wait for each. A worker loop runs its queue in order, so a connection whose establishment
  // is still queued there is established first and closed right after.
  std::vector<reactor::EventLoop*> loops;
  {
    const std::lock_guard lock(mutex_);
    const auto note = [&loops](reactor::EventLoop* l) {
      if (std::find(loops.begin(), loops.end(), l) == loops.end()) loops.push_back(l);
    };
    connections_.for_each([&note](const TcpConnectionPtr& c) { note(&c->loop()); });
    for (const auto& [l, wheel] : wheels_)
      note(l);
  }
  std::vector<std::future<void>> closed;
  for (reactor::EventLoop* l : loops) {
    if (l == &loop_) continue;
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    l->run_in_loop([this, l, done] {
      close_on(*l);
      done->set_value();
    });
  }
  if (std::find(loops.begin(), loops.end(), &loop_) != loops.end()) close_on(loop_);
  for (auto& f : closed)
    f.wait();
}

void TcpServer::start() {
  if (started_.exchange(true)) return;
  // Before the first accept, which reaches the connections' loops through queues after this.
  if (!factory_) shared_protocol_ = std::make_shared<CallbackProtocol>(std::move(callbacks_));
  loop_.run_in_loop([life = life_] {
    if (life->server != nullptr) life->server->acceptor_.listen();
  });
}

void TcpServer::stop(std::chrono::milliseconds drain, std::function<void()> stopped) {
  loop_.run_in_loop([life = life_, drain, stopped = std::move(stopped)]() mutable {
    if (life->server != nullptr) life->server->stop_in_loop(drain, std::move(stopped));
  });
}

TcpServer::Stats TcpServer::stats() const noexcept {
  std::uint64_t idle_closed = 0;
  {
    const std::lock_guard lock(mutex_);
    idle_closed = retired_idle_closed_;
    for (const auto& [l, wheel] : wheels_)
      idle_closed += wheel->closed();
  }
  return Stats{.accepted = established_.load(),
               .refused_max_connections = refused_max_.load(),
               .refused_no_fds = acceptor_.refused_no_fds(),
               .idle_closed = idle_closed};
}

TcpConnectionPtr TcpServer::find(std::uint64_t id) const {
  const std::lock_guard lock(mutex_);
  return connections_.find(id);
}

std::vector<TcpConnectionPtr> TcpServer::connections() const {
  std::vector<TcpConnectionPtr> open;
  const std::lock_guard lock(mutex_);
  open.reserve(connections_.size());
  connections_.for_each([&open](const TcpConnectionPtr& c) { open.push_back(c); });
  return open;
}

void TcpServer::new_connection(net::Socket socket, const net::SocketAddress& peer) {
  loop_.assert_in_loop_thread();
  // count_ only falls behind our back (closes on other loops): this never lets too many in.
  if (count_.load() >= options_.max_connections) {
    const auto refused = refused_max_.fetch_add(1) + 1;
    // Power-of-two counts only: a flood is visible in the log without flooding it.
    if ((refused & (refused - 1)) == 0) {
      reactor::log::warn("tcp", listen_address().to_string() + ": max_connections (" +
                                    std::to_string(options_.max_connections) + ") reached; " +
                                    std::to_string(refused) + " connection(s) refused so far");
    }
    return;  // `socket` closes here
  }
  std::unique_ptr<ConnectionFilter> filter;
  if (options_.filter) {
    try {
      filter = options_.filter();
    } catch (const std::exception& e) {
      reactor::log::error("tcp", listen_address().to_string() + ": connection from " +
                                     peer.to_string() + " refused: " + e.what());
      return;  // `socket` closes here
    }
  }
  reactor::EventLoop& owner = workers_ != nullptr ? workers_->acquire() : loop_;
  const std::uint64_t id = next_connection_id(owner.pool_index());
  auto connection =
      std::make_shared<TcpConnection>(owner, id, std::move(socket), peer, connection_options_);
  if (filter) connection->set_filter(std::move(filter));
  {
    const std::lock_guard lock(mutex_);
    connections_.insert(connection);
    count_.store(connections_.size());
  }
  established_.fetch_add(1);
  // From here on the connection belongs to `owner`: established there, served there, closed there.
  owner.run_in_loop([this, connection] { establish(connection); });
}

void TcpServer::establish(const TcpConnectionPtr& connection) {
  reactor::EventLoop& owner = connection->loop();
  owner.assert_in_loop_thread();
  if (factory_) {
    try {
      connection->set_protocol(factory_(connection));
    } catch (const std::exception& e) {
      reactor::log::error("tcp", listen_address().to_string() + ": connection from " +
                                     connection->peer_address().to_string() +
                                     " refused: its protocol: " + e.what());
      remove_connection(connection);
      return;
    }
  } else {
    connection->set_protocol(shared_protocol_);
    connection->want_write_complete(shared_protocol_->wants_write_complete());
  }
  connection->connect_established();
  if (options_.idle_timeout <= std::chrono::milliseconds::zero()) return;
  IdleWheel* wheel = nullptr;
  {
    const std::lock_guard lock(mutex_);
    const auto it = wheels_.find(&owner);
    if (it != wheels_.end()) wheel = it->second.get();
  }
  if (wheel == nullptr) {
    // Only this loop's thread adds this loop's wheel: built outside the lock, inserted under it.
    auto fresh = std::make_unique<IdleWheel>(owner, options_.idle_timeout);
    wheel = fresh.get();
    const std::lock_guard lock(mutex_);
    wheels_.emplace(&owner, std::move(fresh));
  }
  wheel->add(connection);
}

void TcpServer::remove_connection(const TcpConnectionPtr& connection) {
  connection->loop().assert_in_loop_thread();
  // Everything needed after the lock is copied under it: once it is released, a server being
  // destroyed on its own thread may be gone (the destructor takes this lock first).
  LoopSource* workers = nullptr;
  std::shared_ptr<Life> life;
  reactor::EventLoop* base = nullptr;
  bool last = false;
  {
    const std::lock_guard lock(mutex_);
    if (!connections_.erase(connection->id())) return;
    count_.store(connections_.size());
    last = stopping_ && connections_.empty();
    workers = workers_;
    life = life_;
    base = &loop_;
  }
  if (workers != nullptr) workers->release(connection->loop());
  // The last step after the close callbacks, from a task: the channel is still in use by the event
  // that closed it, and the task's reference keeps the object alive until it runs.
  connection->loop().queue_in_loop([connection] { connection->connect_destroyed(); });
  if (last) {
    base->run_in_loop([life] {
      if (life->server != nullptr) life->server->retire_wheels();
    });
  }
}

void TcpServer::stop_in_loop(std::chrono::milliseconds drain, std::function<void()> stopped) {
  loop_.assert_in_loop_thread();
  if (stopped) stopped_callbacks_.push_back(std::move(stopped));
  if (stop_finished_) {
    finish_stop();
    return;
  }
  std::vector<TcpConnectionPtr> open;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;  // the first stop's end runs our callback too
    stopping_ = true;
    connections_.for_each([&open](const TcpConnectionPtr& c) { open.push_back(c); });
  }
  acceptor_.stop();
  reactor::log::info("tcp", listen_address().to_string() + ": stopping, " +
                                std::to_string(open.size()) + " connection(s) to close");
  if (open.empty()) {
    retire_wheels();
    return;
  }
  const bool graceful = drain > std::chrono::milliseconds::zero();
  // Through each owner's queue: a connection whose establishment is still queued there is
  // established before it is shut down.
  for (auto& connection : open) {
    connection->loop().queue_in_loop([connection, graceful] {
      if (graceful) {
        connection->drain();  // the protocol finishes what is in flight, then closes
      } else {
        connection->force_close();
      }
    });
  }
  if (graceful) {
    drain_timer_ = loop_.run_after(drain, [life = life_] {
      if (life->server != nullptr) life->server->drain_expired();
    });
  }
}

void TcpServer::drain_expired() {
  const std::vector<TcpConnectionPtr> open = connections();
  if (!open.empty()) {
    reactor::log::warn("tcp", listen_address().to_string() + ": drain deadline passed; closing " +
                                  std::to_string(open.size()) + " connection(s)");
  }
  // Through each owner's queue, like the shutdowns: a connection whose establishment is still
  // queued there (a busy worker) is established first, then closed — not skipped.
  for (const auto& connection : open)
    connection->loop().queue_in_loop([connection] { connection->force_close(); });
}

void TcpServer::retire_wheels() {
  loop_.assert_in_loop_thread();
  std::vector<reactor::EventLoop*> loops;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [l, wheel] : wheels_)
      loops.push_back(l);
  }
  if (loops.empty()) {
    finish_stop();
    return;
  }
  // Each wheel is destroyed on its own loop (its timer callback runs there); the last one done
  // finishes the stop on our loop.
  auto remaining = std::make_shared<std::atomic<std::size_t>>(loops.size());
  for (reactor::EventLoop* l : loops) {
    l->run_in_loop([this, l, remaining, life = life_, base = &loop_] {
      std::unique_ptr<IdleWheel> wheel;
      {
        const std::lock_guard lock(mutex_);
        const auto it = wheels_.find(l);
        if (it != wheels_.end()) {
          retired_idle_closed_ += it->second->closed();
          wheel = std::move(it->second);
          wheels_.erase(it);
        }
      }
      // `this` is not touched past this point: the server may be being destroyed meanwhile.
      wheel.reset();
      if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) {
        base->run_in_loop([life] {
          if (life->server != nullptr) life->server->finish_stop();
        });
      }
    });
  }
}

void TcpServer::finish_stop() {
  loop_.assert_in_loop_thread();
  stop_finished_ = true;
  loop_.cancel(drain_timer_);
  auto callbacks = std::move(stopped_callbacks_);
  stopped_callbacks_.clear();
  for (auto& cb : callbacks)
    cb();
}

void TcpServer::close_on(reactor::EventLoop& loop) {
  loop.assert_in_loop_thread();
  std::vector<TcpConnectionPtr> mine;
  std::unique_ptr<IdleWheel> wheel;
  {
    const std::lock_guard lock(mutex_);
    connections_.for_each([&mine, &loop](const TcpConnectionPtr& c) {
      if (&c->loop() == &loop) mine.push_back(c);
    });
    for (const auto& c : mine)
      connections_.erase(c->id());
    count_.store(connections_.size());
    const auto w = wheels_.find(&loop);
    if (w != wheels_.end()) {
      retired_idle_closed_ += w->second->closed();
      wheel = std::move(w->second);
      wheels_.erase(w);
    }
  }
  for (auto& connection : mine) {
    if (workers_ != nullptr) workers_->release(loop);
    connection->connect_destroyed();  // its "down" callback runs here, on its own loop
  }
}

}  // namespace avant::tcp
