#include <utility>

#include <avant/thread/threaded_tcp_server.hpp>

namespace avant::thread {

ThreadedTcpServer::ThreadedTcpServer(reactor::EventLoop& base, const ThreadedServerOptions& options)
    : base_(base),
      options_(options),
      pool_(base, LoopPoolOptions{.threads = options.workers, .placement = options.placement}),
      server_(base, options.tcp, options.workers > 0 ? &pool_ : nullptr) {}

// Members go in reverse order: server_ first (its connections close on their still-running
// loops), then pool_ (the worker threads are joined).
ThreadedTcpServer::~ThreadedTcpServer() = default;

void ThreadedTcpServer::start() {
  if (stopped_.load() || started_.exchange(true)) return;
  pool_.start();
  server_.start();
}

void ThreadedTcpServer::stop(std::function<void()> stopped) {
  stopped_.store(true);
  // The server's callbacks run on the base loop and only while the server (a member) exists.
  server_.stop(options_.drain_timeout, [this, stopped = std::move(stopped)] {
    pool_.stop();
    if (stopped) stopped();
  });
}

void ThreadedTcpServer::for_each_loop(std::function<void(reactor::EventLoop&)> fn,
                                      std::function<void()> done) {
  pool_.for_each_loop(std::move(fn), std::move(done));
}

}  // namespace avant::thread
