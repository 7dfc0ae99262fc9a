// avant-echo — the echo server of chapters 02 and 03: every client at once, with the reactor, on
// one loop or on a pool of worker loops.
//
//   avant-echo [--listen 127.0.0.1:20023] [--mode raw|framed] [--max-frame BYTES]
//              [--idle-timeout MS] [--max-connections N] [--workers N | --threads N]
//              [--drain MS] [--tls-cert CHAIN.pem --tls-key KEY.pem]
//
// --workers N is the original's worker_cnt: 0 (the default) serves everything on the main loop
// (chapter 02); N > 0 starts N worker loops (threads worker-0 ...), the main loop only accepts.
// --threads N says how many threads serve connections, as the benchmark ceiling (bench/ceiling)
// does: 1 is --workers 0, N > 1 is --workers N. The command line and the banner are those of the
// ceiling, so the harness and tests/support/echo_conformance.py drive both alike. With --tls-cert
// and --tls-key every connection speaks TLS (chapter 04): the echo is of the plaintext.
//
// Raw mode echoes every byte as it arrives. Framed mode speaks Avant's stream format,
//
//   [uint64 big-endian length N][N bytes]
//
// and echoes each complete frame; partial frames wait in the input buffer, and all complete frames
// of one read go back in one send. A length over --max-frame closes the connection with a log line
// (the original stalled or over-read on bad lengths). SIGINT/SIGTERM stop accepting, close every
// connection (gracefully, then forced after --drain MS, default 1000) and exit 0.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>

#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/log.hpp>
#include <avant/reactor/signals.hpp>
#include <avant/thread/threaded_tcp_server.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>

namespace {

using avant::net::Buffer;
using avant::tcp::TcpConnectionPtr;

struct Args {
  std::string listen = "127.0.0.1:20023";
  bool framed = false;
  std::uint64_t max_frame = 16u << 20;
  long idle_ms = 0;
  long max_connections = 20000;
  long workers = 0;
  long drain_ms = 1000;
  std::string tls_cert;
  std::string tls_key;
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

  // The main thread shows as "main" in `top -H` / `ps -L`, the workers as worker-<i>, as in
  // the original. (This renames the process too: find it with `pgrep -f avant-echo`.)
  avant::thread::set_thread_name("main");
  avant::reactor::EventLoop loop;
  avant::tcp::TcpServerOptions tcp{
      .listen = parsed.address,
      .max_connections = static_cast<std::size_t>(args.max_connections),
      .idle_timeout = std::chrono::milliseconds(args.idle_ms)};
  if (!args.tls_cert.empty()) {
    // Loaded and checked now: a bad file stops start-up with its name and OpenSSL's reason.
    auto context = std::make_shared<const avant::tls::TlsContext>(avant::tls::TlsContext::server(
        {.certificate_chain_file = args.tls_cert, .private_key_file = args.tls_key}));
    tcp.filter = avant::tls::server_filter(std::move(context));
  }
  avant::thread::ThreadedTcpServer server(
      loop, avant::thread::ThreadedServerOptions{
                .tcp = tcp,
                .workers = static_cast<std::size_t>(args.workers),
                .drain_timeout = std::chrono::milliseconds(args.drain_ms)});
  if (args.framed) {
    server.on_message(
        [max = args.max_frame](const TcpConnectionPtr& c, Buffer& in) { echo_frames(c, in, max); });
  } else {
    server.on_message([](const TcpConnectionPtr& c, Buffer& in) {
      static_cast<void>(c->send(in.view()));
      in.retrieve_all();
    });
  }

  // SIGINT/SIGTERM arrive as events on the loop, never as code inside a handler; the first one
  // stops the server with a drain, a second waits for it (reactor/signals.hpp). Set up before
  // start() starts the worker threads, so they inherit the blocked mask.
  const avant::reactor::SignalWatcher signals(
      loop, {.stop = [&](int) { server.stop([&loop] { loop.quit(); }); }});

  server.start();
  const long threads = std::max(args.workers, 1L);
  std::printf("avant-echo: listening on %s (mode %s, %ld thread%s)\n",
              server.listen_address().to_string().c_str(), args.framed ? "framed" : "raw", threads,
              threads == 1 ? "" : "s");
  if (!args.tls_cert.empty()) {
    std::printf("avant-echo: TLS on, certificate chain %s (TLS 1.2+, ALPN http/1.1)\n",
                args.tls_cert.c_str());
  }
  std::fflush(stdout);

  loop.run();
  const auto stats = server.stats();
  std::printf("avant-echo: stopped; %llu connections served\n",
              static_cast<unsigned long long>(stats.accepted));
  return 0;
}

// A whole number in [min, max], or nothing (after saying why on stderr).
std::optional<long> parse_count(const char* text, const char* option, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) {
    std::fprintf(stderr, "avant-echo: %s must be a number from %ld to %ld, not '%s'\n", option, min,
                 max, text);
    return std::nullopt;
  }
  return value;
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
      const auto threads = parse_count(argv[++i], "--threads", 1, 511);
      if (!threads) return 2;
      args.workers = *threads == 1 ? 0 : *threads;
    } else if (arg == "--workers" && has_value) {
      const auto workers = parse_count(argv[++i], "--workers", 0, 511);  // the original's limit
      if (!workers) return 2;
      args.workers = *workers;
    } else if (arg == "--drain" && has_value) {
      const auto drain = parse_count(argv[++i], "--drain", 0, 3600000);
      if (!drain) return 2;
      args.drain_ms = *drain;
    } else if (arg == "--tls-cert" && has_value) {
      args.tls_cert = argv[++i];
    } else if (arg == "--tls-key" && has_value) {
      args.tls_key = argv[++i];
    } else if (arg == "--max-frame" && has_value) {
      args.max_frame = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--idle-timeout" && has_value) {
      const auto idle = parse_count(argv[++i], "--idle-timeout", 0, 86400000);
      if (!idle) return 2;
      args.idle_ms = *idle;
    } else if (arg == "--max-connections" && has_value) {
      const auto most = parse_count(argv[++i], "--max-connections", 1, 10000000);
      if (!most) return 2;
      args.max_connections = *most;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--listen IP:PORT] [--mode raw|framed] [--max-frame BYTES] "
                   "[--idle-timeout MS] [--max-connections N] [--workers N | --threads N] "
                   "[--drain MS] [--tls-cert CHAIN.pem --tls-key KEY.pem]\n",
                   argv[0]);
      return 2;
    }
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    std::fprintf(stderr, "avant-echo: --tls-cert and --tls-key go together\n");
    return 2;
  }
  try {
    return run(args);
  } catch (const avant::tls::TlsError& e) {
    std::fprintf(stderr, "avant-echo: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-echo: %s\n", e.what());
    return 1;
  }
}
