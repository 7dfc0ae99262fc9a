// Lab 08 — the UDP endpoint's data path: reading datagrams in batches under a cap per readiness
// event, handing them over (or counting them when truncated or empty), sending, queueing when the
// socket's send buffer is full, and flushing the queue. Contract:
// src/udp/include/avant/udp/udp_endpoint.hpp (what each counter means, the send results, the
// policies). Given, in src/udp/udp_endpoint_support.cpp: bind_udp, the constructors, start()
// (which makes receive_storage_ and slots_), connect(), stats(), on_error(), send_to()/send()
// (which call your send_datagram) and report(error, what). The batch's headers: udp_slots.hpp.
// Tests: ctest -L ch08.
#include <stdexcept>
#include <string>

#include <sys/socket.h>
#include <sys/uio.h>

#include <avant/udp/udp_endpoint.hpp>

#include "udp_slots.hpp"

namespace avant::udp {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(08): ") + what);
}
}  // namespace

void UdpEndpoint::on_readable() {
  todo(
      "UdpEndpoint::on_readable: in_batch_ = true; read batches of at most min(batch, budget) "
      "datagrams (receive_batch) until the socket is empty or options_.max_per_event were "
      "handled; deliver() each; after each batch send its answers (in_batch_ = false, "
      "flush_queue(false) unless blocked_, in_batch_ = true); an error reported by "
      "receive_batch counts 1 against the budget; in_batch_ = false at the end");
}

int UdpEndpoint::receive_batch(std::size_t want) {
  static_cast<void>(want);
  todo(
      "UdpEndpoint::receive_batch: point slots_'s first `want` headers at their slot of "
      "receive_storage_ (max_datagram bytes each) and their sockaddr_storage; recvmmsg(fd, "
      "headers, want, MSG_DONTWAIT) (recvmsg when want == 1); > 0: count a receive call and "
      "return it; EAGAIN: 0; EINTR: again; any other errno: count a receive error, "
      "report(errno, \"receive\") and return -1");
}

void UdpEndpoint::deliver(std::size_t slot) {
  static_cast<void>(slot);
  todo(
      "UdpEndpoint::deliver: MSG_TRUNC in the header's msg_flags -> count truncated and drop; "
      "msg_len 0 -> count empty and drop; else count received and call on_message_ (if set) "
      "with the bytes and SocketAddress::from_sockaddr of the slot's address");
}

SendResult UdpEndpoint::send_datagram(std::string_view datagram, const net::SocketAddress* to) {
  static_cast<void>(datagram);
  static_cast<void>(to);
  todo(
      "UdpEndpoint::send_datagram: in a receive batch, blocked, or behind a queue -> enqueue; "
      "else sendto (send when `to` is null) with MSG_NOSIGNAL: sent (count it, and a send "
      "call); EINTR: again; EAGAIN: blocked_ = true, enable writing, enqueue; any other: count "
      "a send error, report(errno, \"send\"), error");
}

SendResult UdpEndpoint::enqueue(std::string_view datagram, const net::SocketAddress* to) {
  static_cast<void>(datagram);
  static_cast<void>(to);
  todo(
      "UdpEndpoint::enqueue: a full queue (max_queued) counts a drop and either refuses this one "
      "(drop_newest -> dropped) or drops its front (drop_oldest); push {to or unspecified, a copy "
      "of the bytes} (reusing a string of spare_); not blocked: sent (a batch's answer), else "
      "count it queued: queued");
}

void UdpEndpoint::flush_queue(bool writable_retry) {
  static_cast<void>(writable_retry);
  todo(
      "UdpEndpoint::flush_queue: while the queue has datagrams, sendmmsg up to `batch` of them "
      "(sendmsg for one) from slots_'s send headers; pop what went and count it; EINTR: again; "
      "EAGAIN: count the queue as queued unless writable_retry, blocked_ = true, enable writing, "
      "return; another error: count and report it, drop the first datagram, go on. Empty: stop "
      "writing");
}

void UdpEndpoint::on_writable() {
  todo("UdpEndpoint::on_writable: no longer blocked; flush_queue(true)");
}

}  // namespace avant::udp
