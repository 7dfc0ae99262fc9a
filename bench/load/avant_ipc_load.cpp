// avant-ipc-load — the harness's load client for IPC (bench/run ipc): an IpcMesh member, app
// 0.0.0.1, that dials a peer (app 0.0.0.2, e.g. avant-ipc-node) and keeps `--pipeline` echo
// requests in flight on the link, each answer sending the next. It speaks avant-load's command
// line and prints avant-load's JSON report, so that the harness treats both alike:
//
//   avant-ipc-load --connect 127.0.0.1:PORT [--mode ipc] [--connections 1] [--size BYTES]
//                  [--pipeline K] [--warmup SEC] [--duration SEC | --count MESSAGES]
//                  [--server-pid PID]
//
// The request is the echo example's package (CS_REQ_EXAMPLE) in a frame of at most --size bytes,
// as avant-load --mode proto sends it; the link is a real one (handshake, acknowledgements on the
// heartbeats), so what is measured is the mesh on both ends. One link per pair of app ids:
// --connections is 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <avant/ipc/ipc_mesh.hpp>
#include <avant/ipc/mesh_config.hpp>
#include <avant/proto/avant.pb.h>
#include <avant/proto/dispatcher.hpp>
#include <avant/proto/frame_codec.hpp>
#include <avant/reactor/event_loop.hpp>

#include "histogram.hpp"
#include "process_cpu.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string connect;
  std::size_t size = 64;
  std::size_t pipeline = 1;
  double warmup = 1;
  double duration = 5;
  std::uint64_t count = 0;
  long server_pid = 0;
};

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s --connect IP:PORT [--mode ipc] [--connections 1] [--size BYTES]\n"
               "          [--pipeline K] [--warmup SEC] [--duration SEC | --count MESSAGES]\n"
               "          [--server-pid PID]\n",
               self);
  std::_Exit(2);  // nothing to flush or clean up yet
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const char* value = argv[++i];
    char* end = nullptr;
    if (arg == "--connect") {
      o.connect = value;
    } else if (arg == "--mode") {
      if (std::string_view(value) != "ipc") usage(argv[0]);
    } else if (arg == "--connections") {
      if (std::strtoul(value, &end, 10) != 1) usage(argv[0]);
    } else if (arg == "--size") {
      o.size = std::strtoul(value, &end, 10);
    } else if (arg == "--pipeline") {
      o.pipeline = std::max<std::size_t>(1, std::strtoul(value, &end, 10));
    } else if (arg == "--warmup") {
      o.warmup = std::strtod(value, &end);
    } else if (arg == "--duration") {
      o.duration = std::strtod(value, &end);
    } else if (arg == "--count") {
      o.count = std::strtoull(value, &end, 10);
    } else if (arg == "--server-pid") {
      o.server_pid = std::strtol(value, &end, 10);
    } else {
      usage(argv[0]);
    }
    if (end != nullptr && *end != '\0') usage(argv[0]);
  }
  if (o.connect.empty() || o.size < 12) usage(argv[0]);
  return o;
}

// The longest testContext whose request frame is at most `size` bytes (avant-load's rule).
std::string request_text(std::size_t size) {
  std::string text(size, 'a');
  for (std::size_t i = 0; i < text.size(); ++i)
    text[i] = static_cast<char>('a' + (i * 7) % 26);
  while (!text.empty()) {
    avant::ProtoCSReqExample req;
    req.set_testcontext(text);
    std::string frame;
    avant::proto::append_frame(frame, avant::PROTO_CMD_CS_REQ_EXAMPLE, req);
    if (frame.size() <= size) break;
    text.pop_back();
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  const auto server = avant::net::SocketAddress::parse(options.connect);
  if (!server.ok()) usage(argv[0]);

  avant::ipc::MeshOptions mesh_options;
  mesh_options.app_id = "0.0.0.1";
  mesh_options.mesh.entries = {{"0.0.0.1", avant::net::SocketAddress::ipv4_loopback(1)},
                               {"0.0.0.2", server.address}};
  mesh_options.listen = avant::net::SocketAddress::ipv4_loopback(0);

  avant::reactor::EventLoop loop;
  avant::ProtoCSReqExample request;
  request.set_testcontext(request_text(options.size));
  std::deque<Clock::time_point> in_flight;  // the link keeps order: answers come FIFO
  avant::bench::Histogram histogram;
  std::uint64_t messages = 0;
  bool measuring = options.warmup <= 0;
  bool failed = false;
  Clock::time_point measured_start{};
  double cpu_start = 0;
  avant::bench::CpuTimes server_start{};
  avant::ipc::IpcMesh* mesh_ptr = nullptr;

  const auto send_one = [&] {
    in_flight.push_back(Clock::now());
    if (mesh_ptr->send("0.0.0.2", avant::PROTO_CMD_CS_REQ_EXAMPLE, request) !=
        avant::ipc::Delivery::queued) {
      failed = true;
      loop.quit();
    }
  };
  const auto begin_measuring = [&] {
    measuring = true;
    histogram = avant::bench::Histogram{};
    messages = 0;
    measured_start = Clock::now();
    cpu_start = avant::bench::cpu_seconds();
    server_start = avant::bench::process_cpu(options.server_pid);
  };

  auto dispatcher = std::make_shared<avant::proto::Dispatcher>();
  dispatcher->on<avant::ProtoCSResExample>(
      avant::PROTO_CMD_CS_RES_EXAMPLE,
      [&](avant::proto::Context&, const avant::ProtoCSResExample&) {
        if (in_flight.empty()) return;
        const auto sent = in_flight.front();
        in_flight.pop_front();
        if (measuring) {
          histogram.record(static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count()));
          ++messages;
          if (options.count > 0 && messages >= options.count) return loop.quit();
        }
        send_one();
      });
  avant::ipc::IpcMesh mesh(loop, std::move(mesh_options), dispatcher);
  mesh_ptr = &mesh;
  bool started = false;
  mesh.on_peer_up([&](const std::string&) {
    if (started) return;
    started = true;
    for (std::size_t i = 0; i < options.pipeline; ++i)
      send_one();
    const auto to = [](double seconds) {
      return std::chrono::duration_cast<avant::reactor::Duration>(
          std::chrono::duration<double>(seconds));
    };
    if (!measuring) loop.run_after(to(options.warmup), begin_measuring);
    if (options.count == 0) {
      loop.run_after(to(options.warmup + options.duration), [&] { loop.quit(); });
    }
  });
  mesh.on_peer_down([&](const std::string&) {
    std::fprintf(stderr, "avant-ipc-load: the link went down\n");
    failed = true;
    loop.quit();
  });
  if (measuring) begin_measuring();
  mesh.start();
  const auto give_up = loop.run_after(std::chrono::seconds(10), [&] {
    if (started) return;
    std::fprintf(stderr, "avant-ipc-load: no link with %s within 10 s\n", options.connect.c_str());
    failed = true;
    loop.quit();
  });
  loop.run();
  loop.cancel(give_up);
  if (failed) return 1;
  const double seconds = std::chrono::duration<double>(Clock::now() - measured_start).count();
  const double cpu = avant::bench::cpu_seconds() - cpu_start;
  const avant::bench::CpuTimes server_end = avant::bench::process_cpu(options.server_pid);
  const auto us = [&](double q) { return static_cast<double>(histogram.quantile(q)) / 1e3; };
  std::printf(
      "{\"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.1f, \"connections\": 1, "
      "\"size\": %zu, \"mode\": \"ipc\", \"pipeline\": %zu, \"latency_us\": {\"p50\": %.1f, "
      "\"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}, \"client_cpu_s\": %.3f, "
      "\"server_user_s\": %.3f, \"server_system_s\": %.3f, \"errors\": 0}\n",
      static_cast<unsigned long long>(messages), seconds,
      seconds > 0 ? static_cast<double>(messages) / seconds : 0.0, options.size, options.pipeline,
      us(0.50), us(0.99), us(0.999), static_cast<double>(histogram.max()) / 1e3, cpu,
      server_end.user - server_start.user, server_end.system - server_start.system);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "avant-ipc-load: %s\n", e.what());
  return 1;
}
