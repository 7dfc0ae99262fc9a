#include <string>

#include <avant/reactor/log.hpp>
#include <avant/tcp/tcp_server.hpp>

namespace avant::tcp {

TcpServer::TcpServer(reactor::EventLoop& loop, const TcpServerOptions& options)
    : loop_(loop),
      options_(options),
      acceptor_(loop, AcceptorOptions{.listen = options.listen,
                                      .backlog = options.backlog,
                                      .reuse_port = options.reuse_port,
                                      .accept_per_tick = options.accept_per_tick}) {
  acceptor_.on_new_connection([this](net::Socket socket, const net::SocketAddress& peer) {
    new_connection(std::move(socket), peer);
  });
}

TcpServer::~TcpServer() {
  loop_.assert_in_loop_thread();
  // Take the map first: "down" callbacks may not find the server half-destroyed.
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [id, connection] : connections)
    connection->connect_destroyed();
  count_.store(0);
}

void TcpServer::start() {
  if (started_.exchange(true)) return;
  loop_.run_in_loop([this] {
    if (options_.idle_timeout > std::chrono::milliseconds::zero()) {
      idle_ = std::make_unique<IdleWheel>(loop_, options_.idle_timeout);
    }
    acceptor_.listen();
  });
}

TcpServer::Stats TcpServer::stats() const noexcept {
  return Stats{.accepted = established_.load(),
               .refused_max_connections = refused_max_.load(),
               .refused_no_fds = acceptor_.refused_no_fds(),
               .idle_closed = idle_ ? idle_->closed() : 0};
}

void TcpServer::new_connection(net::Socket socket, const net::SocketAddress& peer) {
  loop_.assert_in_loop_thread();
  if (connections_.size() >= options_.max_connections) {
    const auto refused = refused_max_.fetch_add(1) + 1;
    // Power-of-two counts only: a flood is visible in the log without flooding it.
    if ((refused & (refused - 1)) == 0) {
      reactor::log::warn("tcp", listen_address().to_string() + ": max_connections (" +
                                    std::to_string(options_.max_connections) + ") reached; " +
                                    std::to_string(refused) + " connection(s) refused so far");
    }
    return;  // `socket` closes here
  }
  const std::uint64_t id = next_id_++;
  auto connection =
      std::make_shared<TcpConnection>(loop_, id, std::move(socket), peer, options_.connection);
  if (connection_cb_) connection->on_connection(connection_cb_);
  if (message_cb_) connection->on_message(message_cb_);
  if (write_complete_cb_) connection->on_write_complete(write_complete_cb_);
  if (high_water_cb_) connection->on_high_water(high_water_cb_);
  connection->on_close([this](const TcpConnectionPtr& c) { remove_connection(c); });
  connections_.emplace(id, connection);
  count_.store(connections_.size());
  established_.fetch_add(1);
  connection->connect_established();
  if (idle_) idle_->add(connection);
}

void TcpServer::remove_connection(const TcpConnectionPtr& connection) {
  loop_.run_in_loop([this, connection] {
    connections_.erase(connection->id());
    count_.store(connections_.size());
    // The last steps after the close callbacks, from a task: the channel is still in use by the
    // event that closed it, and `connection` keeps the object alive until this runs.
    loop_.queue_in_loop([connection] { connection->connect_destroyed(); });
  });
}

}  // namespace avant::tcp
