#include <cassert>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>

namespace avant::reactor {

Channel::Channel(EventLoop& loop, int fd) noexcept : loop_(loop), fd_(fd) {}

Channel::~Channel() {
  assert(!handling_ && "a Channel must not be destroyed by its own callback");
  // An owner that forgot remove() would leave the poller with a dangling pointer. A channel that
  // is not in the poller (state fresh) touches nothing, so it may die on any thread.
  if (state_ != PollerState::fresh) remove();
}

void Channel::tie(const std::shared_ptr<void>& owner) {
  tie_ = owner;
  tied_ = true;
}

void Channel::update(std::uint32_t events) {
  events_ = events;
  loop_.update_channel(*this);
}

void Channel::remove() {
  events_ = 0;
  loop_.remove_channel(*this);
}

void Channel::handle_event() {
  if (tied_) {
    // The owner may be gone (closed from another callback this iteration); then nothing to do.
    const std::shared_ptr<void> guard = tie_.lock();
    if (guard) dispatch();
  } else {
    dispatch();
  }
}

void Channel::dispatch() {
  handling_ = true;
  const std::uint32_t r = revents_;
  // Hang-up with nothing left to read: the peer is gone. With EPOLLIN still set, read first: the
  // read returns the remaining data and then end of stream.
  const bool hang_up = (r & EPOLLHUP) != 0 && (r & EPOLLIN) == 0;
  if (handler_ != nullptr) {
    if (hang_up) handler_->on_hang_up();
    if ((r & EPOLLERR) != 0) handler_->on_error();
    if ((r & kReadEvents) != 0) handler_->on_readable();
    if ((r & EPOLLOUT) != 0) handler_->on_writable();
  } else if (callbacks_) {
    const Callbacks& cb = *callbacks_;
    if (hang_up && cb.close) cb.close();
    if ((r & EPOLLERR) != 0 && cb.error) cb.error();
    if ((r & kReadEvents) != 0 && cb.read) cb.read();
    if ((r & EPOLLOUT) != 0 && cb.write) cb.write();
  }
  handling_ = false;
}

std::string Channel::events_to_string(std::uint32_t events) {
  std::string text;
  const auto add = [&](std::uint32_t bit, const char* name) {
    if ((events & bit) == 0) return;
    if (!text.empty()) text.push_back(' ');
    text.append(name);
  };
  add(EPOLLIN, "IN");
  add(EPOLLPRI, "PRI");
  add(EPOLLOUT, "OUT");
  add(EPOLLRDHUP, "RDHUP");
  add(EPOLLHUP, "HUP");
  add(EPOLLERR, "ERR");
  add(EPOLLET, "ET");
  return text.empty() ? "NONE" : text;
}

}  // namespace avant::reactor
