// avant-ipc-node — one member of an IPC mesh (chapter 09) on one loop, for trying the mesh by hand,
// for the fault tests and for bench/run ipc. It answers the original's echo example over IPC, as
// avant does, and it can send.
//
//   avant-ipc-node --ipc ipc.json --app 0.0.0.1 [--listen-port P | --listen IP:PORT] [--send N]
//                  [--interval-ms M]
//                  [--to ID,ID] [--log-received] [--heartbeat-ms M] [--peer-timeout-ms M]
//                  [--handshake-timeout-ms M] [--backoff-max-ms M] [--ping N] [--window W]
//
// --send N: N packages (CS_REQ_EXAMPLE, testContext "<app_id>#<pid>#<seq>") to each peer (or
// those of --to), one per peer every --interval-ms, whether the peer is up or not: the mesh queues
// them. SIGUSR1 sends N more (the fault tests send a burst per fault this way).
// --log-received prints "recv <peer> <testContext>" for each request read and "answer <peer>
// <testContext>" for each answer. --ping N (with one
// --to): N requests to that peer, --window of them in flight, each answer (CS_RES_EXAMPLE) sends
// the next; then it prints the messages per second, p50 and p99 of the round trip, and its CPU
// time, and exits. SIGINT/SIGTERM stop it with status 0 after a "stats <peer> ..." line per peer.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <avant/ipc/ipc_mesh.hpp>
#include <avant/ipc/mesh_config.hpp>
#include <avant/proto/avant.pb.h>
#include <avant/proto/dispatcher.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/signals.hpp>

namespace {

using avant::PROTO_CMD_CS_REQ_EXAMPLE;
using avant::PROTO_CMD_CS_RES_EXAMPLE;
using avant::ProtoCSReqExample;
using avant::ProtoCSResExample;
using avant::ProtoPackage;
using Clock = std::chrono::steady_clock;

// A mistake on the command line: main() prints the usage and exits 2.
struct UsageError {};

[[noreturn]] void usage(const char* self) {
  std::fprintf(
      stderr,
      "usage: %s --ipc FILE --app ID [--listen-port P | --listen IP:PORT] [--send N]\n"
      "          [--interval-ms M]\n"
      "          [--to ID,ID] [--log-received] [--heartbeat-ms M] [--peer-timeout-ms M]\n"
      "          [--handshake-timeout-ms M] [--backoff-max-ms M] [--ping N] [--window W]\n",
      self);
  throw UsageError{};
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

struct Settings {
  std::string ipc;
  std::string app;
  long listen_port = -1;
  std::string listen;
  long send = 0;
  long interval_ms = 10;
  std::vector<std::string> to;
  bool log_received = false;
  long heartbeat_ms = 1000;
  long peer_timeout_ms = 5000;
  long handshake_timeout_ms = 5000;
  long backoff_max_ms = 10000;
  long ping = 0;
  long window = 1;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto text = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    const auto number = [&]() -> long {
      const std::string v = text();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || n < 0) usage(argv[0]);
      return n;
    };
    if (arg == "--ipc") {
      s.ipc = text();
    } else if (arg == "--app") {
      s.app = text();
    } else if (arg == "--listen-port") {
      s.listen_port = number();
    } else if (arg == "--listen") {
      s.listen = text();
    } else if (arg == "--send") {
      s.send = number();
    } else if (arg == "--interval-ms") {
      s.interval_ms = number();
    } else if (arg == "--to") {
      std::istringstream list(text());
      for (std::string id; std::getline(list, id, ',');)
        s.to.push_back(id);
    } else if (arg == "--log-received") {
      s.log_received = true;
    } else if (arg == "--heartbeat-ms") {
      s.heartbeat_ms = number();
    } else if (arg == "--peer-timeout-ms") {
      s.peer_timeout_ms = number();
    } else if (arg == "--handshake-timeout-ms") {
      s.handshake_timeout_ms = number();
    } else if (arg == "--backoff-max-ms") {
      s.backoff_max_ms = number();
    } else if (arg == "--ping") {
      s.ping = number();
    } else if (arg == "--window") {
      s.window = std::max(1L, number());
    } else {
      usage(argv[0]);
    }
  }
  if (s.ipc.empty() || s.app.empty() || (s.ping > 0 && s.to.size() != 1)) usage(argv[0]);
  return s;
}

ProtoPackage request(const std::string& text) {
  ProtoCSReqExample req;
  req.set_testcontext(text);
  ProtoPackage p;
  p.set_cmd(PROTO_CMD_CS_REQ_EXAMPLE);
  p.set_protocol(req.SerializeAsString());
  return p;
}

void print_stats(const avant::ipc::IpcMesh& mesh, const std::vector<std::string>& peers) {
  for (const auto& id : peers) {
    const auto s = mesh.peer_stats(id);
    if (!s) continue;
    std::printf(
        "stats %s up=%d sent=%llu acknowledged=%llu queued=%llu unacked=%llu resent=%llu "
        "rejected=%llu dropped=%llu received=%llu links=%llu attempts=%llu\n",
        id.c_str(), s->up ? 1 : 0, static_cast<unsigned long long>(s->sent),
        static_cast<unsigned long long>(s->acknowledged),
        static_cast<unsigned long long>(s->queued), static_cast<unsigned long long>(s->unacked),
        static_cast<unsigned long long>(s->resent), static_cast<unsigned long long>(s->rejected),
        static_cast<unsigned long long>(s->dropped), static_cast<unsigned long long>(s->received),
        static_cast<unsigned long long>(s->links), static_cast<unsigned long long>(s->attempts));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
  const Settings settings = parse(argc, argv);
  try {
    avant::ipc::MeshOptions o;
    o.app_id = settings.app;
    o.mesh = avant::ipc::load_mesh(settings.ipc);
    const avant::ipc::MeshEntry* own = o.mesh.find(settings.app);
    if (own == nullptr) {
      std::fprintf(stderr, "avant-ipc-node: %s has no entry for %s\n", settings.ipc.c_str(),
                   settings.app.c_str());
      return 2;
    }
    if (!settings.listen.empty()) {
      const auto parsed = avant::net::SocketAddress::parse(settings.listen);
      if (!parsed.ok()) usage(argv[0]);
      o.listen = parsed.address;
    } else if (settings.listen_port >= 0) {
      o.listen = avant::net::SocketAddress::from_ip_port(
                     own->address.ip(), static_cast<std::uint16_t>(settings.listen_port))
                     .address;
    }
    o.heartbeat = std::chrono::milliseconds(settings.heartbeat_ms);
    o.peer_timeout = std::chrono::milliseconds(settings.peer_timeout_ms);
    o.handshake_timeout = std::chrono::milliseconds(settings.handshake_timeout_ms);
    o.backoff.max = std::chrono::milliseconds(settings.backoff_max_ms);
    o.backoff.initial = std::min(o.backoff.initial, o.backoff.max);
    std::vector<std::string> peers = settings.to;
    if (peers.empty()) {
      for (const auto& e : o.mesh.entries) {
        if (e.app_id != settings.app) peers.push_back(e.app_id);
      }
    }

    avant::reactor::EventLoop loop;
    long seq = 0;
    long target = settings.send;  // packages to send to each peer, so far
    const avant::reactor::SignalWatcher signals(
        loop, {.stop = [&](int) { loop.quit(); }, .reload = [&] { target += settings.send; }});
    auto dispatcher = std::make_shared<avant::proto::Dispatcher>();
    avant::ipc::IpcMesh* mesh_ptr = nullptr;
    // --ping: the requests in flight (testContext -> when sent) and the round trips.
    std::unordered_map<std::string, Clock::time_point> in_flight;
    std::vector<double> round_trips;
    long next_ping = 0;
    Clock::time_point ping_start{};
    double cpu_start = 0;
    const auto send_ping = [&] {
      const std::string text = settings.app + "#" + std::to_string(next_ping++);
      in_flight[text] = Clock::now();
      (void)mesh_ptr->send(settings.to[0], request(text));
    };
    dispatcher->on<ProtoCSReqExample>(
        PROTO_CMD_CS_REQ_EXAMPLE, [&](avant::proto::Context& c, const ProtoCSReqExample& req) {
          if (settings.log_received) {
            std::printf("recv %s %s\n", avant::ipc::IpcMesh::peer_of(c).c_str(),
                        req.testcontext().c_str());
            std::fflush(stdout);
          }
          ProtoCSResExample res;
          res.set_testcontext(req.testcontext());
          c.reply(PROTO_CMD_CS_RES_EXAMPLE, res);
        });
    dispatcher->on<ProtoCSResExample>(
        PROTO_CMD_CS_RES_EXAMPLE, [&](avant::proto::Context& c, const ProtoCSResExample& res) {
          if (settings.log_received) {
            std::printf("answer %s %s\n", avant::ipc::IpcMesh::peer_of(c).c_str(),
                        res.testcontext().c_str());
            std::fflush(stdout);
          }
          if (settings.ping == 0) return;
          const auto it = in_flight.find(res.testcontext());
          if (it == in_flight.end()) return;
          round_trips.push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - it->second).count());
          in_flight.erase(it);
          if (next_ping < settings.ping) {
            send_ping();
          } else if (in_flight.empty()) {
            loop.quit();
          }
        });

    avant::ipc::IpcMesh mesh(loop, std::move(o), dispatcher);
    mesh_ptr = &mesh;
    if (settings.ping > 0) {
      mesh.on_peer_up([&](const std::string& id) {
        if (id != settings.to[0] || next_ping > 0) return;
        ping_start = Clock::now();
        cpu_start = cpu_seconds();
        for (long i = 0; i < settings.window && next_ping < settings.ping; ++i)
          send_ping();
      });
    }
    mesh.start();
    std::printf("avant-ipc-node: %s listening on %s\n", settings.app.c_str(),
                mesh.listen_address().to_string().c_str());
    std::fflush(stdout);

    const std::string tag = settings.app + "#" + std::to_string(::getpid()) + "#";
    if (settings.send > 0) {
      loop.run_every(std::chrono::milliseconds(std::max(1L, settings.interval_ms)), [&] {
        if (seq >= target) return;
        for (const auto& id : peers) {
          const std::string text = tag + std::to_string(seq);
          const avant::ipc::Delivery d = mesh.send(id, request(text));
          if (d != avant::ipc::Delivery::queued) {
            std::printf("refused %s %s %s\n", id.c_str(), text.c_str(),
                        std::string(avant::ipc::to_string(d)).c_str());
          }
        }
        ++seq;
      });
    }
    loop.run();
    if (settings.ping > 0 && !round_trips.empty()) {
      const double seconds = std::chrono::duration<double>(Clock::now() - ping_start).count();
      std::sort(round_trips.begin(), round_trips.end());
      const auto at = [&](double q) {
        return round_trips[std::min(
            round_trips.size() - 1,
            static_cast<std::size_t>(q * static_cast<double>(round_trips.size())))];
      };
      std::printf("ping: %zu answers in %.3f s: %.0f msg/s, p50 %.1f us, p99 %.1f us, cpu %.3f s\n",
                  round_trips.size(), seconds, static_cast<double>(round_trips.size()) / seconds,
                  at(0.5), at(0.99), cpu_seconds() - cpu_start);
    }
    print_stats(mesh, peers);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-ipc-node: %s\n", e.what());
    return 1;
  }
} catch (const UsageError&) {
  return 2;
}
