// channel.hpp — one descriptor's interest set and callbacks, on one EventLoop.
//
//          EventLoop ── owns ──> Poller (epoll)
//              │                    │ knows, by pointer
//              └── runs callbacks of ── Channel ── names ──> fd (owned by someone else)
//
// Ownership: a Channel does NOT own its fd; the object that owns the fd (a TcpConnection, an
// Acceptor, the loop's wake-up eventfd) owns the Channel too and must call remove() before the fd
// is closed. When the owner may be destroyed by one of its own callbacks, it calls tie() with a
// weak reference to itself: handle_event() then holds a strong reference for the duration of the
// callbacks, so `this` stays valid inside them.
// Threads: every method on the owning loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <sys/epoll.h>

namespace avant::reactor {

class EventLoop;

class Channel {
 public:
  using EventCallback = std::function<void()>;

  Channel(EventLoop& loop, int fd) noexcept;
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  Channel(Channel&&) = delete;
  Channel& operator=(Channel&&) = delete;

  // Dispatches the events the poller reported (set by set_revents) to the callbacks:
  // EPOLLHUP without EPOLLIN -> close; EPOLLERR -> error; EPOLLIN/EPOLLPRI/EPOLLRDHUP -> read;
  // EPOLLOUT -> write.
  void handle_event();

  void on_read(EventCallback cb) { read_cb_ = std::move(cb); }
  void on_write(EventCallback cb) { write_cb_ = std::move(cb); }
  void on_close(EventCallback cb) { close_cb_ = std::move(cb); }
  void on_error(EventCallback cb) { error_cb_ = std::move(cb); }

  // Keeps `owner` alive while handle_event runs (see the header comment).
  void tie(const std::shared_ptr<void>& owner);

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::uint32_t events() const noexcept { return events_; }
  void set_revents(std::uint32_t revents) noexcept { revents_ = revents; }
  [[nodiscard]] std::uint32_t revents() const noexcept { return revents_; }

  void enable_reading() { update(events_ | kReadEvents); }
  void disable_reading() { update(events_ & ~kReadEvents); }
  void enable_writing() { update(events_ | EPOLLOUT); }
  void disable_writing() { update(events_ & ~static_cast<std::uint32_t>(EPOLLOUT)); }
  void disable_all() { update(0); }
  [[nodiscard]] bool is_reading() const noexcept { return (events_ & kReadEvents) != 0; }
  [[nodiscard]] bool is_writing() const noexcept { return (events_ & EPOLLOUT) != 0; }
  [[nodiscard]] bool has_no_events() const noexcept { return events_ == 0; }

  // Takes the channel out of the poller. Required before destruction if it was ever enabled.
  void remove();

  [[nodiscard]] EventLoop& loop() const noexcept { return loop_; }

  // The Poller's bookkeeping: whether the fd is in the epoll set.
  enum class PollerState : std::uint8_t { fresh, added, detached };
  [[nodiscard]] PollerState poller_state() const noexcept { return state_; }
  void set_poller_state(PollerState state) noexcept { state_ = state; }

  // "IN OUT HUP ..." for logs and test messages.
  [[nodiscard]] static std::string events_to_string(std::uint32_t events);

 private:
  static constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLPRI | EPOLLRDHUP;

  void update(std::uint32_t events);
  void dispatch();

  EventLoop& loop_;
  const int fd_;
  std::uint32_t events_ = 0;
  std::uint32_t revents_ = 0;
  PollerState state_ = PollerState::fresh;
  bool handling_ = false;
  bool tied_ = false;
  std::weak_ptr<void> tie_;
  EventCallback read_cb_;
  EventCallback write_cb_;
  EventCallback close_cb_;
  EventCallback error_cb_;
};

}  // namespace avant::reactor
