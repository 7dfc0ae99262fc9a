// avant-ws-echo — a WebSocket server that echoes every message (text as text, binary as binary)
// on any path: the subject of the WebSocket conformance tests and of `bench/run ws`, and a demo
// of the WebSocket layer alone (chapter 06).
//
//   avant-ws-echo [--listen 127.0.0.1:20082] [--workers N | --threads N] [--drain MS]
//                 [--max-message BYTES] [--compress | --compress-takeover] [--ping MS]
//                 [--close-timeout MS]
//                 [--max-buffered BYTES] [--origin ORIGIN]... [--subprotocol NAME]...
//                 [--tls-cert CHAIN.pem --tls-key KEY.pem]
//
//   $ /usr/bin/python3 -c 'import asyncio, websockets
//   async def main():
//       async with websockets.connect("ws://127.0.0.1:20082/") as ws:
//           await ws.send("hi"); print(await ws.recv())
//   asyncio.run(main())'
//   hi
//
// A request that is not a WebSocket upgrade is answered 426 (Upgrade Required). SIGINT/SIGTERM
// stop the server: every session is closed with 1001 (going away), and what has not finished
// its close handshake after --drain MS is closed; then it exits 0.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <avant/http/http_server.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/signals.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>
#include <avant/websocket/server.hpp>

namespace {

struct Args {
  std::string listen = "127.0.0.1:20082";
  long workers = 0;
  long drain_ms = 5000;
  avant::websocket::ServerOptions ws;
  std::string tls_cert;
  std::string tls_key;
};

int run(Args& args) {
  const auto parsed = avant::net::SocketAddress::parse(args.listen);
  if (!parsed.ok()) {
    std::fprintf(stderr, "avant-ws-echo: --listen '%s': %s\n", args.listen.c_str(),
                 std::string(to_string(parsed.error)).c_str());
    return 2;
  }
  avant::thread::set_thread_name("main");
  avant::reactor::EventLoop loop;
  avant::http::HttpOptions options;
  options.server.tcp.listen = parsed.address;
  options.server.workers = static_cast<std::size_t>(args.workers);
  options.server.drain_timeout = std::chrono::milliseconds(args.drain_ms);
  if (!args.tls_cert.empty()) {
    auto context = std::make_shared<const avant::tls::TlsContext>(avant::tls::TlsContext::server(
        {.certificate_chain_file = args.tls_cert, .private_key_file = args.tls_key}));
    options.server.tcp.filter = avant::tls::server_filter(std::move(context));
  }
  // The HTTP server is made first (it owns the loops); the WebSocket endpoint is its handler.
  std::unique_ptr<avant::websocket::WebSocketServer> ws;
  avant::http::HttpServer server(
      loop, options, [&ws](avant::http::Request& request, avant::http::Responder responder) {
        ws->accept(request, std::move(responder));
      });
  ws = std::make_unique<avant::websocket::WebSocketServer>(
      server.pool(), args.ws,
      avant::websocket::Handlers{
          .open = {},
          .message = [](avant::websocket::Session& session, std::string_view payload,
                        avant::websocket::MessageType type) { (void)session.send(payload, type); },
          .close = {}});

  const avant::reactor::SignalWatcher signals(
      loop, {.stop = [&](int) { server.stop([&loop] { loop.quit(); }); }});

  server.start();
  const long threads = std::max(args.workers, 1L);
  std::printf("avant-ws-echo: listening on %s://%s (%ld thread%s%s)\n",
              args.tls_cert.empty() ? "ws" : "wss", server.listen_address().to_string().c_str(),
              threads, threads == 1 ? "" : "s",
              args.ws.deflate.enabled ? ", permessage-deflate" : "");
  std::fflush(stdout);
  loop.run();
  const auto stats = ws->stats();
  std::printf("avant-ws-echo: stopped; %llu sessions, %llu messages echoed\n",
              static_cast<unsigned long long>(stats.accepted),
              static_cast<unsigned long long>(stats.messages_in));
  return 0;
}

std::optional<long> parse_count(const char* text, const char* option, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) {
    std::fprintf(stderr, "avant-ws-echo: %s must be a number from %ld to %ld, not '%s'\n", option,
                 min, max, text);
    return std::nullopt;
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.ws.limits.max_message = 16u << 20;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    std::optional<long> n;
    if (arg == "--listen" && has_value) {
      args.listen = argv[++i];
    } else if (arg == "--threads" && has_value) {
      if (!(n = parse_count(argv[++i], "--threads", 1, 511))) return 2;
      args.workers = *n == 1 ? 0 : *n;
    } else if (arg == "--workers" && has_value) {
      if (!(n = parse_count(argv[++i], "--workers", 0, 511))) return 2;
      args.workers = *n;
    } else if (arg == "--drain" && has_value) {
      if (!(n = parse_count(argv[++i], "--drain", 0, 3600000))) return 2;
      args.drain_ms = *n;
    } else if (arg == "--max-message" && has_value) {
      if (!(n = parse_count(argv[++i], "--max-message", 1, 1L << 40))) return 2;
      args.ws.limits.max_message = static_cast<std::size_t>(*n);
    } else if (arg == "--compress") {
      args.ws.deflate.enabled = true;
    } else if (arg == "--compress-takeover") {
      // Compression that keeps its window between messages in both directions, when the client
      // allows it (better ratios; zlib state per session).
      args.ws.deflate.enabled = true;
      args.ws.deflate.server_no_context_takeover = false;
      args.ws.deflate.client_no_context_takeover = false;
    } else if (arg == "--ping" && has_value) {
      if (!(n = parse_count(argv[++i], "--ping", 0, 3600000))) return 2;
      args.ws.ping_interval = std::chrono::milliseconds(*n);
    } else if (arg == "--close-timeout" && has_value) {
      if (!(n = parse_count(argv[++i], "--close-timeout", 1, 3600000))) return 2;
      args.ws.close_timeout = std::chrono::milliseconds(*n);
    } else if (arg == "--max-buffered" && has_value) {
      if (!(n = parse_count(argv[++i], "--max-buffered", 1, 1L << 40))) return 2;
      args.ws.max_buffered = static_cast<std::size_t>(*n);
    } else if (arg == "--origin" && has_value) {
      args.ws.handshake.origins.emplace_back(argv[++i]);
    } else if (arg == "--subprotocol" && has_value) {
      args.ws.handshake.subprotocols.emplace_back(argv[++i]);
    } else if (arg == "--tls-cert" && has_value) {
      args.tls_cert = argv[++i];
    } else if (arg == "--tls-key" && has_value) {
      args.tls_key = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--listen IP:PORT] [--workers N | --threads N] [--drain MS] "
                   "[--max-message BYTES] [--compress | --compress-takeover] [--ping MS] "
                   "[--close-timeout MS] "
                   "[--max-buffered BYTES] [--origin ORIGIN]... [--subprotocol NAME]... "
                   "[--tls-cert CHAIN.pem --tls-key KEY.pem]\n",
                   argv[0]);
      return 2;
    }
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    std::fprintf(stderr, "avant-ws-echo: --tls-cert and --tls-key go together\n");
    return 2;
  }
  try {
    return run(args);
  } catch (const avant::tls::TlsError& e) {
    std::fprintf(stderr, "avant-ws-echo: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-ws-echo: %s\n", e.what());
    return 1;
  }
}
