// tcp_connection.hpp — one accepted TCP stream, owned by exactly one EventLoop.
//
// States:
//
//   connecting --connect_established()--> connected --(1)--> disconnecting --(2)--> disconnected
//                                              |                                        ^
//                                              +------------------(3)-------------------+
//
//   (1) shutdown(), force_close(), or peer EOF while output is still queued
//   (2) handle_close(): output drained after a peer EOF, the peer's EOF after our shutdown(),
//       or force_close()
//   (3) peer reset, read/write error, or peer EOF with nothing queued: handle_close()
//
// Output and backpressure:
//
//   send() ──> [ queued bytes: output Buffer + sends still on their way to the loop ] ──> socket
//                │ the output Buffer crosses high_water_mark upwards: on_high_water(conn, bytes
//                │   buffered); OverflowPolicy::pause_reading also stops reading from the peer
//                │   until the output drains to high_water_mark / 2 or below
//                │ send() answers backpressure once the queued bytes reach high_water_mark
//                └ a send that would pass max_output: pause_reading and drop refuse it
//                  (SendStatus::dropped, the connection stays); close closes the connection
//
// The output is never silently unbounded: max_output is a hard cap on the queued bytes, exact even
// with several threads sending (a compare-and-swap on one counter).
//
// The protocol above (protocol.hpp) gets the events: up, bytes, write-complete, high water, down.
// It can be switched on the loop thread while the connection is up (HTTP -> WebSocket after an
// Upgrade), with the bytes read but not consumed handed over.
//
// Lifetime: held by shared_ptr; the server keeps one reference while the connection is open, and
// every callback runs with a reference held, so `this` stays valid inside it.
// Threads: send(), shutdown(), force_close(), state(), queued_output() and the statistics from any
// thread; everything else on the owning loop's thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <avant/net/buffer.hpp>
#include <avant/net/socket.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/callbacks.hpp>
#include <avant/tcp/connection_filter.hpp>
#include <avant/tcp/protocol.hpp>

namespace avant::tcp {

// The answer of send(): ok (queued below the high-water mark), backpressure (queued, but the
// output is now at or above the high-water mark: slow down), dropped (not queued: the connection
// is not connected, or the send would pass max_output).
enum class [[nodiscard]] SendStatus : std::uint8_t{ok, backpressure, dropped};

// What a send that would pass max_output does (see the header comment).
enum class OverflowPolicy : std::uint8_t { pause_reading, drop, close };

struct ConnectionOptions {
  std::size_t high_water_mark = 4u << 20;  // queued output bytes that fire on_high_water (4 MiB)
  std::size_t max_output = 64u << 20;      // hard cap on queued output bytes (64 MiB)
  OverflowPolicy overflow = OverflowPolicy::pause_reading;
  std::size_t max_input = 64u << 20;  // input Buffer limit; a peer that fills it is disconnected
  bool no_delay = true;               // TCP_NODELAY: small replies leave at once
  // With a filter (TLS): a handshake not done by then closes the connection.
  std::chrono::milliseconds handshake_timeout{10000};
};

// What an owner (TcpServer, TcpClient) gives every one of its connections: its options and the
// callback that hears a connection has closed (after the protocol heard "down"; the owner removes
// it there). One object, shared by all of the owner's connections: nothing is copied into each.
struct ConnectionShared : ConnectionOptions {
  CloseCallback on_close;  // may be empty
};

[[nodiscard]] std::string_view to_string(SendStatus status) noexcept;
[[nodiscard]] std::string_view to_string(OverflowPolicy policy) noexcept;

class TcpConnection : public std::enable_shared_from_this<TcpConnection>,
                      private reactor::Channel::Handler {
 public:
  enum class State : std::uint8_t { connecting, connected, disconnecting, disconnected };

  // Takes a connected socket; the connection starts in `connecting` until connect_established().
  TcpConnection(reactor::EventLoop& loop, std::uint64_t id, net::Socket socket,
                const net::SocketAddress& peer, std::shared_ptr<const ConnectionShared> options);
  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;
  TcpConnection(TcpConnection&&) = delete;
  TcpConnection& operator=(TcpConnection&&) = delete;

  // --- any thread ---
  // Queues bytes for the peer (see SendStatus). On the loop thread with nothing queued, writes at
  // once and copies only what the kernel did not take; from another thread the bytes are copied
  // (or moved, for the std::string overload) and the write happens on the loop.
  SendStatus send(std::string_view bytes);
  SendStatus send(std::span<const std::byte> bytes);
  SendStatus send(std::string&& bytes);
  // A string literal: without this, "text" would fit both overloads above.
  SendStatus send(const char* text) { return send(std::string_view(text)); }
  // Half-closes (FIN) after every queued byte has been written; reading continues until the peer
  // closes too.
  void shutdown();
  // Closes now; queued output is discarded.
  void force_close();
  [[nodiscard]] State state() const noexcept { return state_.load(std::memory_order_acquire); }
  [[nodiscard]] bool connected() const noexcept { return state() == State::connected; }
  [[nodiscard]] std::size_t queued_output() const noexcept {
    return queued_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t bytes_read() const noexcept {
    return bytes_read_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t bytes_written() const noexcept {
    return bytes_written_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] reactor::EventLoop& loop() const noexcept { return channel_.loop(); }
  [[nodiscard]] const net::SocketAddress& peer_address() const noexcept { return peer_; }
  [[nodiscard]] const ConnectionOptions& options() const noexcept { return *options_; }

  // --- loop thread only ---
  // Stops or resumes reading from the peer (an application's own flow control). Backpressure
  // pauses combine with this: reading happens only when neither wants it paused.
  void set_reading(bool on);
  [[nodiscard]] bool is_reading() const noexcept { return channel_.is_reading(); }
  // Zero-copy: hands up to `count` bytes of the file `file_fd`, from `offset`, to the socket with
  // sendfile(2) — page cache to socket, never through user space. Only without a filter (TLS must
  // encrypt every byte) and only once the queued output is written: until then, and whenever the
  // socket is full, it answers would_block and reports write-complete (on_write_complete) when
  // the socket can take more. `ok` with fewer bytes than asked also ends in a write-complete.
  // `error` closes the connection. Given (tcp_connection_lifecycle.cpp).
  [[nodiscard]] net::IoResult send_file(int file_fd, std::uint64_t offset, std::size_t count);
  // When the peer last sent or took bytes (the loop's poll time), for idle timeouts.
  [[nodiscard]] reactor::TimePoint last_activity() const noexcept { return last_activity_; }
  // The protocol that reads this connection now (protocol.hpp).
  [[nodiscard]] Protocol& protocol() const noexcept { return *protocol_; }
  // Hands the connection to `next` (protocol.hpp, "Switching"): the old protocol hears nothing
  // more; `next` gets on_up, then the bytes read but not consumed. Only while connected (with a
  // filter: once up); otherwise it does nothing and answers false.
  bool switch_protocol(ProtocolPtr next);
  // Whether the protocol gets on_write_complete (off by default: each call costs a queued task).
  // A protocol that needs it only sometimes turns it on then.
  void want_write_complete(bool on) noexcept { write_complete_wanted_ = on; }
  // A server stop asks the protocol to finish (Protocol::on_drain).
  void drain();
  // The protocol is idle (between requests): frees the storage of every empty buffer, so that
  // an idle connection holds none; the next read goes to the thread's read buffer
  // (read_buffer()). (Buffers that grew past 16 KiB are freed whenever they empty.)
  void release_buffers();

  // Owner plumbing (TcpServer, TcpClient), before connect_established() (on any thread: the
  // connection reaches its loop through the loop's queue): the protocol, a filter (TLS) to pass
  // every byte through. Then start I/O and report "up"; and the final step after close. (The
  // owner's close callback came with the constructor's ConnectionShared.)
  void set_protocol(ProtocolPtr protocol) { protocol_ = std::move(protocol); }
  void set_filter(std::unique_ptr<ConnectionFilter> filter);
  void connect_established();
  void connect_destroyed();
  // The filter, or null. Loop thread.
  [[nodiscard]] const ConnectionFilter* filter() const noexcept {
    return filter_ ? filter_->filter.get() : nullptr;
  }

 private:
  // The filter and what only a filtered connection needs: out of line, so a plain connection
  // carries one pointer for it.
  struct FilterState {
    explicit FilterState(std::unique_ptr<ConnectionFilter> f, std::size_t max_input);
    std::unique_ptr<ConnectionFilter> filter;
    net::Buffer filtered;           // application bytes out of the filter
    std::size_t held_reserved = 0;  // sent before the handshake, held by the filter, still counted
    reactor::TimerId handshake_timer;
  };

  // reactor::Channel::Handler: the socket's events (given, tcp_connection_lifecycle.cpp).
  void on_readable() override;
  void on_writable() override;
  void on_hang_up() override;
  void on_error() override;

  [[nodiscard]] SendStatus reserve(std::size_t n);
  void send_in_loop(std::string_view bytes, std::size_t reserved);
  void handle_read();
  void handle_write();
  void handle_close();
  void handle_error();
  void update_reading();
  // Given (tcp_connection_protocol.cpp): the events for the protocol. pass_up(): bytes read from the
  // socket go to the protocol, through the filter if any. report_*: queued to the protocol (from
  // a task: never inside the caller), or at once for report_down(); each only once the
  // connection reported "up".
  void pass_up(net::Buffer& wire);
  // Where the next read goes: input_ while it holds unread bytes, else the loop thread's read
  // buffer, one for every connection of the thread (a busy connection's bytes pass through memory
  // that stays in the cache; docs/architecture.md, "Decisions"). pass_up() of that buffer lends its
  // storage to input_ for the protocol and keeps only what the protocol left unread.
  net::Buffer& read_buffer();
  void pass_up_input();
  void report_high_water(std::size_t queued);
  void report_write_complete();
  void report_down();
  void report_up();
  // Calls the protocol with the application's bytes; again for the next protocol after a switch.
  void dispatch(net::Buffer& input);
  // Frees the storage of an empty buffer that grew past kKeptBuffer.
  static void shrink_if_large(net::Buffer& buffer);
  static constexpr std::size_t kKeptBuffer = 16u << 10;
  // Given (tcp_connection_protocol.cpp): a send on the loop thread, through the filter if any.
  void deliver(std::string_view bytes, std::size_t reserved);
  // Given: the half-close of shutdown(): a filter's goodbye (TLS close_notify), then FIN.
  void half_close();
  // Given: the filter's output to the socket; `reserved` is what send() counted for it.
  void flush_filter(std::size_t reserved);
  void filtered_input(net::Buffer& wire);
  void filter_failed();

  // Ordered so that the small members fill the padding of the larger ones (one connection per
  // client: every 8 bytes count; docs/architecture.md, "Decisions").
  const std::uint64_t id_;
  net::Socket socket_;
  std::atomic<State> state_{State::connecting};
  bool reading_wanted_ = true;  // the application's wish (set_reading)
  bool paused_by_backpressure_ = false;
  bool peer_closed_ = false;  // read end of stream; close once output drains
  reactor::Channel channel_;
  const net::SocketAddress peer_;
  bool write_complete_wanted_ = false;
  bool up_ = false;  // the protocol heard "up" (with a filter: the handshake finished)
  // The owner's options, shared by all its connections (not a copy each).
  const std::shared_ptr<const ConnectionShared> options_;  // the owner's, with its close callback
  net::Buffer input_;
  net::Buffer output_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<std::uint64_t> bytes_written_{0};
  reactor::TimePoint last_activity_{};

  std::unique_ptr<FilterState> filter_;  // null without a filter

  ProtocolPtr protocol_;  // never null
  // The loop is the channel's; where a protocol switched away inside on_message waits is
  // dispatch()'s, on its thread (tcp_connection_protocol.cpp): 296 bytes in all.
};

}  // namespace avant::tcp
