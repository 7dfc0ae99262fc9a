// udp_slots.hpp — the endpoint's batch headers (udp_endpoint.hpp), shared by its two source files:
// udp_endpoint.cpp (the data path, which lab 08 rewrites) and udp_endpoint_support.cpp (given).
#pragma once

#include <cstddef>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <avant/udp/udp_endpoint.hpp>

namespace avant::udp {

// A batch's headers, `batch` of each: to receive, a message header per slot, its buffer and its
// sender's address; to send, a header and a buffer per queued datagram.
struct UdpEndpoint::Slots {
  explicit Slots(std::size_t n)
      : headers(n), buffers(n), addresses(n), send_headers(n), send_buffers(n) {}
  std::vector<mmsghdr> headers;
  std::vector<iovec> buffers;
  std::vector<sockaddr_storage> addresses;
  std::vector<mmsghdr> send_headers;
  std::vector<iovec> send_buffers;
};

}  // namespace avant::udp
