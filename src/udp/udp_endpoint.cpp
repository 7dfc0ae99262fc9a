// udp_endpoint.cpp — the endpoint's data path (udp_endpoint.hpp). Lab 08 rewrites this file; the
// rest (binding, start(), the statistics, errors) is in udp_endpoint_support.cpp, the batch's
// headers in udp_slots.hpp.
#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>

#include <avant/udp/udp_endpoint.hpp>

#include "udp_slots.hpp"

namespace avant::udp {
// --- in ---------------------------------------------------------------------------------------

void UdpEndpoint::on_readable() {
  std::size_t budget = options_.max_per_event;
  in_batch_ = true;
  while (budget > 0) {
    const std::size_t want = std::min(options_.batch, budget);
    const int got = receive_batch(want);
    if (got == 0) break;  // nothing more to read
    if (got < 0) {        // an error, reported and consumed: it counts against the budget too
      --budget;
      continue;
    }
    for (int i = 0; i < got; ++i)
      deliver(static_cast<std::size_t>(i));
    budget -= static_cast<std::size_t>(got);
    // This batch's answers go out together, before the next batch is read.
    in_batch_ = false;
    if (!blocked_) flush_queue(false);
    in_batch_ = true;
    if (static_cast<std::size_t>(got) < want) break;  // the socket is empty
  }
  in_batch_ = false;
  if (!blocked_) flush_queue(false);
}

int UdpEndpoint::receive_batch(std::size_t want) {
  Slots& s = *slots_;
  for (std::size_t i = 0; i < want; ++i) {
    s.buffers[i] = {.iov_base = receive_storage_.get() + i * options_.max_datagram,
                    .iov_len = options_.max_datagram};
    msghdr& h = s.headers[i].msg_hdr;
    h = {};
    h.msg_name = &s.addresses[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &s.buffers[i];
    h.msg_iovlen = 1;
    s.headers[i].msg_len = 0;
  }
  for (;;) {
    int n = 0;
    if (want == 1) {
      // One at a time: recvmsg, which reports MSG_TRUNC like recvmmsg.
      const ssize_t r = ::recvmsg(socket_.fd(), &s.headers[0].msg_hdr, MSG_DONTWAIT);
      if (r >= 0) s.headers[0].msg_len = static_cast<unsigned>(r);
      n = r >= 0 ? 1 : -1;
    } else {
      n = ::recvmmsg(socket_.fd(), s.headers.data(), static_cast<unsigned>(want), MSG_DONTWAIT,
                     nullptr);
    }
    if (n > 0) {
      receive_calls_.add(1);
      return n;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    receive_errors_.add(1);
    report(errno, "receive");
    return -1;
  }
}

void UdpEndpoint::deliver(std::size_t slot) {
  Slots& s = *slots_;
  const mmsghdr& m = s.headers[slot];
  if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
    truncated_.add(1);  // longer than max_datagram: never handed over as a shorter one
    return;
  }
  if (m.msg_len == 0) {
    empty_.add(1);
    return;
  }
  received_.add(1);
  if (!on_message_) return;
  const net::SocketAddress from = net::SocketAddress::from_sockaddr(
      reinterpret_cast<const sockaddr*>(&s.addresses[slot]), m.msg_hdr.msg_namelen);
  on_message_(std::string_view(static_cast<const char*>(s.buffers[slot].iov_base), m.msg_len),
              from);
}

// --- out --------------------------------------------------------------------------------------

SendResult UdpEndpoint::send_datagram(std::string_view datagram, const net::SocketAddress* to) {
  loop_.assert_in_loop_thread();
  // Behind a receive batch's answers or a full socket: in order, after them.
  if (in_batch_ || blocked_ || !queue_.empty()) return enqueue(datagram, to);
  for (;;) {
    const ssize_t n = to != nullptr
                          ? ::sendto(socket_.fd(), datagram.data(), datagram.size(), MSG_NOSIGNAL,
                                     to->data(), to->length())
                          : ::send(socket_.fd(), datagram.data(), datagram.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      sent_.add(1);
      send_calls_.add(1);
      return SendResult::sent;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      blocked_ = true;
      channel_.enable_writing();
      return enqueue(datagram, to);
    }
    send_errors_.add(1);
    report(errno, "send");
    return SendResult::error;
  }
}

SendResult UdpEndpoint::enqueue(std::string_view datagram, const net::SocketAddress* to) {
  if (queue_.size() >= options_.max_queued) {
    dropped_.add(1);
    if (options_.when_full == WhenFull::drop_newest || queue_.empty()) return SendResult::dropped;
    spare_.push_back(std::move(queue_.front().bytes));
    queue_.pop_front();
  }
  std::string bytes;
  if (!spare_.empty()) {
    bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  bytes.assign(datagram.data(), datagram.size());
  queue_.push_back({to != nullptr ? *to : net::SocketAddress(), std::move(bytes)});
  if (!blocked_) return SendResult::sent;  // a batch's answer: sent right after the batch
  queued_.add(1);
  return SendResult::queued;
}

void UdpEndpoint::flush_queue(bool writable_retry) {
  if (queue_.empty()) return;
  if (!slots_) slots_ = std::make_unique<Slots>(options_.batch);  // a sender only
  std::vector<mmsghdr>& headers = slots_->send_headers;
  std::vector<iovec>& buffers = slots_->send_buffers;
  while (!queue_.empty()) {
    const std::size_t n = std::min(headers.size(), queue_.size());
    for (std::size_t i = 0; i < n; ++i) {
      Outgoing& o = queue_[i];
      buffers[i] = {.iov_base = o.bytes.data(), .iov_len = o.bytes.size()};
      msghdr& h = headers[i].msg_hdr;
      h = {};
      if (o.to.family() != AF_UNSPEC) {
        h.msg_name = const_cast<sockaddr*>(o.to.data());  // NOLINT: sendmsg does not write it
        h.msg_namelen = o.to.length();
      }
      h.msg_iov = &buffers[i];
      h.msg_iovlen = 1;
    }
    int sent = 0;
    if (n == 1) {
      const ssize_t r = ::sendmsg(socket_.fd(), &headers[0].msg_hdr, MSG_NOSIGNAL);
      sent = r >= 0 ? 1 : -1;
    } else {
      sent = ::sendmmsg(socket_.fd(), headers.data(), static_cast<unsigned>(n), MSG_NOSIGNAL);
    }
    if (sent > 0) {
      send_calls_.add(1);
      sent_.add(static_cast<std::uint64_t>(sent));
      for (int i = 0; i < sent; ++i) {
        spare_.push_back(std::move(queue_.front().bytes));
        queue_.pop_front();
      }
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Full: the rest waits for EPOLLOUT, in order. A receive batch's answers start waiting
      // now (what waited already was counted when it was queued).
      if (!writable_retry) queued_.add(queue_.size());
      blocked_ = true;
      channel_.enable_writing();
      return;
    }
    // The first datagram was refused: counted, reported, dropped; the others go on.
    send_errors_.add(1);
    report(errno, "send");
    spare_.push_back(std::move(queue_.front().bytes));
    queue_.pop_front();
  }
  if (spare_.size() > options_.batch) spare_.resize(options_.batch);  // keep a batch's worth
  if (channel_.is_writing()) channel_.disable_writing();
}

void UdpEndpoint::on_writable() {
  blocked_ = false;
  flush_queue(true);
}

}  // namespace avant::udp
