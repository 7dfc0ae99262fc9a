// avant-echo — chapter 02's server: every client at once, on one thread, with the reactor.
//
//   avant-echo [--listen 127.0.0.1:20023] [--mode raw|framed] [--max-frame BYTES]
//              [--idle-timeout MS] [--max-connections N] [--threads 1]
//
// The command line and the banner are those of the benchmark ceiling (bench/ceiling), so the
// harness and tests/support/echo_conformance.py drive both alike. One loop, one thread: --threads
// other than 1 arrives with chapter 03.
//
// Raw mode echoes every byte as it arrives. Framed mode speaks Avant's stream format,
//
//   [uint64 big-endian length N][N bytes]
//
// and echoes each complete frame; partial frames wait in the input buffer, and all complete frames
// of one read go back in one send. A length over --max-frame closes the connection with a log line
// (the original stalled or over-read on bad lengths). SIGINT/SIGTERM stop the loop and exit 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>
#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/log.hpp>
#include <avant/tcp/tcp_server.hpp>

namespace {

using avant::net::Buffer;
using avant::tcp::TcpConnectionPtr;

struct Args {
  std::string listen = "127.0.0.1:20023";
  bool framed = false;
  std::uint64_t max_frame = 16u << 20;
  long idle_ms = 0;
  long max_connections = 20000;
};

void echo_frames(const TcpConnectionPtr& conn, Buffer& in, std::uint64_t max_frame) {
  std::size_t complete = 0;  // bytes at the front of `in` that form complete frames
  while (in.readable_bytes() - complete >= 8) {
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      length = (length << 8U) | static_cast<unsigned char>(in.peek()[complete + i]);
    }
    if (length > max_frame) {
      avant::reactor::log::warn("echo", conn->peer_address().to_string() + ": frame length " +
                                            std::to_string(length) + " over --max-frame " +
                                            std::to_string(max_frame) + ", closing");
      conn->force_close();
      in.retrieve_all();
      return;
    }
    if (in.readable_bytes() - complete - 8 < length) break;
    complete += 8 + static_cast<std::size_t>(length);
  }
  if (complete == 0) return;
  static_cast<void>(conn->send(std::string_view(in.peek(), complete)));  // one send per batch
  in.retrieve(complete);
}

int run(const Args& args) {
  const auto parsed = avant::net::SocketAddress::parse(args.listen);
  if (!parsed.ok()) {
    std::fprintf(stderr, "avant-echo: --listen '%s': %s\n", args.listen.c_str(),
                 std::string(to_string(parsed.error)).c_str());
    return 2;
  }
  avant::net::ignore_sigpipe();

  // Signals arrive as readable events on the loop, never as code running inside a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    throw std::runtime_error("pthread_sigmask");
  }
  avant::net::FileDescriptor signal_fd{::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC)};
  if (!signal_fd) throw std::runtime_error("signalfd");

  avant::reactor::EventLoop loop;
  avant::reactor::Channel signal_channel(loop, signal_fd.get());
  signal_channel.on_read([&] {
    signalfd_siginfo info{};
    static_cast<void>(::read(signal_fd.get(), &info, sizeof info));
    loop.quit();
  });
  signal_channel.enable_reading();

  avant::tcp::TcpServer server(
      loop, avant::tcp::TcpServerOptions{
                .listen = parsed.address,
                .max_connections = static_cast<std::size_t>(args.max_connections),
                .idle_timeout = std::chrono::milliseconds(args.idle_ms)});
  if (args.framed) {
    server.on_message(
        [max = args.max_frame](const TcpConnectionPtr& c, Buffer& in) { echo_frames(c, in, max); });
  } else {
    server.on_message([](const TcpConnectionPtr& c, Buffer& in) {
      static_cast<void>(c->send(in.view()));
      in.retrieve_all();
    });
  }
  server.start();
  std::printf("avant-echo: listening on %s (mode %s, 1 thread)\n",
              server.listen_address().to_string().c_str(), args.framed ? "framed" : "raw");
  std::fflush(stdout);

  loop.run();
  signal_channel.remove();
  const auto stats = server.stats();
  std::printf("avant-echo: stopped; %llu connections served\n",
              static_cast<unsigned long long>(stats.accepted));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--listen" && has_value) {
      args.listen = argv[++i];
    } else if (arg == "--mode" && has_value) {
      const std::string_view mode = argv[++i];
      if (mode != "raw" && mode != "framed") {
        std::fprintf(stderr, "avant-echo: --mode must be raw or framed\n");
        return 2;
      }
      args.framed = mode == "framed";
    } else if (arg == "--threads" && has_value) {
      if (std::string_view(argv[++i]) != "1") {
        std::fprintf(stderr, "avant-echo: one loop on one thread (chapter 02); --threads 1 only\n");
        return 2;
      }
    } else if (arg == "--max-frame" && has_value) {
      args.max_frame = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--idle-timeout" && has_value) {
      args.idle_ms = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--max-connections" && has_value) {
      args.max_connections = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--listen IP:PORT] [--mode raw|framed] [--max-frame BYTES] "
                   "[--idle-timeout MS] [--max-connections N] [--threads 1]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-echo: %s\n", e.what());
    return 1;
  }
}
