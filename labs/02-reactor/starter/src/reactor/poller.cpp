// Lab 02 — the Poller over epoll. Contract: src/reactor/include/avant/reactor/poller.hpp.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/poller.hpp>

namespace avant::reactor {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(02): ") + what);
}
}  // namespace

Poller::Poller() {
  todo(
      "Poller::Poller: epoll_create1(EPOLL_CLOEXEC) into epoll_fd_ (throw system_error), size "
      "events_");
}

void Poller::poll(std::chrono::milliseconds timeout, std::vector<Channel*>& active) {
  static_cast<void>(timeout);
  static_cast<void>(active);
  todo(
      "Poller::poll: epoll_wait; set each channel's revents and append it to `active`; EINTR is "
      "not an error; grow events_ when it came back full");
}

void Poller::update_channel(Channel& channel) {
  static_cast<void>(channel);
  todo(
      "Poller::update_channel: by poller_state(): fresh/detached + events -> EPOLL_CTL_ADD; "
      "added + no events -> DEL (detached); added + events -> MOD");
}

void Poller::remember(Channel& channel) {
  static_cast<void>(channel);
  todo("Poller::remember: channels_[fd] = &channel, growing the table; count_ counts the entries");
}

void Poller::remove_channel(Channel& channel) {
  static_cast<void>(channel);
  todo(
      "Poller::remove_channel: forget it in channels_ (null its slot, count_ down), DEL if added, "
      "state back to fresh");
}

bool Poller::has_channel(const Channel& channel) const {
  static_cast<void>(channel);
  todo("Poller::has_channel: is this very channel in channels_[fd]?");
}

void Poller::control(int operation, Channel& channel) {
  static_cast<void>(operation);
  static_cast<void>(channel);
  todo("Poller::control: epoll_ctl with data.ptr = &channel; throw system_error naming the call");
}

}  // namespace avant::reactor
