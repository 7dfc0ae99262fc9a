// acceptor.hpp — a listening socket on an EventLoop that hands out accepted sockets.
//
// Each readiness event accepts up to accept_per_tick connections (the original's key of that
// name), so a flood of connections cannot starve the connections already being served.
//
// Out of descriptors (EMFILE/ENFILE): accept4 fails and the connection stays in the kernel's
// queue, so level-triggered epoll reports the listener again at once — an idle server spinning at
// 100% CPU. The Acceptor keeps one spare descriptor open (on /dev/null) for this moment: it closes
// the spare, accepts the waiting connections one by one and closes each at once (the peers see an
// orderly close instead of hanging), counts them as refused, and reopens the spare. If even that
// fails (the spare is gone, or the whole system is out), it stops listening for `fd_backoff` and
// then tries again: no spin either way.
//
// Ownership: owns the listening socket, its Channel and the spare descriptor.
// Threads: constructor, listen(), stop() and destruction on the loop thread; the counters from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include <avant/net/file_descriptor.hpp>
#include <avant/net/socket.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>

namespace avant::tcp {

struct AcceptorOptions {
  net::SocketAddress listen = net::SocketAddress::ipv4_loopback(0);  // port 0: ephemeral
  int backlog = SOMAXCONN;            // the kernel's accept queue length (capped by somaxconn)
  bool reuse_port = false;            // SO_REUSEPORT: several listeners share the port
  std::size_t accept_per_tick = 100;  // accepts per readiness event
  std::chrono::milliseconds fd_backoff{100};  // pause when out of descriptors and no spare
};

class Acceptor {
 public:
  using NewConnection = std::function<void(net::Socket socket, const net::SocketAddress& peer)>;

  // Creates the socket and binds it (SO_REUSEADDR on). Throws std::system_error naming the call
  // and the address ("bind 0.0.0.0:20023: Address already in use").
  Acceptor(reactor::EventLoop& loop, const AcceptorOptions& options);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  Acceptor(Acceptor&&) = delete;
  Acceptor& operator=(Acceptor&&) = delete;

  void on_new_connection(NewConnection cb) { new_connection_ = std::move(cb); }
  // Starts listening and accepting. Loop thread. Does nothing after stop().
  void listen();
  // Stops accepting for good and closes the listening socket: new clients are refused by the
  // kernel (connection reset) instead of waiting in a queue nobody reads. Loop thread; idempotent.
  void stop();
  [[nodiscard]] bool listening() const noexcept { return listening_; }
  // The bound address, with the real port when 0 was asked for.
  [[nodiscard]] const net::SocketAddress& local_address() const noexcept { return local_; }

  // Any thread: connections accepted and handed out; connections accepted only to be closed
  // because the process was out of descriptors.
  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_.load(); }
  [[nodiscard]] std::uint64_t refused_no_fds() const noexcept { return refused_no_fds_.load(); }

 private:
  void handle_read();
  void handle_no_fds(int error);

  reactor::EventLoop& loop_;
  AcceptorOptions options_;
  net::Socket socket_;
  net::SocketAddress local_;
  reactor::Channel channel_;
  net::FileDescriptor spare_;
  NewConnection new_connection_;
  bool listening_ = false;
  bool stopped_ = false;
  reactor::TimerId backoff_timer_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_no_fds_{0};
};

}  // namespace avant::tcp
