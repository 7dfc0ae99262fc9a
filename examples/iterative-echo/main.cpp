// avant-iterative-echo — chapter 01's server: one client at a time, with nothing but module net.
//
//   avant-iterative-echo [--listen 127.0.0.1:20023] [--max-clients N]
//
// It accepts a connection, echoes every byte back until the client closes, and only then accepts
// the next. That is the whole point of the example: while one client is connected, every other
// client waits in the kernel's accept queue. Chapter 02 replaces this loop with a reactor.
// It waits with poll(2) on one descriptor at a time, so the non-blocking sockets of module net
// are used exactly as the reactor will use them: try, and on would_block wait for readiness.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <poll.h>

#include <avant/net/buffer.hpp>
#include <avant/net/socket.hpp>

namespace {

using avant::net::Buffer;
using avant::net::IoStatus;
using avant::net::Socket;

constexpr auto kForever = std::chrono::hours(24 * 365);

// Echoes until the client closes or fails. Returns the bytes echoed.
std::size_t serve(Socket& client) {
  Buffer pending;
  std::size_t echoed = 0;
  bool open = true;
  while (open || !pending.empty()) {
    // Read only while the buffer has room: a client that sends without reading would otherwise
    // make poll report POLLIN forever while read_fd answers `full` (a busy loop).
    const bool room = pending.readable_bytes() < pending.max_size();
    const auto want =
        static_cast<short>((open && room ? POLLIN : 0) | (pending.empty() ? 0 : POLLOUT));
    const short ready = avant::net::wait_ready(client.fd(), want, kForever);
    if ((ready & (POLLERR | POLLNVAL)) != 0) return echoed;
    if ((ready & (POLLIN | POLLHUP)) != 0 && open && room) {
      const auto r = pending.read_fd(client.fd());
      if (r.status == IoStatus::closed) open = false;
      if (r.status == IoStatus::error) return echoed;
    }
    if (!pending.empty()) {
      const auto w = pending.write_fd(client.fd());
      if (w.status == IoStatus::error) return echoed;
      echoed += w.bytes;
    }
  }
  return echoed;
}

int run(std::string_view listen_text, long max_clients) {
  const auto parsed = avant::net::SocketAddress::parse(listen_text);
  if (!parsed.ok()) {
    std::fprintf(stderr, "avant-iterative-echo: --listen '%.*s': %.*s\n",
                 static_cast<int>(listen_text.size()), listen_text.data(),
                 static_cast<int>(to_string(parsed.error).size()), to_string(parsed.error).data());
    return 2;
  }
  avant::net::ignore_sigpipe();
  Socket listener = Socket::create(parsed.address.family(), avant::net::SocketType::tcp);
  listener.set_reuse_address(true);
  listener.bind(parsed.address);
  listener.listen();
  std::printf("avant-iterative-echo: listening on %s (one client at a time; Ctrl-C stops)\n",
              listener.local_address().to_string().c_str());
  std::fflush(stdout);

  for (long served = 0; max_clients <= 0 || served < max_clients;) {
    static_cast<void>(avant::net::wait_ready(listener.fd(), POLLIN, kForever));
    auto accepted = listener.accept();
    if (accepted.status == IoStatus::would_block) continue;
    if (accepted.status == IoStatus::error) {
      std::fprintf(stderr, "avant-iterative-echo: accept: errno %d\n", accepted.error);
      continue;
    }
    const std::size_t bytes = serve(accepted.socket);
    ++served;
    std::printf("avant-iterative-echo: client %s done, %zu bytes echoed\n",
                accepted.peer.to_string().c_str(), bytes);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view listen = "127.0.0.1:20023";
  long max_clients = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--max-clients" && i + 1 < argc) {
      max_clients = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--listen IP:PORT] [--max-clients N]\n", argv[0]);
      return 2;
    }
  }
  try {
    return run(listen, max_clients);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-iterative-echo: %s\n", e.what());
    return 1;
  }
}
