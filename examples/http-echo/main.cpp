// avant-http-echo — answers any method on any path with 200 and the request's body: the subject
// of the HTTP conformance tests (docs/testing.md), and a demo of the HTTP layer alone (chapter 05).
//
//   avant-http-echo [--listen 127.0.0.1:20080] [--workers N | --threads N] [--drain MS]
//                   [--max-body BYTES] [--header-timeout MS] [--max-requests N] [--fixed BODY]
//                   [--tls-cert CHAIN.pem --tls-key KEY.pem]
//
//   $ curl -s --data-binary 'hello' http://127.0.0.1:20080/anything
//   hello
//
// The answer has the request's Content-Type (or application/octet-stream) and its body, whether
// the body came with a Content-Length or chunked. HEAD answers with the headers only. A
// response's `X-Request-Method` and `X-Request-Target` name what was asked. SIGINT/SIGTERM stop
// accepting, finish the requests in flight (up to --drain MS) and exit 0.
//
// --fixed BODY answers every request with 200, Content-Type text/plain and BODY instead: the
// benchmark's counterpart of nginx's `return 200 "Hello, World!"` (bench/run http).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>

#include <avant/http/http_server.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/signals.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>

namespace {

struct Args {
  std::string listen = "127.0.0.1:20080";
  long workers = 0;
  long drain_ms = 5000;
  long max_body = 8L << 20;
  long header_timeout_ms = 10000;
  long max_requests = 1000;  // per connection (HttpOptions' default, like nginx's)
  std::optional<std::string> fixed;
  std::string tls_cert;
  std::string tls_key;
};

void echo(avant::http::Request& request, avant::http::Responder responder) {
  avant::http::Response response;
  response.headers.add("Content-Type",
                       request.headers.get("Content-Type").value_or("application/octet-stream"));
  response.headers.add("X-Request-Method", request.method);
  response.headers.add("X-Request-Target", request.target);
  response.body = std::move(request.body);
  responder.send(std::move(response));
}

int run(const Args& args) {
  const auto parsed = avant::net::SocketAddress::parse(args.listen);
  if (!parsed.ok()) {
    std::fprintf(stderr, "avant-http-echo: --listen '%s': %s\n", args.listen.c_str(),
                 std::string(to_string(parsed.error)).c_str());
    return 2;
  }
  avant::thread::set_thread_name("main");
  avant::reactor::EventLoop loop;
  avant::http::HttpOptions options;
  options.server.tcp.listen = parsed.address;
  options.server.workers = static_cast<std::size_t>(args.workers);
  options.server.drain_timeout = std::chrono::milliseconds(args.drain_ms);
  options.limits.max_body = static_cast<std::size_t>(args.max_body);
  options.header_timeout = std::chrono::milliseconds(args.header_timeout_ms);
  options.max_requests_per_connection = static_cast<std::size_t>(args.max_requests);
  if (!args.tls_cert.empty()) {
    auto context = std::make_shared<const avant::tls::TlsContext>(avant::tls::TlsContext::server(
        {.certificate_chain_file = args.tls_cert, .private_key_file = args.tls_key}));
    options.server.tcp.filter = avant::tls::server_filter(std::move(context));
  }
  avant::http::Handler handler = echo;
  if (args.fixed) {
    handler = [body = *args.fixed](avant::http::Request&, avant::http::Responder responder) {
      responder.send(avant::http::Response::text(200, body, "text/plain"));
    };
  }
  avant::http::HttpServer server(loop, options, handler);

  // SIGINT/SIGTERM stop the server with a drain (reactor/signals.hpp); before start() starts the
  // worker threads, so they inherit the blocked mask.
  const avant::reactor::SignalWatcher signals(
      loop, {.stop = [&](int) { server.stop([&loop] { loop.quit(); }); }});

  server.start();
  const long threads = std::max(args.workers, 1L);
  std::printf("avant-http-echo: listening on %s://%s (%ld thread%s)\n",
              args.tls_cert.empty() ? "http" : "https", server.listen_address().to_string().c_str(),
              threads, threads == 1 ? "" : "s");
  std::fflush(stdout);
  loop.run();
  const auto stats = server.stats();
  std::printf("avant-http-echo: stopped; %llu requests answered\n",
              static_cast<unsigned long long>(stats.requests));
  return 0;
}

std::optional<long> parse_count(const char* text, const char* option, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) {
    std::fprintf(stderr, "avant-http-echo: %s must be a number from %ld to %ld, not '%s'\n", option,
                 min, max, text);
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
    } else if (arg == "--max-body" && has_value) {
      if (!(n = parse_count(argv[++i], "--max-body", 0, 1L << 40))) return 2;
      args.max_body = *n;
    } else if (arg == "--header-timeout" && has_value) {
      if (!(n = parse_count(argv[++i], "--header-timeout", 1, 3600000))) return 2;
      args.header_timeout_ms = *n;
    } else if (arg == "--max-requests" && has_value) {
      if (!(n = parse_count(argv[++i], "--max-requests", 1, 1L << 40))) return 2;
      args.max_requests = *n;
    } else if (arg == "--fixed" && has_value) {
      args.fixed = argv[++i];
    } else if (arg == "--tls-cert" && has_value) {
      args.tls_cert = argv[++i];
    } else if (arg == "--tls-key" && has_value) {
      args.tls_key = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--listen IP:PORT] [--workers N | --threads N] [--drain MS] "
                   "[--max-body BYTES] [--header-timeout MS] [--max-requests N] [--fixed BODY] "
                   "[--tls-cert CHAIN.pem --tls-key KEY.pem]\n",
                   argv[0]);
      return 2;
    }
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    std::fprintf(stderr, "avant-http-echo: --tls-cert and --tls-key go together\n");
    return 2;
  }
  try {
    return run(args);
  } catch (const avant::tls::TlsError& e) {
    std::fprintf(stderr, "avant-http-echo: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-http-echo: %s\n", e.what());
    return 1;
  }
}
