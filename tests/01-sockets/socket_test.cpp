// Integration tests of net::Socket on loopback: TCP and UDP, IPv4 and IPv6, options, errors as
// values, half-close, and a large transfer through two Buffers. Ports are ephemeral (bind to 0).
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <poll.h>

#include <avant/testing/steps.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::net {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 5s;

Socket listening_socket(const SocketAddress& where) {
  Socket s = Socket::create(where.family(), SocketType::tcp);
  s.set_reuse_address(true);
  s.bind(where);
  s.listen();
  return s;
}

// A connected pair over loopback: {client, accepted}.
struct Connected {
  Socket client{FileDescriptor{}};
  Socket server{FileDescriptor{}};
};

Connected connect_pair(Socket& listener, avant::testing::Steps& steps) {
  Connected pair;
  const SocketAddress where = listener.local_address();
  pair.client = Socket::create(where.family(), SocketType::tcp);
  steps.add("connect to " + where.to_string());
  const IoResult c = pair.client.connect(where);
  EXPECT_TRUE(c.status == IoStatus::ok || c.status == IoStatus::would_block)
      << to_string(c.status) << " errno " << c.error;
  steps.add("wait until the listener is readable (a connection is queued)");
  EXPECT_NE(wait_ready(listener.fd(), POLLIN, kDeadline) & POLLIN, 0);
  AcceptResult a = listener.accept();
  steps.expect_eq("accept status", std::string("ok"), std::string(to_string(a.status)));
  pair.server = std::move(a.socket);
  steps.add("wait until the client is writable (connect finished)");
  EXPECT_NE(wait_ready(pair.client.fd(), POLLOUT, kDeadline) & POLLOUT, 0);
  steps.expect_eq("connect error (SO_ERROR)", 0, pair.client.pending_error());
  steps.expect_eq("accept saw the client's address", pair.client.local_address(), a.peer);
  return pair;
}

std::string read_exactly(Socket& s, std::size_t n) {
  std::string got;
  char chunk[4096];
  while (got.size() < n) {
    if ((wait_ready(s.fd(), POLLIN, kDeadline) & (POLLIN | POLLHUP)) == 0) break;
    const IoResult r = s.read(std::span<char>(chunk, std::min(sizeof chunk, n - got.size())));
    if (r.status == IoStatus::would_block) continue;
    if (!r.ok()) break;
    got.append(chunk, r.bytes);
  }
  return got;
}

void write_all(Socket& s, std::string_view bytes) {
  while (!bytes.empty()) {
    const IoResult r = s.write(bytes);
    if (r.status == IoStatus::would_block) {
      ASSERT_NE(wait_ready(s.fd(), POLLOUT, kDeadline) & POLLOUT, 0) << "peer stopped reading";
      continue;
    }
    ASSERT_EQ(r.status, IoStatus::ok) << "errno " << r.error;
    bytes.remove_prefix(r.bytes);
  }
}

TEST(Socket, IsCreatedNonBlockingAndCloseOnExec) {
  const Socket s = Socket::create(AF_INET, SocketType::tcp);
  EXPECT_TRUE(is_nonblocking(s.fd()));
  EXPECT_NE(::fcntl(s.fd(), F_GETFD) & FD_CLOEXEC, 0);
  const Socket u = Socket::create(AF_INET, SocketType::udp);
  EXPECT_TRUE(is_nonblocking(u.fd()));
}

TEST(Socket, TcpRoundTripOverIpv4Loopback) {
  avant::testing::Steps steps;
  Socket listener = listening_socket(SocketAddress::ipv4_loopback(0));
  ASSERT_NE(listener.local_address().port(), 0) << "bind to port 0 picks an ephemeral port";
  Connected pair = connect_pair(listener, steps);
  steps.add("client sends 'ping'");
  write_all(pair.client, "ping");
  steps.expect_eq("server receives", std::string("ping"), read_exactly(pair.server, 4));
  steps.add("server answers 'pong'");
  write_all(pair.server, "pong");
  steps.expect_eq("client receives", std::string("pong"), read_exactly(pair.client, 4));
  steps.expect_eq("peer of the accepted socket", pair.client.local_address(),
                  pair.server.peer_address());
}

TEST(Socket, TcpRoundTripOverIpv6Loopback) {
  Socket listener{FileDescriptor{}};
  try {
    listener = listening_socket(SocketAddress::ipv6_loopback(0));
  } catch (const std::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback on this machine: " << e.what();
  }
  avant::testing::Steps steps;
  Connected pair = connect_pair(listener, steps);
  EXPECT_TRUE(pair.server.peer_address().is_ipv6());
  write_all(pair.client, "six");
  steps.expect_eq("server receives", std::string("six"), read_exactly(pair.server, 3));
}

TEST(Socket, EmptyQueuesAnswerWouldBlock) {
  avant::testing::Steps steps;
  Socket listener = listening_socket(SocketAddress::ipv4_loopback(0));
  const AcceptResult none = listener.accept();
  EXPECT_EQ(none.status, IoStatus::would_block) << "EAGAIN is an answer, not an error";
  Connected pair = connect_pair(listener, steps);
  char c = 0;
  EXPECT_EQ(pair.server.read(std::span<char>(&c, 1)).status, IoStatus::would_block);
}

TEST(Socket, HalfCloseEndsOneDirectionOnly) {
  avant::testing::Steps steps;
  Socket listener = listening_socket(SocketAddress::ipv4_loopback(0));
  Connected pair = connect_pair(listener, steps);
  write_all(pair.client, "last");
  steps.add("client half-closes (shutdown SHUT_WR)");
  ASSERT_TRUE(pair.client.shutdown_write().ok());
  steps.expect_eq("server reads the data", std::string("last"), read_exactly(pair.server, 4));
  char c = 0;
  ASSERT_NE(wait_ready(pair.server.fd(), POLLIN, kDeadline), 0);
  steps.expect_eq("then end of stream", std::string("closed"),
                  std::string(to_string(pair.server.read(std::span<char>(&c, 1)).status)));
  steps.add("server still writes to the half-closed client");
  write_all(pair.server, "bye");
  steps.expect_eq("client still reads", std::string("bye"), read_exactly(pair.client, 3));
}

TEST(Socket, ConnectToAClosedPortIsRefused) {
  // Bind without listening: the port is ours but nobody accepts on it.
  Socket holder = Socket::create(AF_INET, SocketType::tcp);
  holder.bind(SocketAddress::ipv4_loopback(0));
  const SocketAddress where = holder.local_address();
  Socket client = Socket::create(AF_INET, SocketType::tcp);
  const IoResult r = client.connect(where);
  if (r.status == IoStatus::error) {
    EXPECT_EQ(r.error, ECONNREFUSED);
  } else {
    ASSERT_EQ(r.status, IoStatus::would_block);
    ASSERT_NE(wait_ready(client.fd(), POLLOUT, kDeadline), 0);
    EXPECT_EQ(client.pending_error(), ECONNREFUSED);
  }
}

TEST(Socket, SetupErrorsNameTheCallAndTheAddress) {
  Socket first = listening_socket(SocketAddress::ipv4_loopback(0));
  const SocketAddress taken = first.local_address();
  Socket second = Socket::create(AF_INET, SocketType::tcp);
  try {
    second.bind(taken);
    FAIL() << "binding a port in use must throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(e.what()).find("bind " + taken.to_string()), std::string::npos)
        << e.what();
  }
}

TEST(Socket, OptionsReadBackAsSet) {
  Socket s = Socket::create(AF_INET, SocketType::tcp);
  s.set_reuse_address(true);
  s.set_reuse_port(true);
  s.set_no_delay(true);
  s.set_keep_alive(true);
  EXPECT_TRUE(s.reuse_address());
  EXPECT_TRUE(s.reuse_port());
  EXPECT_TRUE(s.no_delay());
  EXPECT_TRUE(s.keep_alive());
  s.set_no_delay(false);
  EXPECT_FALSE(s.no_delay());
  s.set_send_buffer(64 * 1024);
  s.set_receive_buffer(64 * 1024);
  EXPECT_GE(s.send_buffer(), 64 * 1024) << "Linux doubles the value for its bookkeeping";
  EXPECT_GE(s.receive_buffer(), 64 * 1024);
}

TEST(Socket, UdpDatagramsCarryTheSenderAddress) {
  Socket a = Socket::create(AF_INET, SocketType::udp);
  Socket b = Socket::create(AF_INET, SocketType::udp);
  a.bind(SocketAddress::ipv4_loopback(0));
  b.bind(SocketAddress::ipv4_loopback(0));
  const std::string datagram = "one datagram = one ProtoPackage";
  ASSERT_TRUE(a.send_to(datagram, b.local_address()).ok());
  ASSERT_NE(wait_ready(b.fd(), POLLIN, kDeadline) & POLLIN, 0);
  char in[2048];
  SocketAddress from;
  const IoResult r = b.receive_from(in, from);
  ASSERT_TRUE(r.ok()) << to_string(r.status);
  EXPECT_EQ(std::string_view(in, r.bytes), datagram);
  EXPECT_EQ(from, a.local_address()) << "a reply goes back to the sender's address";
  EXPECT_EQ(b.receive_from(in, from).status, IoStatus::would_block);
}

TEST(Socket, UdpDatagramLargerThanTheBufferIsTruncated) {
  Socket a = Socket::create(AF_INET, SocketType::udp);
  Socket b = Socket::create(AF_INET, SocketType::udp);
  b.bind(SocketAddress::ipv4_loopback(0));
  ASSERT_TRUE(a.send_to(std::string(100, 'x'), b.local_address()).ok());
  ASSERT_NE(wait_ready(b.fd(), POLLIN, kDeadline), 0);
  char small[10];
  SocketAddress from;
  const IoResult r = b.receive_from(small, from);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bytes, sizeof small);
  EXPECT_EQ(b.receive_from(small, from).status, IoStatus::would_block)
      << "the rest of a truncated datagram is gone, not delivered as another one";
}

TEST(Socket, WritingToAClosedPeerIsAnErrorValueNotASignal) {
  ignore_sigpipe();
  avant::testing::Steps steps;
  Socket listener = listening_socket(SocketAddress::ipv4_loopback(0));
  Connected pair = connect_pair(listener, steps);
  steps.add("server closes its end");
  pair.server = Socket{FileDescriptor{}};
  IoResult r;
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 1000 && r.status != IoStatus::error; ++i) {
    r = pair.client.write(chunk);
    if (r.status == IoStatus::would_block) {
      static_cast<void>(wait_ready(pair.client.fd(), POLLOUT, 100ms));
    }
  }
  steps.expect_eq("write after the peer closed", std::string("error"),
                  std::string(to_string(r.status)));
  EXPECT_TRUE(r.error == EPIPE || r.error == ECONNRESET) << "errno " << r.error;
}

TEST(Socket, MovesOneMebibyteThroughBuffers) {
  avant::testing::Steps steps;
  Socket listener = listening_socket(SocketAddress::ipv4_loopback(0));
  Connected pair = connect_pair(listener, steps);
  std::string data(1 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 131 % 251);

  Buffer out(BufferOptions{.max_size = 2u << 20});
  Buffer in(BufferOptions{.initial_size = 256, .max_size = 2u << 20});
  ASSERT_TRUE(out.append(data));
  steps.add("pump 1 MiB: client write_fd -> server read_fd, polling both");
  for (int rounds = 0; in.readable_bytes() < data.size() && rounds < 100'000; ++rounds) {
    if (!out.empty()) {
      const IoResult w = out.write_fd(pair.client.fd());
      ASSERT_TRUE(w.ok() || w.status == IoStatus::would_block) << "errno " << w.error;
    }
    if ((wait_ready(pair.server.fd(), POLLIN, kDeadline) & POLLIN) == 0) break;
    const IoResult r = in.read_fd(pair.server.fd());
    ASSERT_TRUE(r.ok() || r.status == IoStatus::would_block) << to_string(r.status);
  }
  steps.expect_eq("bytes received", data.size(), in.readable_bytes());
  EXPECT_TRUE(in.view() == data) << "content differs";
}

}  // namespace
}  // namespace avant::net
