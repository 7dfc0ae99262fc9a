// udp_endpoint.hpp — a UDP socket on an event loop: datagrams in, a batch per system call and at
// most a set number per readiness event; datagrams out, with a bounded queue for when the
// socket's send buffer is full.
//
//   UdpEndpoint endpoint(loop, SocketAddress::ipv4_loopback(20025));
//   endpoint.set_message_callback([&](std::string_view datagram, const SocketAddress& from) {
//     endpoint.send_to(datagram, from);                        // an echo
//   });
//   endpoint.start();
//
// In: on readiness, recvmmsg(2) reads up to options.batch datagrams per call (recvmsg with a
// batch of 1: it reports truncation as recvmmsg does), until the socket is empty or options.max_per_event datagrams have been handled:
// the loop then serves its other descriptors and timers before it comes back (the socket is
// still readable; epoll is level-triggered), so a flood cannot starve them. A datagram longer
// than options.max_datagram is truncated by the kernel (MSG_TRUNC): it is counted and dropped,
// never handed over as a shorter one. A zero-length datagram is counted and ignored.
//
// Out: send_to() sends at once when nothing is queued. Answers made while the datagrams of one
// receive batch are handled go out together after it, with sendmmsg(2) calls of up to
// options.batch datagrams (sendmsg for a single one). When the socket's
// send buffer is full (EAGAIN: backpressure, not an error) datagrams wait in a queue of at most
// options.max_queued, sent as soon as the socket is writable; over that, options.when_full says
// which one is dropped, and it is counted. A send that fails for another reason is counted and
// reported to the error callback.
//
// Errors the socket reports — an ICMP "port unreachable" on a connected socket comes back as
// ECONNREFUSED on a later call — go to the error callback and are counted; the endpoint goes on.
//
// Threads: construct, start, send and destroy on the loop's thread (asserted); stats() from any
// thread. The callbacks run on the loop's thread and must not destroy the endpoint.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>

namespace avant::udp {

// Which datagram a full send queue drops.
enum class WhenFull : std::uint8_t {
  drop_newest,  // the one being sent (send_to answers `dropped`): what is queued keeps its order
  drop_oldest,  // the longest-waiting one: the freshest datagrams go out
};

struct UdpOptions {
  // Bytes kept of one datagram; a longer one is truncated by the kernel, counted and dropped.
  // 65535 takes any datagram IPv4 or IPv6 can carry.
  std::size_t max_datagram = 65535;
  // Datagrams handled per readiness event at most (the original's other_udp_svr_max_loop).
  std::size_t max_per_event = 1000;
  // Datagrams per recvmmsg/sendmmsg call; 1 reads with recvmsg and writes with sendto/sendmsg.
  std::size_t batch = 16;
  // SO_RCVBUF and SO_SNDBUF, in bytes (the kernel doubles them); 0 keeps the system's default.
  int receive_buffer = 0;
  int send_buffer = 0;
  // Datagrams waiting for room in the socket's send buffer, at most.
  std::size_t max_queued = 1024;
  WhenFull when_full = WhenFull::drop_newest;
  // For an IPv6 address: false also takes IPv4 (dual-stack, on [::]); true takes IPv6 only.
  bool v6_only = true;
};

// What send_to() did with a datagram.
enum class SendResult : std::uint8_t {
  sent,     // handed to the kernel (or to this receive batch's sendmmsg)
  queued,   // the socket's send buffer is full: it waits for room
  dropped,  // the queue is full and the policy dropped this one (drop_newest)
  error,    // the kernel refused it (counted; reported to the error callback)
};

struct UdpStats {
  std::uint64_t received = 0;        // datagrams handed to the message callback
  std::uint64_t truncated = 0;       // longer than max_datagram: dropped
  std::uint64_t empty = 0;           // zero-length: ignored
  std::uint64_t sent = 0;            // datagrams the kernel took
  std::uint64_t queued = 0;          // datagrams that had to wait for room (ever)
  std::uint64_t dropped = 0;         // dropped by the full queue's policy
  std::uint64_t send_errors = 0;     // sends the kernel refused (not EAGAIN)
  std::uint64_t receive_errors = 0;  // errors a receive reported (ICMP errors among them)
  std::uint64_t receive_calls = 0;   // recvmmsg/recvmsg calls that returned datagrams
  std::uint64_t send_calls = 0;      // sendmmsg/sendmsg/sendto calls that sent something
};

// A UDP socket of `address`'s family with `options`' buffer sizes and v6_only, bound to it (any
// thread; throws std::system_error naming bind and the address).
[[nodiscard]] net::Socket bind_udp(const net::SocketAddress& address, const UdpOptions& options);

class UdpEndpoint final : private reactor::Channel::Handler {
 public:
  using MessageCallback =
      std::function<void(std::string_view datagram, const net::SocketAddress& from)>;
  // `error`: an errno (ECONNREFUSED, ...); `what`: "receive" or "send".
  using ErrorCallback = std::function<void(int error, const char* what)>;

  // Loop thread. A socket of `address`'s family bound to it (throws std::system_error naming
  // bind and the address); not yet reading (start()).
  UdpEndpoint(reactor::EventLoop& loop, const net::SocketAddress& address, UdpOptions options = {});
  // Loop thread. The same on a socket bound already (bind_udp), for a process that binds its
  // ports before its threads start.
  UdpEndpoint(reactor::EventLoop& loop, net::Socket bound, UdpOptions options = {});
  ~UdpEndpoint() override;
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;
  UdpEndpoint(UdpEndpoint&&) = delete;
  UdpEndpoint& operator=(UdpEndpoint&&) = delete;

  // Loop thread; set before start().
  void set_message_callback(MessageCallback callback) { on_message_ = std::move(callback); }
  void set_error_callback(ErrorCallback callback) { on_error_ = std::move(callback); }
  // Loop thread. Starts reading.
  void start();
  // Loop thread. Connects the socket to `peer` (a client's endpoint): only its datagrams are
  // received, send() goes to it, and ICMP errors about it are reported.
  void connect(const net::SocketAddress& peer);

  // Loop thread. One datagram to `to`, or to the connected peer.
  SendResult send_to(std::string_view datagram, const net::SocketAddress& to);
  SendResult send(std::string_view datagram);

  // Loop thread. The bound address (the port the kernel chose for port 0).
  [[nodiscard]] net::SocketAddress local_address() const { return socket_.local_address(); }
  // Loop thread. Datagrams waiting in the send queue.
  [[nodiscard]] std::size_t queued_now() const noexcept { return queue_.size(); }
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return loop_; }
  [[nodiscard]] const UdpOptions& options() const noexcept { return options_; }
  // Any thread.
  [[nodiscard]] UdpStats stats() const noexcept;

 private:
  struct Outgoing {
    net::SocketAddress to;  // unspecified: the connected peer
    std::string bytes;
  };
  // A counter written by the loop thread only, read from any: a load and a store, no locked
  // read-modify-write on the hot path.
  class Counter {
   public:
    void add(std::uint64_t n) noexcept {
      value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t get() const noexcept {
      return value_.load(std::memory_order_relaxed);
    }

   private:
    std::atomic<std::uint64_t> value_{0};
  };

  void on_readable() override;
  void on_writable() override;
  void on_hang_up() override {}
  void on_error() override;

  // Reads one batch: the number of datagrams the call returned; 0 when there is nothing to read,
  // -1 after an error the call reported (and consumed).
  int receive_batch(std::size_t want);
  void deliver(std::size_t slot);
  // `to` null: the connected peer.
  SendResult send_datagram(std::string_view datagram, const net::SocketAddress* to);
  SendResult enqueue(std::string_view datagram, const net::SocketAddress* to);
  // Sends what is queued, a batch per call, until done or the socket is full; `writable_retry`:
  // called on EPOLLOUT, for datagrams that already waited (and were counted).
  void flush_queue(bool writable_retry);
  void report(int error, const char* what);

  reactor::EventLoop& loop_;
  UdpOptions options_;
  net::Socket socket_;
  reactor::Channel channel_;
  MessageCallback on_message_;
  ErrorCallback on_error_;
  bool connected_ = false;
  bool in_batch_ = false;  // handling a receive batch: answers join the queue, sent after it
  bool blocked_ = false;   // the send buffer was full: waiting for EPOLLOUT

  // The receive batch's storage: options_.batch slots of max_datagram bytes, made at start()
  // and not zeroed (a page costs memory once a datagram is written into it); the batch's
  // headers and addresses (to receive and to send), made at the first use.
  std::unique_ptr<char[]> receive_storage_;  // NOLINT(*-avoid-c-arrays): raw, uninitialised
  struct Slots;
  std::unique_ptr<Slots> slots_;

  std::deque<Outgoing> queue_;
  std::vector<std::string> spare_;  // the strings of sent datagrams, reused (their capacity kept)

  Counter received_, truncated_, empty_, sent_, queued_, dropped_, send_errors_, receive_errors_,
      receive_calls_, send_calls_;
};

}  // namespace avant::udp
