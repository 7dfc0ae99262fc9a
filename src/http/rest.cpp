// rest.cpp — an idle keep-alive connection's protocol (Rest, http_session.hpp) and the clock of
// its keep-alive deadline.
//
// A resting connection costs no timer of the loop's timer queue: every loop keeps one RestClock
// per timeout value, a list of its resting connections in deadline order — a rest that starts
// later, with the same timeout, ends later — and one timer armed at the front. Starting and ending
// a rest is O(1), with no allocation and no system call: a connection that rests between every
// two requests of a busy keep-alive client pays for a few pointer moves.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <avant/reactor/event_loop.hpp>

#include "http_session.hpp"

namespace avant::http {

class RestClock {
 public:
  RestClock(reactor::EventLoop& loop, std::chrono::milliseconds timeout)
      : loop_(loop), timeout_(timeout) {
    ring_.prev = ring_.next = &ring_;
  }
  ~RestClock() = default;  // with its loop: every Rest left it when its connection went down
  RestClock(const RestClock&) = delete;
  RestClock& operator=(const RestClock&) = delete;
  RestClock(RestClock&&) = delete;
  RestClock& operator=(RestClock&&) = delete;

  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }

  // At the back: its deadline is the latest.
  void add(Rest& rest, reactor::TimePoint since) noexcept {
    rest.deadline_ = since + timeout_;
    RestLink& link = rest;
    link.prev = ring_.prev;
    link.next = &ring_;
    ring_.prev->next = &link;
    ring_.prev = &link;
    if (!armed_) arm(rest.deadline_);
  }

  // Out of its ring, if it is in one.
  static void remove(Rest& rest) noexcept {
    RestLink& link = rest;
    if (link.prev == nullptr || link.next == nullptr) return;
    link.prev->next = link.next;
    link.next->prev = link.prev;
    link.prev = link.next = nullptr;
    // The timer stays: if this was the front, it fires early and finds nothing due.
  }

 private:
  [[nodiscard]] Rest* front() noexcept {
    if (ring_.next == &ring_) return nullptr;
    // Every link of the ring but the sentinel is a Rest's (add() links nothing else).
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-static-cast-downcast)
    return &static_cast<Rest&>(*ring_.next);
  }

  void arm(reactor::TimePoint when) {
    armed_ = true;
    loop_.run_at(when, [this] { fire(); });
  }

  void fire() {
    armed_ = false;
    const reactor::TimePoint now = reactor::Clock::now();
    for (Rest* due = front(); due != nullptr && due->deadline_ <= now; due = front()) {
      remove(*due);
      due->expire();  // may add it again, to another clock
    }
    if (Rest* next = front()) arm(next->deadline_);
  }

  reactor::EventLoop& loop_;
  const std::chrono::milliseconds timeout_;
  RestLink ring_;  // the sentinel: ring_.next is the front (the earliest deadline)
  bool armed_ = false;
};

namespace {

// The clocks of one loop, one per timeout in use (servers with different keep-alive timeouts can
// share a loop; kLinger has its own).
struct RestClocks {
  std::vector<std::unique_ptr<RestClock>> clocks;

  RestClock& of(reactor::EventLoop& loop, std::chrono::milliseconds timeout) {
    for (const auto& clock : clocks) {
      if (clock->timeout() == timeout) return *clock;
    }
    clocks.push_back(std::make_unique<RestClock>(loop, timeout));
    return *clocks.back();
  }
};

}  // namespace

Rest::Rest(HttpServer::Shared& shared, std::size_t requests, reactor::TimePoint idle_since)
    : shared_(&shared),
      deadline_(idle_since),
      requests_(static_cast<std::uint32_t>(
          std::min<std::size_t>(requests, std::numeric_limits<std::uint32_t>::max()))) {}

Rest::~Rest() {
  leave_clock();  // on_down or a wake-up did already, on the loop thread
}

void Rest::leave_clock() noexcept {
  RestClock::remove(*this);
}

void Rest::wait(std::chrono::milliseconds timeout, reactor::TimePoint since) {
  leave_clock();
  reactor::EventLoop& loop = connection_->loop();
  loop.local<RestClocks>().of(loop, timeout).add(*this, since);
}

void Rest::on_up(const tcp::TcpConnectionPtr& connection) {
  connection_ = connection.get();
  wait(shared_->options.keep_alive_timeout, deadline_);  // the deadline counts from the idle start
}

void Rest::expire() {
  if (shut_) {
    connection_->force_close();  // the peer did not close within kLinger of our FIN
    return;
  }
  shut_ = true;
  connection_->shutdown();
  wait(detail::kLinger, connection_->loop().poll_time());
}

void Rest::on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) {
  if (shut_) {
    input.retrieve_all();  // a lingering close: read and dropped until the peer closes
    return;
  }
  leave_clock();
  // The next request: a Session takes the connection back, and with it these bytes (they are
  // handed over once this returns).
  static_cast<void>(connection->switch_protocol(
      std::make_shared<Session>(shared_->shared_from_this(), *connection, requests_)));
}

void Rest::on_down(const tcp::TcpConnectionPtr& /*connection*/) {
  leave_clock();
}

void Rest::on_drain(const tcp::TcpConnectionPtr& /*connection*/) {
  if (!shut_) expire();  // nothing in flight: a stop half-closes a resting connection now
}

}  // namespace avant::http
