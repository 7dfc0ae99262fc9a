// poller.hpp — the readiness source of one EventLoop: epoll, level-triggered unless a Channel asks
// for edge-triggered (below).
//
// Why level-triggered by default: a reader takes at most one buffer-full per readiness event and
// may stop reading on purpose (backpressure: its output is above the high-water mark). With
// level-triggered epoll the kernel reports the descriptor again on the next iteration while data
// remains, so fairness and backpressure cost nothing. Edge-triggered epoll reports only changes:
// every reader would have to drain to EAGAIN before returning (one greedy peer starves the others)
// or keep its own "still readable" list, and a missed drain is a silent stall. The price of
// level-triggered is one epoll_ctl to turn EPOLLOUT off when an output buffer drains — paid only
// by connections that filled their socket buffer.
//
// A Channel may ask for edge-triggered instead (Channel::set_edge_triggered; TcpConnection does,
// for the order of service it gives many busy connections: chapter 02, "A connection is
// edge-triggered"): its events() then carry EPOLLET, which control() passes to epoll_ctl as it is.
//
// Ownership: owns the epoll descriptor; knows Channels by pointer and owns none of them.
// Threads: the owning loop's thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <sys/epoll.h>

#include <avant/net/file_descriptor.hpp>

namespace avant::reactor {

class Channel;

class Poller {
 public:
  Poller();  // throws std::system_error naming epoll_create1
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller() = default;
  Poller(Poller&&) = delete;
  Poller& operator=(Poller&&) = delete;

  // Waits up to `timeout` (negative: forever) and appends the ready channels, with their revents
  // set, to `active`. EINTR is an empty wake-up, not an error.
  void poll(std::chrono::milliseconds timeout, std::vector<Channel*>& active);

  // Adds, modifies or (when it has no events) detaches the channel's fd in the epoll set.
  void update_channel(Channel& channel);
  // Forgets the channel entirely (it must have no events, or be detached first).
  void remove_channel(Channel& channel);
  [[nodiscard]] bool has_channel(const Channel& channel) const;
  [[nodiscard]] std::size_t channel_count() const noexcept { return count_; }

 private:
  void control(int operation, Channel& channel);
  void remember(Channel& channel);  // channels_[fd] = &channel, growing the table

  net::FileDescriptor epoll_fd_;
  std::vector<epoll_event> events_;  // grows when a wait fills it: never misses readiness
  // fd -> Channel*, indexed by the descriptor (the kernel hands out the lowest free one, so the
  // table stays as dense as the open descriptors): 8 bytes a channel, no node to allocate.
  std::vector<Channel*> channels_;
  std::size_t count_ = 0;  // non-null entries of channels_
};

}  // namespace avant::reactor
