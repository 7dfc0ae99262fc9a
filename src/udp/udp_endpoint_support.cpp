// udp_endpoint_support.cpp — the given half of udp_endpoint.hpp (lab 08 does not rewrite this
// file): binding, construction and destruction, start() (which makes the batch's storage and
// headers), connect(), the statistics, EPOLLERR, send_to()/send() (which call the data path's
// send_datagram) and how an error is reported. The data path — reading batches under the cap,
// handing datagrams over, sending, queueing and flushing — is in udp_endpoint.cpp.
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <avant/net/io.hpp>
#include <avant/reactor/log.hpp>
#include <avant/udp/udp_endpoint.hpp>

#include "udp_slots.hpp"

namespace avant::udp {

net::Socket bind_udp(const net::SocketAddress& address, const UdpOptions& options) {
  net::Socket socket = net::Socket::create(address.family(), net::SocketType::udp);
  if (address.is_ipv6()) socket.set_v6_only(options.v6_only);
  if (options.receive_buffer > 0) socket.set_receive_buffer(options.receive_buffer);
  if (options.send_buffer > 0) socket.set_send_buffer(options.send_buffer);
  socket.bind(address);
  return socket;
}

UdpEndpoint::UdpEndpoint(reactor::EventLoop& loop, const net::SocketAddress& address,
                         UdpOptions options)
    : UdpEndpoint(loop, bind_udp(address, options), options) {}

UdpEndpoint::UdpEndpoint(reactor::EventLoop& loop, net::Socket bound, UdpOptions options)
    : loop_(loop), options_(options), socket_(std::move(bound)), channel_(loop, socket_.fd()) {
  loop_.assert_in_loop_thread();
  if (options_.batch == 0 || options_.max_per_event == 0 || options_.max_datagram == 0) {
    throw std::invalid_argument("UdpOptions: batch, max_per_event and max_datagram must be > 0");
  }
  channel_.set_handler(*this);
}

UdpEndpoint::~UdpEndpoint() {
  loop_.assert_in_loop_thread();
  channel_.disable_all();
  channel_.remove();
}

void UdpEndpoint::start() {
  loop_.assert_in_loop_thread();
  if (!receive_storage_) {
    // NOLINTNEXTLINE(*-avoid-c-arrays): default-initialised, so not written until a read is
    receive_storage_ =
        std::make_unique_for_overwrite<char[]>(options_.batch * options_.max_datagram);
  }
  if (!slots_) slots_ = std::make_unique<Slots>(options_.batch);
  channel_.enable_reading();
}

void UdpEndpoint::connect(const net::SocketAddress& peer) {
  loop_.assert_in_loop_thread();
  const net::IoResult r = socket_.connect(peer);
  if (!r.ok()) {
    throw std::system_error(r.error, std::generic_category(), "connect " + peer.to_string());
  }
  connected_ = true;
}

UdpStats UdpEndpoint::stats() const noexcept {
  return {.received = received_.get(),
          .truncated = truncated_.get(),
          .empty = empty_.get(),
          .sent = sent_.get(),
          .queued = queued_.get(),
          .dropped = dropped_.get(),
          .send_errors = send_errors_.get(),
          .receive_errors = receive_errors_.get(),
          .receive_calls = receive_calls_.get(),
          .send_calls = send_calls_.get()};
}

void UdpEndpoint::on_error() {
  // EPOLLERR: an ICMP error queued on the socket (a connected one's peer is not listening).
  const int error = socket_.pending_error();
  if (error == 0) return;
  receive_errors_.add(1);
  report(error, "receive");
}

SendResult UdpEndpoint::send_to(std::string_view datagram, const net::SocketAddress& to) {
  return send_datagram(datagram, &to);
}

SendResult UdpEndpoint::send(std::string_view datagram) {
  return send_datagram(datagram, nullptr);
}

void UdpEndpoint::report(int error, const char* what) {
  if (on_error_) {
    on_error_(error, what);
    return;
  }
  reactor::log::warn("udp", std::string(what) + " on " + local_address().to_string() + ": " +
                                net::error_text(error));
}
}  // namespace avant::udp
