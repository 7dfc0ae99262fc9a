#include <algorithm>
#include <cassert>
#include <cerrno>
#include <string>
#include <system_error>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/poller.hpp>

namespace avant::reactor {

namespace {
constexpr std::size_t kInitialEvents = 16;

const char* operation_name(int operation) noexcept {
  switch (operation) {
    case EPOLL_CTL_ADD:
      return "ADD";
    case EPOLL_CTL_MOD:
      return "MOD";
    case EPOLL_CTL_DEL:
      return "DEL";
    default:
      return "?";
  }
}
}  // namespace

Poller::Poller() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), events_(kInitialEvents) {
  if (!epoll_fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void Poller::poll(std::chrono::milliseconds timeout, std::vector<Channel*>& active) {
  const int n = ::epoll_wait(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                             static_cast<int>(timeout.count()));
  if (n < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    const epoll_event& e = events_[static_cast<std::size_t>(i)];
    auto* channel = static_cast<Channel*>(e.data.ptr);
    channel->set_revents(e.events);
    active.push_back(channel);
  }
  // A full array may mean more was ready: grow, so a busy loop does not need extra iterations.
  if (static_cast<std::size_t>(n) == events_.size()) events_.resize(events_.size() * 2);
}

void Poller::update_channel(Channel& channel) {
  using State = Channel::PollerState;
  // Invariant: a channel is in channels_ exactly when its state is not `fresh`.
  switch (channel.poller_state()) {
    case State::fresh:
    case State::detached:
      if (channel.has_no_events()) return;
      control(EPOLL_CTL_ADD, channel);
      remember(channel);
      channel.set_poller_state(State::added);
      return;
    case State::added:
      if (channel.has_no_events()) {
        // Kept in the map but out of the epoll set: no readiness is reported for it at all.
        control(EPOLL_CTL_DEL, channel);
        channel.set_poller_state(State::detached);
      } else {
        control(EPOLL_CTL_MOD, channel);
      }
      return;
  }
}

void Poller::remove_channel(Channel& channel) {
  if (!has_channel(channel)) return;
  channels_[static_cast<std::size_t>(channel.fd())] = nullptr;
  --count_;
  if (channel.poller_state() == Channel::PollerState::added) control(EPOLL_CTL_DEL, channel);
  channel.set_poller_state(Channel::PollerState::fresh);
}

bool Poller::has_channel(const Channel& channel) const {
  const auto fd = static_cast<std::size_t>(channel.fd());
  return fd < channels_.size() && channels_[fd] == &channel;
}

void Poller::remember(Channel& channel) {
  const auto fd = static_cast<std::size_t>(channel.fd());
  if (fd >= channels_.size()) channels_.resize(std::max(fd + 1, 2 * channels_.size()), nullptr);
  if (channels_[fd] == nullptr) ++count_;
  channels_[fd] = &channel;
}

void Poller::control(int operation, Channel& channel) {
  epoll_event event{};
  event.events = channel.events();
  event.data.ptr = &channel;
  if (::epoll_ctl(epoll_fd_.get(), operation, channel.fd(), &event) != 0) {
    // DEL of a descriptor the owner already closed is a bug in the owner, but harmless here: the
    // kernel removed it from the set when it was closed.
    if (operation == EPOLL_CTL_DEL && errno == EBADF) return;
    throw std::system_error(errno, std::generic_category(),
                            std::string("epoll_ctl ") + operation_name(operation) + " fd " +
                                std::to_string(channel.fd()));
  }
}

}  // namespace avant::reactor
