#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>

#include <avant/reactor/log.hpp>
#include <avant/reactor/trace.hpp>
#include <avant/tcp/acceptor.hpp>

namespace avant::tcp {

namespace {
net::FileDescriptor open_spare() {
  return net::FileDescriptor{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
}
}  // namespace

Acceptor::Acceptor(reactor::EventLoop& loop, const AcceptorOptions& options)
    : loop_(loop),
      options_(options),
      socket_(net::Socket::create(options.listen.family(), net::SocketType::tcp)),
      channel_(loop, socket_.fd()),
      spare_(open_spare()) {
  socket_.set_reuse_address(true);
  if (options_.reuse_port) socket_.set_reuse_port(true);
  socket_.bind(options_.listen);
  local_ = socket_.local_address();
  channel_.on_read([this] { handle_read(); });
}

Acceptor::~Acceptor() {
  loop_.cancel(backoff_timer_);
  channel_.disable_all();
  channel_.remove();
}

void Acceptor::listen() {
  loop_.assert_in_loop_thread();
  if (listening_ || stopped_) return;
  socket_.listen(options_.backlog);
  listening_ = true;
  channel_.enable_reading();
}

void Acceptor::stop() {
  loop_.assert_in_loop_thread();
  if (stopped_) return;
  stopped_ = true;
  listening_ = false;
  loop_.cancel(backoff_timer_);
  channel_.disable_all();
  channel_.remove();
  socket_ = net::Socket{net::FileDescriptor{}};
}

void Acceptor::handle_read() {
  loop_.assert_in_loop_thread();
  for (std::size_t i = 0; i < options_.accept_per_tick; ++i) {
    net::AcceptResult r = socket_.accept();
    if (r.status == net::IoStatus::would_block) return;
    if (r.status == net::IoStatus::error) {
      if (r.error == EMFILE || r.error == ENFILE) {
        handle_no_fds(r.error);
      } else {
        // ENOBUFS, ENOMEM, EPERM (a firewall): transient; the next readiness event retries.
        reactor::log::warn("acceptor",
                           local_.to_string() + ": accept4: " + net::error_text(r.error));
      }
      return;
    }
    accepted_.fetch_add(1, std::memory_order_relaxed);
    if (reactor::trace::on(reactor::trace::Topic::tcp)) [[unlikely]]
      reactor::trace::emit(reactor::trace::Topic::tcp, "accepted fd ", r.socket.fd(), " from ",
                           r.peer.to_string(), " on ", local_.to_string());
    if (new_connection_) {
      new_connection_(std::move(r.socket), r.peer);
      if (stopped_) return;  // the callback stopped the server: the listener is gone
    }                        // else: the socket closes here, which refuses the connection
  }
}

void Acceptor::handle_no_fds(int error) {
  // accept4 reports EMFILE before it looks at the queue, so the queue may even be empty (the last
  // descriptor just went to the previous connection). The spare tells the two cases apart.
  std::uint64_t refused = 0;
  bool still_failing = !spare_;
  if (spare_) {
    spare_.reset();  // one descriptor free: enough to accept and close the waiting peers
    for (std::size_t i = 0; i < options_.accept_per_tick; ++i) {
      const net::AcceptResult r = socket_.accept();
      if (r.status == net::IoStatus::ok) {
        ++refused;  // r.socket closes here, freeing the descriptor for the next one
        continue;
      }
      still_failing = r.status == net::IoStatus::error;  // ENFILE: the whole system is out
      break;
    }
    spare_ = open_spare();
  }
  if (refused > 0) {
    refused_no_fds_.fetch_add(refused, std::memory_order_relaxed);
    reactor::log::warn("acceptor", local_.to_string() + ": out of descriptors (" +
                                       (error == EMFILE ? "EMFILE" : "ENFILE") + "): refused " +
                                       std::to_string(refused) + " connection(s)");
  }
  if (still_failing || !spare_) {
    // No spare, or it did not help: stop listening for a while instead of spinning.
    reactor::log::warn("acceptor", local_.to_string() +
                                       ": out of descriptors, pausing accepts for " +
                                       std::to_string(options_.fd_backoff.count()) + " ms");
    channel_.disable_reading();
    backoff_timer_ = loop_.run_after(options_.fd_backoff, [this] {
      if (!spare_) spare_ = open_spare();
      if (listening_) channel_.enable_reading();
    });
  }
}

}  // namespace avant::tcp
