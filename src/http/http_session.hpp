// http_session.hpp — one connection's HTTP state: its parser, the queue of requests waiting for
// their answers, and its timer (private to module http).
//
//   input ──> parser ──> [ exchange 1 | exchange 2 | exchange 3 ]   (the pipeline, in order)
//                           │ front:      its bytes go straight to the connection
//                           └ the others: their bytes wait in `held` until they are in front
//
// Everything here runs on the connection's loop; Responders reach it through the loop's queue.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <avant/http/http_server.hpp>
#include <avant/http/request_parser.hpp>
#include <avant/net/buffer.hpp>
#include <avant/reactor/timer.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::http {

class Session;
class RestClock;

namespace detail {

// After our FIN, how long the peer has to close its side before we close it for good.
inline constexpr std::chrono::milliseconds kLinger{2000};

// One request's answer, shared by its Responder (any thread) and its Session (loop thread).
struct Exchange {
  enum class State : std::uint8_t { waiting, streaming, done };

  std::weak_ptr<tcp::TcpConnection> connection;  // set once; reaches the loop from any thread
  std::weak_ptr<Session> session;                // loop thread only
  reactor::EventLoop* loop = nullptr;            // the connection's (set once)
  std::atomic<bool> answered{false};             // send() or start() was called (any thread)
  std::atomic<bool> finished{false};             // send() or finish() was called (any thread)

  // Loop thread only.
  bool head_only = false;  // a HEAD request: no body goes out
  bool http10 = false;     // the client speaks HTTP/1.0 (no chunked encoding)
  bool close = false;      // the connection closes after this answer
  State state = State::waiting;
  bool chunked = false;
  std::optional<std::uint64_t> remaining;  // a streamed body's declared Content-Length, left
  std::string held;                        // output waiting for the earlier answers
  bool writable_wanted = false;            // a write() answered backpressure
  bool upgrade = false;                    // the request asked to leave HTTP (hold_for_upgrade)
  std::function<void()> writable_cb;
  tcp::ProtocolPtr switch_to;  // accepted by Responder::upgrade(): the next protocol

  // For reuse by the same session, once nobody else holds it: everything but the links.
  void reset() {
    answered.store(false, std::memory_order_relaxed);
    finished.store(false, std::memory_order_relaxed);
    head_only = http10 = close = chunked = writable_wanted = upgrade = false;
    state = State::waiting;
    remaining.reset();
    held.clear();
    writable_cb = nullptr;
    switch_to.reset();
  }
};

// The pipeline's exchanges in request order. A vector and the index of its front, not a list:
// a request costs no node allocation (a list allocates one per push). Empty, it keeps a small
// capacity for the next request; a connection that rests takes none (the Session goes).
// Loop thread only.
class ExchangeQueue {
 public:
  using Item = std::shared_ptr<Exchange>;

  [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  [[nodiscard]] Item& front() noexcept { return items_[head_]; }
  [[nodiscard]] Item& back() noexcept { return items_.back(); }
  [[nodiscard]] auto begin() const noexcept {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }
  [[nodiscard]] auto end() const noexcept { return items_.end(); }

  void push_back(Item item) {
    // A pipeline that never empties would grow the vector by one slot per request: once the
    // spent slots are half of it, the live ones move to the start.
    if (head_ > 0 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }
  void pop_front() noexcept {
    items_[head_].reset();
    if (++head_ == items_.size()) clear();
  }
  void clear() noexcept {
    items_.clear();
    head_ = 0;
  }
  // Gives back what a deep pipeline grew (more than `kept` slots), when empty.
  void shrink(std::size_t kept) {
    if (empty() && items_.capacity() > kept) items_.shrink_to_fit();
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return items_.capacity(); }

 private:
  std::vector<Item> items_;
  std::size_t head_ = 0;  // items_[0, head_) are spent
};

// Bytes being put together for the connection: a read's batch of answers, or one answer's head
// and body (Session::batch_, scratch_). A std::string would do, but its spare capacity can only be
// written after a resize() that fills it with zeros first; here a head is written in place, where
// it goes (room(), then commit()), and the storage grows without being filled.
// Loop thread only, like its Session.
class OutputBytes {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

  // At least `n` writable bytes after the content (growing if needed): write there, then
  // commit() what was written.
  [[nodiscard]] char* room(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }
  void append(std::string_view bytes) {
    if (bytes.empty()) return;  // (an empty view may hold no pointer, which memcpy may not get)
    std::memcpy(room(bytes.size()), bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Forgets the content, keeps the storage.
  void clear() noexcept { size_ = 0; }
  // Forgets the content and frees the storage.
  void release() noexcept {
    data_.reset();
    size_ = capacity_ = 0;
  }

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> data_;  // capacity_ bytes, [0, size_) written
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace detail

// The connection's protocol (tcp/protocol.hpp): made by HttpServer for each connection, on its
// loop, and held by the connection.
class Session final : public tcp::Protocol, public std::enable_shared_from_this<Session> {
 public:
  // `requests`: answered on this connection before (a session resumed after a rest, see Rest).
  Session(std::shared_ptr<HttpServer::Shared> shared, tcp::TcpConnection& connection,
          std::size_t requests = 0);

  // The connection is up: starts the wait for the first request.
  void begin();
  // The connection's events.
  void on_message(net::Buffer& input);
  void on_write_complete();
  void on_down();
  // The server is stopping: finish what is in flight, then close.
  void drain();

  // tcp::Protocol: the events above.
  void on_up(const tcp::TcpConnectionPtr& /*connection*/) override { begin(); }
  void on_message(const tcp::TcpConnectionPtr& /*connection*/, net::Buffer& input) override {
    on_message(input);
  }
  void on_write_complete(const tcp::TcpConnectionPtr& /*connection*/) override {
    on_write_complete();
  }
  void on_down(const tcp::TcpConnectionPtr& /*connection*/) override { on_down(); }
  void on_drain(const tcp::TcpConnectionPtr& /*connection*/) override { drain(); }

  // A Responder's operations, on the loop thread.
  void answer(detail::Exchange& ex, Response&& response);
  // Responder::upgrade(): 101 with `head`'s fields, then the connection goes to `next` once
  // every earlier answer is out (finish_upgrade).
  void upgrade(detail::Exchange& ex, Response&& head, tcp::ProtocolPtr next);
  void start(detail::Exchange& ex, Response&& head);
  tcp::SendStatus write(detail::Exchange& ex, std::string_view bytes);
  void finish(detail::Exchange& ex);
  // write() for a Responder on another thread, which was told `backpressure` when the output was
  // full: makes sure its on_writable fires even if the output drained before this runs.
  void write_from_elsewhere(detail::Exchange& ex, std::string_view bytes, bool told_backpressure);
  tcp::SendStatus send_file(detail::Exchange& ex, int file_fd, std::uint64_t& offset,
                            std::uint64_t& remaining);
  // The stream can not be finished properly (its Responder was dropped): close the connection.
  void abort(detail::Exchange& ex);
  void set_writable_callback(detail::Exchange& ex, std::function<void()> cb);
  [[nodiscard]] bool closed() const noexcept { return output_state_ == Output::down; }

 private:
  // What becomes of the bytes that come in.
  //
  //   reading --max_pipeline answers outstanding--> paused --room again--> reading
  //      │ └─ an Upgrade request ──> upgrading --declined: HTTP goes on--> reading
  //      │                               └ accepted: the connection leaves HTTP (this session ends)
  //      └──────────── a close asked for, a refusal, CONNECT, our shutdown ──────────> closed
  enum class Input : std::uint8_t {
    reading,    // requests are parsed as they come
    paused,     // the connection does not read (set_reading(false)) until answers leave
    upgrading,  // an Upgrade request waits for its answer: nothing read or parsed after it
    closed,     // no further request: what comes is read and dropped until the peer closes
  };
  // Where the output stands: open --close_after_output()--> shut --down--> down (or open -> down).
  enum class Output : std::uint8_t {
    open,  // answers go out
    shut,  // our FIN follows the queued output; no new answer, the peer's close awaited
    down,  // the connection is gone
  };

  // What the connection waits for, and so which timeout applies.
  enum class Wait : std::uint8_t { first_request, head, body, answer, idle, linger };

  void process();
  void dispatch(Request& request);
  [[nodiscard]] std::shared_ptr<detail::Exchange> new_exchange();
  void fail(int status, const std::string& reason);
  void serialize_head(detail::Exchange& ex, Response& response, detail::OutputBytes& out,
                      std::optional<std::uint64_t> length);
  // The common answer (a prebuilt status line and Content-Type, no other field, a length, the
  // connection going on), head and `body`, appended to `out` faster than serialize_head() does;
  // false (nothing written) for any other answer.
  [[nodiscard]] bool write_common_answer(detail::Exchange& ex, const Response& response,
                                         detail::OutputBytes& out, std::uint64_t length,
                                         std::string_view body);
  // A head's first lines: the status's prebuilt line (status_line()), the server's Server line,
  // Date, and a prebuilt Content-Type line (in static storage, or empty). Kept from answer to
  // answer, so a head starts with one copy instead of four; made again when the status, the type
  // or the second changes. Empty for a status without a prebuilt line, and if they do not fit in
  // head_start_ (a long Server line).
  std::string_view head_start(int status, std::string_view type) {
    if (status == head_status_ && type.data() == head_type_.data() &&
        loop_.poll_time() < head_until_)
      return {head_start_.data(), head_start_size_};
    return make_head_start(status, type);
  }
  std::string_view make_head_start(int status, std::string_view type);
  // An answer's bytes: to the connection (or the read's batch) when the exchange is in front,
  // else held in the exchange until it is.
  [[nodiscard]] tcp::SendStatus emit(detail::Exchange& ex, std::string_view bytes);
  // The exchange waits for its output to drain: on_writable fires on the next write-complete.
  void want_writable(detail::Exchange& ex);
  // connection_.send(), closing the connection when the bytes would pass max_output.
  tcp::SendStatus send_or_close(std::string_view bytes);
  // Sends what answers added to batch_ while a read was being parsed.
  void flush_batch();
  void complete(detail::Exchange& ex);
  void advance();
  // advance(): an answer left and another is now in front: what it held goes out, or a producer
  // that waited for its turn is woken. (The reference's helper; a lab may inline it.)
  void next_in_front();
  void close_after_output();
  // Between requests, with nothing in flight, nothing half-read and nothing waiting, for
  // options_.rest_after: hands the connection to a Rest (below) and ends this session. From
  // update_timer() (outside process()) or the timer.
  [[nodiscard]] bool can_rest() const noexcept;
  void rest();
  // The request just parsed asks to upgrade: mark it, and read nothing after it until the
  // handler has answered (the bytes after it may be another protocol's).
  void hold_for_upgrade(Request& request);
  // The answer to an Upgrade request left the queue: with Responder::upgrade() the connection
  // switches to the next protocol (with the bytes after the request) and this session ends:
  // true; otherwise HTTP goes on after the request: false.
  [[nodiscard]] bool finish_upgrade(detail::Exchange& ex);
  // The input's transitions (see Input). close_input() is final.
  void pause_input();
  void resume_input();
  void close_input();
  // The answers of one read go out in one send: while process() runs, until the output shuts.
  [[nodiscard]] bool batching() const noexcept {
    return processing_ && output_state_ == Output::open;
  }
  // The one backpressure test: `bytes` buffered for this connection reach its high-water mark.
  [[nodiscard]] bool at_high_water(std::size_t bytes) const noexcept;
  // Nothing in flight: frees what a big answer or a deep pipeline grew (a scratch over
  // kScratchKept, a queue over kQueueKept slots).
  void release_idle_memory() {
    // Inline: almost always there is nothing to give back.
    if (scratch_.capacity() > kScratchKept || queue_.capacity() > kQueueKept) give_back_memory();
  }
  void give_back_memory();
  static constexpr std::size_t kScratchKept = 1024;
  static constexpr std::size_t kBatchKept = 16u << 10;  // a batch kept between requests, at most
  static constexpr std::size_t kQueueKept = 4;          // queue slots kept between requests
  void compute_wait();
  void update_timer();
  void arm_timer(reactor::TimePoint due);
  void timer_fired();

  std::shared_ptr<HttpServer::Shared> shared_;
  const HttpOptions& options_;
  tcp::TcpConnection& connection_;
  reactor::EventLoop& loop_;
  RequestParser parser_;
  net::Buffer* input_ = nullptr;  // the connection's input (stable for its life)
  detail::ExchangeQueue queue_;
  std::shared_ptr<detail::Exchange> spare_;  // a finished exchange, reused once no one holds it
  std::size_t requests_ = 0;
  Input input_state_ = Input::reading;
  Output output_state_ = Output::open;
  bool draining_ = false;        // the server is stopping: the answer in flight is the last
  bool processing_ = false;      // inside process(): a nested call returns at once
  detail::OutputBytes batch_;    // what the answers of the read being parsed send (batching())
  detail::OutputBytes scratch_;  // where an answer is formatted (kept while the pipeline is busy)
  bool continue_sent_ = false;   // "100 Continue" went out for the request being read
  // head_start()'s lines (in place: a Session makes no allocation for them), what they were
  // made of, and until when their Date holds.
  std::array<char, 192> head_start_{};
  std::size_t head_start_size_ = 0;
  int head_status_ = 0;  // 0: none kept
  std::string_view head_type_;
  reactor::TimePoint head_until_{};

  Wait wait_ = Wait::first_request;
  reactor::TimePoint deadline_{};
  reactor::TimePoint head_since_{};
  reactor::TimePoint last_input_{};
  reactor::TimePoint idle_since_{};
  reactor::TimePoint answer_since_{};
  bool timer_armed_ = false;
  reactor::TimePoint timer_at_{};
  reactor::TimerId timer_{};
};

// An idle keep-alive connection's protocol: the Session, its parser and its buffers are gone, and
// what is left is the request count and a place in its loop's keep-alive clock. The first byte of
// the next request makes a Session again (resumed: it counts on from `requests`), which takes the
// connection back with that byte; the keep-alive timeout half-closes it, and the peer's close or
// kLinger after that ends it.
//
//   Session --idle: rest()--> Rest --bytes--> Session (switch_protocol both ways; chapter 02)
//
// Loop thread of its connection, like every protocol.
// A place in a RestClock's ring: the clock's own link is the ring's sentinel, so a Rest leaves
// the ring by its two links alone, knowing neither its clock nor whether it is the front.
struct RestLink {
  RestLink* prev = nullptr;  // null: in no ring
  RestLink* next = nullptr;
};

class Rest final : public tcp::Protocol, private RestLink {
 public:
  Rest(HttpServer::Shared& shared, std::size_t requests, reactor::TimePoint idle_since);
  ~Rest() override;
  Rest(const Rest&) = delete;
  Rest& operator=(const Rest&) = delete;
  Rest(Rest&&) = delete;
  Rest& operator=(Rest&&) = delete;

  void on_up(const tcp::TcpConnectionPtr& connection) override;
  void on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) override;
  void on_down(const tcp::TcpConnectionPtr& connection) override;
  void on_drain(const tcp::TcpConnectionPtr& connection) override;

 private:
  friend class RestClock;

  // The deadline passed: the first time a half-close, the second (kLinger later) the close.
  void expire();
  void wait(std::chrono::milliseconds timeout, reactor::TimePoint since);
  void leave_clock() noexcept;

  // 56 bytes with the vtable pointer and the RestLink: one of these stays with every idle
  // connection (docs/performance.md, "Idle memory").
  // A plain pointer: the server's TcpServer closes every connection before the HttpServer lets
  // go of its Shared, and a Rest touches it only while its connection is open.
  HttpServer::Shared* shared_;
  tcp::TcpConnection* connection_ = nullptr;  // the owner (it holds this Rest), from on_up
  reactor::TimePoint deadline_{};             // until on_up: when the connection went idle
  std::uint32_t requests_;  // answered so far (saturates; handed to the next Session)
  bool shut_ = false;       // our FIN went out: what comes is dropped, the peer's close awaited
};

}  // namespace avant::http
