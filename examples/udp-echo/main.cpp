// avant-udp-echo — chapter 08's UDP echo on one loop: every datagram back to its sender, or, with
// --proto, the original's echo example over UDP (one ProtoPackage per datagram, chapter 07's
// dispatcher).
//
//   avant-udp-echo [--listen 127.0.0.1:20025] [--proto] [--batch N] [--max-per-event N]
//                  [--receive-buffer BYTES]
//
// --batch is the datagrams per recvmmsg/sendmmsg (1: recvfrom and sendto); --max-per-event the
// cap per readiness event (the original's other_udp_svr_max_loop). bench/run udp runs it against
// the C ceiling (bench/ceiling/udp_echo.c), which takes the same --listen and prints the same
// kind of banner. SIGINT/SIGTERM stop it with status 0 after printing its counters.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <avant/proto/dispatcher.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/signals.hpp>
#include <avant/udp/datagram_service.hpp>
#include <avant/udp/udp_endpoint.hpp>

namespace {

// A mistake on the command line: main() prints the usage and exits 2.
struct UsageError {};

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--listen IP:PORT] [--proto] [--batch N] [--max-per-event N]\n"
               "          [--receive-buffer BYTES]\n",
               self);
  throw UsageError{};
}

}  // namespace

int main(int argc, char** argv) try {
  std::string listen = "127.0.0.1:20025";
  bool proto = false;
  avant::udp::UdpOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> long {
      if (i + 1 >= argc) usage(argv[0]);
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 0) usage(argv[0]);
      return v;
    };
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--proto") {
      proto = true;
    } else if (arg == "--batch") {
      options.batch = static_cast<std::size_t>(value());
    } else if (arg == "--max-per-event") {
      options.max_per_event = static_cast<std::size_t>(value());
    } else if (arg == "--receive-buffer") {
      options.receive_buffer = static_cast<int>(value());
    } else {
      usage(argv[0]);
    }
  }
  const auto address = avant::net::SocketAddress::parse(listen);
  if (!address.ok()) {
    std::fprintf(stderr, "avant-udp-echo: --listen '%s' is not an address\n", listen.c_str());
    return 2;
  }
  try {
    avant::reactor::EventLoop loop;
    const avant::reactor::SignalWatcher signals(loop, {.stop = [&](int) { loop.quit(); }});
    auto dispatcher = std::make_shared<avant::proto::Dispatcher>();
    avant::proto::add_echo_example(*dispatcher);
    avant::udp::DatagramService service(dispatcher);
    avant::udp::UdpEndpoint endpoint(loop, address.address, options);
    if (proto) {
      service.serve(endpoint);
    } else {
      endpoint.set_message_callback(
          [&endpoint](std::string_view datagram, const avant::net::SocketAddress& from) {
            (void)endpoint.send_to(datagram, from);
          });
    }
    endpoint.start();
    std::printf("avant-udp-echo: listening on %s (%s, batch %zu, at most %zu per event)\n",
                endpoint.local_address().to_string().c_str(), proto ? "proto" : "raw",
                options.batch, options.max_per_event);
    std::fflush(stdout);
    loop.run();
    const avant::udp::UdpStats s = endpoint.stats();
    std::printf(
        "avant-udp-echo: %llu datagrams in (%llu receive calls), %llu out (%llu send calls), "
        "%llu queued, %llu dropped, %llu truncated, %llu empty\n",
        static_cast<unsigned long long>(s.received),
        static_cast<unsigned long long>(s.receive_calls), static_cast<unsigned long long>(s.sent),
        static_cast<unsigned long long>(s.send_calls), static_cast<unsigned long long>(s.queued),
        static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.truncated),
        static_cast<unsigned long long>(s.empty));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-udp-echo: %s\n", e.what());
    return 1;
  }
} catch (const UsageError&) {
  return 2;
}
