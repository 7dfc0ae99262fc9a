// peer.hpp — chapter 08's test peer: a plain UDP socket on the test's thread (non-blocking, as
// every Socket; it waits with poll(2) and a deadline), bound to an ephemeral loopback port.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <poll.h>
#include <sys/socket.h>

#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>

namespace avant::udp::testing {

class Peer {
 public:
  explicit Peer(const net::SocketAddress& bind_to = net::SocketAddress::ipv4_loopback(0))
      : socket_(net::Socket::create(bind_to.family(), net::SocketType::udp)) {
    socket_.bind(bind_to);
  }

  [[nodiscard]] net::SocketAddress address() const { return socket_.local_address(); }
  [[nodiscard]] net::Socket& socket() noexcept { return socket_; }

  // One datagram to `to`; false when the kernel refuses it (EAGAIN included: the socket is
  // non-blocking, and these tests send less than its buffer holds unless they say otherwise).
  bool send_to(std::string_view datagram, const net::SocketAddress& to) {
    return socket_.send_to(datagram, to).ok();
  }

  // The next datagram, or nullopt when none comes within `deadline`.
  std::optional<std::string> receive(std::chrono::milliseconds deadline = std::chrono::seconds(10),
                                     net::SocketAddress* from = nullptr) {
    pollfd p{.fd = socket_.fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(deadline.count())) <= 0) return std::nullopt;
    std::string buffer(70000, '\0');
    net::SocketAddress sender;
    const net::IoResult r = socket_.receive_from(buffer, sender);
    if (!r.ok()) return std::nullopt;
    buffer.resize(r.bytes);
    if (from != nullptr) *from = sender;
    return buffer;
  }

 private:
  net::Socket socket_;
};

}  // namespace avant::udp::testing
