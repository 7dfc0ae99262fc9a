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
//
// Who is called: the four callbacks (on_read, ...), or one Handler the owner implements. An owner
// of which there are many — a TcpConnection per client — is a Handler: a pointer instead of four
// std::functions (32 bytes each) in every connection. The callbacks are kept out of line, made on
// the first on_*() call.
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

  // The events of handle_event(), for an owner that takes them as virtual calls.
  class Handler {
   public:
    virtual void on_readable() = 0;  // EPOLLIN, EPOLLPRI, EPOLLRDHUP
    virtual void on_writable() = 0;  // EPOLLOUT
    virtual void on_hang_up() = 0;   // EPOLLHUP without EPOLLIN
    virtual void on_error() = 0;     // EPOLLERR

    virtual ~Handler() = default;

   protected:
    Handler() = default;
    Handler(const Handler&) = default;
    Handler& operator=(const Handler&) = default;
    Handler(Handler&&) = default;
    Handler& operator=(Handler&&) = default;
  };

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

  void on_read(EventCallback cb) { callbacks().read = std::move(cb); }
  void on_write(EventCallback cb) { callbacks().write = std::move(cb); }
  void on_close(EventCallback cb) { callbacks().close = std::move(cb); }
  void on_error(EventCallback cb) { callbacks().error = std::move(cb); }
  // Instead of the callbacks: `handler` (which outlives the channel, or calls remove() first).
  void set_handler(Handler& handler) noexcept { handler_ = &handler; }

  // Keeps `owner` alive while handle_event runs (see the header comment).
  void tie(const std::shared_ptr<void>& owner);

  [[nodiscard]] int fd() const noexcept { return fd_; }
  // What the poller asks epoll for: the enabled events, with EPOLLET when edge-triggered.
  [[nodiscard]] std::uint32_t events() const noexcept {
    return edge_triggered_ && events_ != 0 ? events_ | EPOLLET : events_;
  }
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

  // Edge-triggered: epoll reports the descriptor when it becomes ready (new bytes, new room),
  // not at every poll while it stays ready; enabling an event reports it if it holds already.
  // The owner must then take all that is there, or come back for the rest itself: a descriptor
  // left ready is not reported again. For an owner that reads and writes until the kernel says
  // so (TcpConnection); the default is level-triggered. Takes effect at the next update.
  void set_edge_triggered(bool on) noexcept { edge_triggered_ = on; }
  [[nodiscard]] bool edge_triggered() const noexcept { return edge_triggered_; }

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

  struct Callbacks {
    EventCallback read;
    EventCallback write;
    EventCallback close;
    EventCallback error;
  };

  void update(std::uint32_t events);
  void dispatch();
  Callbacks& callbacks() {
    if (!callbacks_) callbacks_ = std::make_unique<Callbacks>();
    return *callbacks_;
  }

  EventLoop& loop_;
  const int fd_;
  std::uint32_t events_ = 0;
  std::uint32_t revents_ = 0;
  PollerState state_ = PollerState::fresh;
  bool handling_ = false;
  bool tied_ = false;
  bool edge_triggered_ = false;
  std::weak_ptr<void> tie_;
  Handler* handler_ = nullptr;
  std::unique_ptr<Callbacks> callbacks_;  // made by the first on_*()
};

}  // namespace avant::reactor
