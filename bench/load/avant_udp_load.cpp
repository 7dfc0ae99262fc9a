// avant-udp-load — the benchmark harness's UDP load client: request/response over datagrams.
//
//   avant-udp-load --connect 127.0.0.1:PORT [--mode udp|udp-proto] [--connections N]
//                  [--size BYTES] [--pipeline K] [--warmup SEC] [--duration SEC | --count N]
//                  [--server-pid PID] [--lost-after-ms MS]
//
// N sockets, each connected to the server (so only its answers arrive), keep K datagrams of
// --size bytes in flight against an echo server and check every answer. Udp mode sends raw
// datagrams and expects each back as it went; udp-proto mode sends the original's echo example,
// one ProtoPackage per datagram (CS_REQ_EXAMPLE whose testContext makes the datagram --size
// bytes), and expects the CS_RES_EXAMPLE package with the same testContext (2 bytes longer):
// what avant's UDP listener answers (docs/original-avant.md). Each datagram starts its payload
// with a sequence number, so an answer is matched to its request whatever the order.
//
// UDP loses datagrams: one not answered within --lost-after-ms (default 50) is counted lost and
// replaced by a new one, so the load keeps K in flight. An answer that comes after that is counted
// late and ignored.
//
// --pipeline 0 is a flood, the one-way load: every sender sends as fast as its socket takes
// datagrams, without waiting for answers, and the answers that come back are counted (no
// latency: the percentiles are null). More is sent than a server can take, so the figure is what it
// takes in and gets out under a load it cannot keep up with; "lost" is what was sent in the
// window and not answered. The measured window and the JSON are avant-load's (the harness reads both),
// plus "lost" and "late":
//
//   {"messages": 1234567, "seconds": 10.0, "msgs_per_s": 123456.7, "connections": 50, "size": 64,
//    "mode": "udp", "pipeline": 1, "latency_us": {...}, "client_cpu_s": 9.8,
//    "server_user_s": 3.1, "server_system_s": 6.2, "errors": 0, "lost": 12, "late": 0}
//
// Like avant-load it uses plain epoll, not Avant's reactor: the load must not share code with
// the server it measures.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>
#include <avant/net/socket.hpp>
#include <avant/net/socket_address.hpp>

#include "histogram.hpp"
#include "process_cpu.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string connect;
  bool proto = false;
  std::size_t connections = 1;
  std::size_t size = 64;
  std::size_t pipeline = 1;
  double warmup = 0;
  double duration = 5;
  std::uint64_t count = 0;
  long server_pid = 0;
  long lost_after_ms = 50;
};

// A datagram in flight: its sequence number and when it left.
struct Flight {
  std::uint64_t seq = 0;
  Clock::time_point sent;
  bool busy = false;
};

struct Sender {
  avant::net::Socket socket{avant::net::FileDescriptor{}};
  std::vector<Flight> flights;  // `pipeline` slots
};

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7FU) | 0x80U);
    v >>= 7U;
  }
  out += static_cast<char>(v);
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7U)
    ++n;
  return n;
}

// The sequence number, 8 bytes little-endian, at `at`.
void put_seq(char* at, std::uint64_t seq) {
  std::memcpy(at, &seq, sizeof seq);
}
std::uint64_t get_seq(const char* at) {
  std::uint64_t seq = 0;
  std::memcpy(&seq, at, sizeof seq);
  return seq;
}

class Load {
 public:
  explicit Load(Options options) : options_(std::move(options)) {}

  int run() {
    const auto parsed = avant::net::SocketAddress::parse(options_.connect);
    if (!parsed.ok()) {
      std::fprintf(stderr, "avant-udp-load: bad --connect %s\n", options_.connect.c_str());
      return 2;
    }
    if (!make_templates()) return 2;
    epoll_ = avant::net::FileDescriptor{::epoll_create1(EPOLL_CLOEXEC)};
    senders_.resize(options_.connections);
    for (std::size_t i = 0; i < senders_.size(); ++i) {
      Sender& s = senders_[i];
      s.socket = avant::net::Socket::create(parsed.address.family(), avant::net::SocketType::udp);
      if (!s.socket.connect(parsed.address).ok()) {
        std::fprintf(stderr, "avant-udp-load: connect %s failed\n", options_.connect.c_str());
        return 1;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.socket.fd(), &ev);
      s.flights.resize(options_.pipeline);
      for (std::size_t k = 0; k < options_.pipeline; ++k)
        send(s, k, Clock::now());
    }

    const auto start = Clock::now();
    const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options_.warmup));
    const auto measure_until = measure_from + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(options_.duration));
    bool measuring = options_.warmup <= 0;
    Clock::time_point measured_start = start;
    double cpu_start = avant::bench::cpu_seconds();
    avant::bench::CpuTimes server_start = avant::bench::process_cpu(options_.server_pid);
    const auto lost_after = std::chrono::milliseconds(options_.lost_after_ms);
    Clock::time_point next_scan = start + lost_after / 4;
    std::vector<epoll_event> events(256);
    for (;;) {
      const auto now = Clock::now();
      if (!measuring && now >= measure_from) {
        measuring = true;
        measured_start = now;
        cpu_start = avant::bench::cpu_seconds();
        server_start = avant::bench::process_cpu(options_.server_pid);
        histogram_ = avant::bench::Histogram{};
        messages_ = lost_ = late_ = flood_sent_ = 0;
      }
      measuring_ = measuring;
      if (options_.count > 0 ? messages_ >= options_.count : (measuring && now >= measure_until)) {
        break;
      }
      if (flood()) {
        for (Sender& s : senders_)
          flood_some(s);
      } else if (now >= next_scan) {
        replace_lost(now, lost_after);
        next_scan = now + lost_after / 4;
      }
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                 flood() ? 0 : 10);
      for (int e = 0; e < n; ++e)
        on_readable(senders_[events[static_cast<std::size_t>(e)].data.u64]);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - measured_start).count();
    const double cpu = avant::bench::cpu_seconds() - cpu_start;
    const avant::bench::CpuTimes server_end = avant::bench::process_cpu(options_.server_pid);
    if (flood()) lost_ = flood_sent_ > messages_ ? flood_sent_ - messages_ : 0;
    report(seconds, cpu, server_end.user - server_start.user,
           server_end.system - server_start.system);
    return errors_ > 0 ? 1 : 0;
  }

 private:
  // The request and the answer expected for sequence number 0; others differ in 8 bytes at
  // seq_at_ (the start of the payload or of testContext).
  bool make_templates() {
    if (!options_.proto) {
      if (options_.size < 8) {
        std::fprintf(stderr, "avant-udp-load: --size must be at least 8\n");
        return false;
      }
      request_.assign(options_.size, 'u');
      answer_ = request_;
      seq_at_ = 0;
      answer_seq_at_ = 0;
      return true;
    }
    // ProtoPackage { protocol = ProtoCSReqExample { testContext = <n bytes> } } is
    // 1 + |len(inner)| + inner, inner = 1 + |len(n)| + n: the n that makes it --size bytes.
    std::size_t n = options_.size;
    while (n > 0 &&
           1 + varint_size(1 + varint_size(n) + n) + 1 + varint_size(n) + n > options_.size) {
      --n;
    }
    if (n < 8 ||
        1 + varint_size(1 + varint_size(n) + n) + 1 + varint_size(n) + n != options_.size) {
      std::fprintf(stderr, "avant-udp-load: no echo request is exactly %zu bytes\n", options_.size);
      return false;
    }
    const std::string context(n, 'p');
    std::string inner = "\x0a";
    put_varint(inner, n);
    inner += context;
    request_ = "\x12";
    put_varint(request_, inner.size());
    seq_at_ = request_.size() + inner.size() - n;
    request_ += inner;
    answer_ = std::string("\x08\x01\x12", 3);
    put_varint(answer_, inner.size());
    answer_seq_at_ = answer_.size() + inner.size() - n;
    answer_ += inner;
    return true;
  }

  void send(Sender& s, std::size_t slot, Clock::time_point now) {
    Flight& f = s.flights[slot];
    f.seq = (next_seq_++ << 16U) | slot;  // the slot rides in the low bits
    f.sent = now;
    f.busy = true;
    put_seq(request_.data() + seq_at_, f.seq);
    const auto r = s.socket.write(request_);
    if (!r.ok() && r.status != avant::net::IoStatus::would_block) {
      // ECONNREFUSED (the server is gone) and the like: the datagram is lost; the scan
      // replaces it.
      ++send_failures_;
    }
  }

  [[nodiscard]] bool flood() const noexcept { return options_.pipeline == 0; }

  // Flood: up to 16 datagrams, fewer when the socket's buffer is full.
  void flood_some(Sender& s) {
    for (int i = 0; i < 16; ++i) {
      put_seq(request_.data() + seq_at_, next_seq_++);
      if (!s.socket.write(request_).ok()) return;
      ++flood_sent_;
    }
  }

  // Flood: an answer is right when it is the expected one for the sequence number it carries.
  void on_flood_answers(Sender& s, std::array<char, 70000>& buffer) {
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::recv(s.socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) return;
      const auto size = static_cast<std::size_t>(n);
      if (size != answer_.size()) {
        ++errors_;
        continue;
      }
      put_seq(answer_.data() + answer_seq_at_, get_seq(buffer.data() + answer_seq_at_));
      if (std::memcmp(buffer.data(), answer_.data(), size) != 0) {
        ++errors_;
        continue;
      }
      ++messages_;
    }
  }

  void on_readable(Sender& s) {
    static std::array<char, 70000> buffer{};
    if (flood()) return on_flood_answers(s, buffer);
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::recv(s.socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) return;  // EAGAIN, or an ICMP error: nothing more now
      const auto now = Clock::now();
      const auto size = static_cast<std::size_t>(n);
      if (size != answer_.size()) {
        ++errors_;
        continue;
      }
      const std::uint64_t seq = get_seq(buffer.data() + answer_seq_at_);
      const std::size_t slot = seq & 0xFFFFU;
      if (slot >= s.flights.size() || !s.flights[slot].busy || s.flights[slot].seq != seq) {
        ++late_;  // declared lost already, and replaced
        continue;
      }
      put_seq(answer_.data() + answer_seq_at_, seq);
      if (std::memcmp(buffer.data(), answer_.data(), size) != 0) {
        ++errors_;
        continue;
      }
      Flight& f = s.flights[slot];
      if (measuring_) {
        histogram_.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - f.sent).count()));
      }
      ++messages_;
      send(s, slot, now);
    }
  }

  void replace_lost(Clock::time_point now, Clock::duration lost_after) {
    for (Sender& s : senders_) {
      for (std::size_t slot = 0; slot < s.flights.size(); ++slot) {
        if (s.flights[slot].busy && now - s.flights[slot].sent >= lost_after) {
          ++lost_;
          send(s, slot, now);
        }
      }
    }
  }

  void report(double seconds, double cpu, double server_user, double server_system) const {
    const auto us = [this](double q) { return static_cast<double>(histogram_.quantile(q)) / 1e3; };
    const std::string latency =
        flood()
            ? std::string(R"({"p50": null, "p99": null, "p999": null, "max": null})")
            : "{\"p50\": " + std::to_string(us(0.50)) + ", \"p99\": " + std::to_string(us(0.99)) +
                  ", \"p999\": " + std::to_string(us(0.999)) +
                  ", \"max\": " + std::to_string(static_cast<double>(histogram_.max()) / 1e3) + "}";
    std::printf(
        "{\"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.1f, \"connections\": %zu, "
        "\"size\": %zu, \"mode\": \"%s\", \"pipeline\": %zu, \"latency_us\": %s, "
        "\"client_cpu_s\": %.3f, "
        "\"server_user_s\": %.3f, \"server_system_s\": %.3f, \"errors\": %llu, \"lost\": %llu, "
        "\"late\": %llu}\n",
        static_cast<unsigned long long>(messages_), seconds,
        seconds > 0 ? static_cast<double>(messages_) / seconds : 0.0, options_.connections,
        options_.size, options_.proto ? "udp-proto" : "udp", options_.pipeline, latency.c_str(),
        cpu, server_user, server_system, static_cast<unsigned long long>(errors_),
        static_cast<unsigned long long>(lost_), static_cast<unsigned long long>(late_));
  }

  Options options_;
  avant::net::FileDescriptor epoll_;
  std::vector<Sender> senders_;
  std::string request_;
  std::string answer_;
  std::size_t seq_at_ = 0;
  std::size_t answer_seq_at_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t messages_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t errors_ = 0;  // answers that are not the expected bytes
  std::uint64_t send_failures_ = 0;
  std::uint64_t flood_sent_ = 0;  // flood: datagrams the socket took in the window
  bool measuring_ = false;
  avant::bench::Histogram histogram_;
};

// A mistake on the command line: main() prints the usage and exits 2.
struct UsageError {};

[[noreturn]] void usage(const char* self) {
  std::fprintf(
      stderr,
      "usage: %s --connect IP:PORT [--mode udp|udp-proto] [--connections N]\n"
      "          [--size BYTES] [--pipeline K (0: flood)] [--warmup SEC] [--duration SEC | "
      "--count N]\n"
      "          [--server-pid PID] [--lost-after-ms MS]\n",
      self);
  throw UsageError{};
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (arg == "--connect") {
      o.connect = value();
    } else if (arg == "--mode") {
      const std::string_view m = value();
      if (m != "udp" && m != "udp-proto") usage(argv[0]);
      o.proto = m == "udp-proto";
    } else if (arg == "--connections") {
      o.connections = std::strtoul(value(), nullptr, 10);
    } else if (arg == "--size") {
      o.size = std::strtoul(value(), nullptr, 10);
    } else if (arg == "--pipeline") {
      o.pipeline = std::strtoul(value(), nullptr, 10);
    } else if (arg == "--warmup") {
      o.warmup = std::strtod(value(), nullptr);
    } else if (arg == "--duration") {
      o.duration = std::strtod(value(), nullptr);
    } else if (arg == "--count") {
      o.count = std::strtoull(value(), nullptr, 10);
    } else if (arg == "--server-pid") {
      o.server_pid = std::strtol(value(), nullptr, 10);
    } else if (arg == "--lost-after-ms") {
      o.lost_after_ms = std::strtol(value(), nullptr, 10);
    } else {
      usage(argv[0]);
    }
  }
  if (o.connect.empty() || o.connections == 0 || o.pipeline > 0xFFFF) {
    usage(argv[0]);
  }
  return Load(std::move(o)).run();
} catch (const UsageError&) {
  return 2;
}
