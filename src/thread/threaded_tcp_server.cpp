#include <utility>

#include <avant/thread/threaded_tcp_server.hpp>

namespace avant::thread {

ThreadedTcpServer::ThreadedTcpServer(reactor::EventLoop& base, const ThreadedServerOptions& options)
    : base_(base),
      options_(options),
      own_pool_(std::make_unique<EventLoopThreadPool>(
          base, LoopPoolOptions{.threads = options.workers, .placement = options.placement})),
      pool_(*own_pool_),
      server_(base, options.tcp, options.workers > 0 ? &pool_ : nullptr) {}

ThreadedTcpServer::ThreadedTcpServer(EventLoopThreadPool& pool,
                                     const ThreadedServerOptions& options)
    : base_(pool.base()),
      options_(options),
      pool_(pool),
      server_(pool.base(), options.tcp, pool.threads() > 0 ? &pool_ : nullptr) {}

// Members go in reverse order: server_ first (its connections close on their still-running
// loops), then pool_ (the worker threads are joined).
ThreadedTcpServer::~ThreadedTcpServer() = default;

void ThreadedTcpServer::start() {
  if (stopped_.load() || started_.exchange(true)) return;
  if (own_pool_) own_pool_->start();  // a borrowed pool is started by its owner
  server_.start();
}

void ThreadedTcpServer::stop(std::function<void()> stopped) {
  stopped_.store(true);
  // The server's callbacks run on the base loop and only while the server (a member) exists.
  server_.stop(options_.drain_timeout, [this, stopped = std::move(stopped)] {
    if (own_pool_) own_pool_->stop();  // a borrowed pool serves other listeners still
    if (stopped) stopped();
  });
}

void ThreadedTcpServer::for_each_loop(std::function<void(reactor::EventLoop&)> fn,
                                      std::function<void()> done) {
  pool_.for_each_loop(std::move(fn), std::move(done));
}

}  // namespace avant::thread
