// avant-load — the load client of Avant's benchmark harness, for what wrk cannot drive.
//
//   avant-load --connect 127.0.0.1:PORT [--mode raw|framed|proto|http|ws] [--connections N]
//              [--size BYTES]
//              [--pipeline K] [--warmup SEC] [--duration SEC | --count MESSAGES] [--server-pid PID]
//              [--path /PATH]
//
// Each of N connections keeps K messages of --size bytes in flight (K = 1: ping-pong) against an
// echo server, and checks every echoed byte. A message is --size bytes on the wire: raw mode sends
// them as they are; framed mode sends Avant's stream frame, an 8-byte big-endian length and
// --size - 8 payload bytes. Proto mode sends the original's echo example in that frame — a
// ProtoPackage of CS_REQ_EXAMPLE whose ProtoCSReqExample carries as many testContext bytes as make
// the frame --size bytes — and expects each back as the CS_RES_EXAMPLE package with the same bytes
// (2 bytes longer: the command is written, 0 was not): what avant's STREAM_TASK answers, encoded
// here by hand (docs/original-avant.md has the bytes). Http mode sends `GET / HTTP/1.1` requests (--path for another path; --size is ignored) to a
// server whose every answer has the same length (a fixed body: nginx's `return 200`, the C
// ceiling, avant-http-echo --fixed); the first answer on each connection must be a 200 with a
// Content-Length, and its length is then the length of every answer. Ws mode opens each
// connection with a WebSocket handshake (GET / with Upgrade: websocket; the answer must be a 101)
// and then sends binary messages of --size payload bytes, each one masked frame as a client must
// send it (RFC 6455 §5.3; one fixed key: the server's work is the same for any key), and expects
// each back as the unmasked frame a server sends: an echo server that answers every message with
// the same message (avant-ws-echo, Node's ws). After --warmup seconds (not measured) it measures
// for --duration seconds, or until --count messages came back, and prints one JSON object:
//
//   {"messages": 1234567, "seconds": 10.0, "msgs_per_s": 123456.7, "connections": 50, "size": 64,
//    "mode": "raw", "pipeline": 1, "latency_us": {"p50": 35.2, "p99": 80.1, "p999": 120.4,
//    "max": 950.0}, "client_cpu_s": 9.8, "server_user_s": 3.1, "server_system_s": 6.2,
//    "errors": 0}
//
// With --server-pid, the server's CPU time over the measured window comes from /proc/<pid>/stat
// (user and system separately): CPU per message is what separates servers when the kernel or the
// client bounds throughput.
//
// Why plain epoll and not Avant's own reactor: the load generator must not share code with the
// server under test — a slowdown or a bug in the reactor would then move both sides of the ratio
// at once — and it must be at least as lean as the C ceiling it also drives. It uses module net
// (chapter 01) only for sockets and addresses, and writes the few WebSocket frame headers it needs
// itself.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <avant/net/file_descriptor.hpp>
#include <avant/net/io.hpp>
#include <avant/net/socket.hpp>

#include "histogram.hpp"
#include "process_cpu.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using avant::bench::cpu_seconds;
using avant::bench::CpuTimes;
using avant::bench::process_cpu;
using avant::net::IoStatus;

struct Options {
  std::string connect;
  bool framed = false;
  bool proto = false;  // framed, with ProtoPackages in the frames
  bool http = false;
  bool ws = false;
  std::string path = "/";  // http: the path of every GET
  std::size_t connections = 1;
  std::size_t size = 64;
  std::size_t pipeline = 1;
  double warmup = 2.0;
  double duration = 10.0;
  std::uint64_t count = 0;  // 0: run for duration
  long server_pid = 0;      // >0: also measure that process's CPU time over the window
};

struct Connection {
  avant::net::Socket socket{avant::net::FileDescriptor{}};
  std::uint64_t sent = 0;      // bytes written so far
  std::uint64_t queued = 0;    // bytes the client wants written so far (sent <= queued)
  std::uint64_t received = 0;  // bytes echoed so far
  std::deque<Clock::time_point> in_flight;  // enqueue time of each message not yet echoed whole
  std::uint64_t answer_size = 0;            // http: the length of every answer (0: not known yet)
  std::string first_answer;                 // http: the bytes of the first answer, until known
  bool want_write = false;
  bool alive = true;
};

// Appends a protobuf varint.
void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7FU) | 0x80U));
    v >>= 7U;
  }
  out.push_back(static_cast<char>(v));
}

// The stream frame of a ProtoPackage {cmd, protocol = ProtoCS{Req,Res}Example{testContext}}
// (field 1 of the package is the command, omitted when 0; field 2 the inner message, whose field 1
// is the bytes).
std::string proto_frame(int cmd, std::string_view text) {
  std::string inner = "\x0a";
  put_varint(inner, text.size());
  inner.append(text);
  std::string body;
  if (cmd != 0) {
    body.push_back('\x08');
    put_varint(body, static_cast<std::uint64_t>(cmd));
  }
  body.push_back('\x12');
  put_varint(body, inner.size());
  body += inner;
  std::string frame;
  for (int i = 0; i < 8; ++i)
    frame.push_back(static_cast<char>(static_cast<std::uint64_t>(body.size()) >> (56 - 8 * i)));
  return frame + body;
}

class Load {
 public:
  explicit Load(Options options)
      : options_(std::move(options)), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) throw std::runtime_error("epoll_create1 failed");
    // One message, repeated: every message is identical, so the bytes to send at stream offset x
    // are out_message[x % out_size] and the bytes to expect back in_message[x % in_size] — no
    // per-message copies. Raw and framed: the echo is the message itself.
    std::string pattern(options_.size, '\0');
    for (std::size_t i = 0; i < pattern.size(); ++i)
      pattern[i] = static_cast<char>('a' + (i * 7) % 26);
    std::string out_message;
    std::string in_message;
    if (options_.http) {
      out_message = "GET " + options_.path + " HTTP/1.1\r\nHost: bench\r\n\r\n";
    } else if (options_.ws) {
      out_message = ws_frame(pattern, true);
      in_message = ws_frame(pattern, false);
    } else if (options_.proto) {
      // The longest testContext whose request frame is at most --size bytes.
      std::size_t text = options_.size;
      while (text > 0 && proto_frame(0, pattern.substr(0, text)).size() > options_.size)
        --text;
      out_message = proto_frame(0, pattern.substr(0, text));
      in_message = proto_frame(1, pattern.substr(0, text));
    } else {
      out_message = pattern;
      if (options_.framed) {
        const std::uint64_t payload = options_.size - 8;
        for (int i = 0; i < 8; ++i)
          out_message[static_cast<std::size_t>(i)] = static_cast<char>(payload >> (56 - 8 * i));
      }
    }
    if (in_message.empty()) in_message = out_message;
    out_ = Stream(out_message);
    in_ = Stream(in_message);
  }

  int run() {
    const auto parsed = avant::net::SocketAddress::parse(options_.connect);
    if (!parsed.ok()) {
      std::fprintf(stderr, "avant-load: --connect '%s': %s\n", options_.connect.c_str(),
                   std::string(to_string(parsed.error)).c_str());
      return 2;
    }
    connections_.resize(options_.connections);
    for (std::size_t i = 0; i < connections_.size(); ++i)
      open(i, parsed.address);

    const auto start = Clock::now();
    const auto measure_from = start + to_duration(options_.warmup);
    const auto measure_until = measure_from + to_duration(options_.duration);
    bool measuring = options_.warmup <= 0;
    Clock::time_point measured_start = start;
    double cpu_start = cpu_seconds();
    CpuTimes server_start = process_cpu(options_.server_pid);
    std::vector<epoll_event> events(256);
    std::vector<char> chunk(std::size_t{256} * 1024);

    for (;;) {
      const auto now = Clock::now();
      if (!measuring && now >= measure_from) {
        measuring = true;
        measured_start = now;
        cpu_start = cpu_seconds();
        server_start = process_cpu(options_.server_pid);
        histogram_ = avant::bench::Histogram{};
        messages_ = 0;
      }
      measuring_ = measuring;
      if (options_.count > 0 ? messages_ >= options_.count : (measuring && now >= measure_until)) {
        break;
      }
      if (alive_ == 0) {
        std::fprintf(stderr, "avant-load: every connection failed\n");
        return 1;
      }
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 50);
      for (int e = 0; e < n; ++e) {
        const std::size_t index = events[static_cast<std::size_t>(e)].data.u64;
        Connection& c = connections_[index];
        if (!c.alive) continue;
        if ((events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
          on_readable(index, chunk);
        }
        if (c.alive && c.want_write) flush(index);
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - measured_start).count();
    const double cpu = cpu_seconds() - cpu_start;
    const CpuTimes server_end = process_cpu(options_.server_pid);
    report(seconds, cpu,
           CpuTimes{server_end.user - server_start.user, server_end.system - server_start.system});
    return 0;
  }

 private:
  // A message repeated to about 256 KiB: one write or compare covers many messages.
  struct Stream {
    Stream() = default;
    explicit Stream(const std::string& message) : size(message.size()) {
      const std::size_t copies = std::max<std::size_t>(1, (std::size_t{256} * 1024) / size);
      for (std::size_t i = 0; i < copies + 1; ++i)
        bytes += message;
    }
    std::size_t size = 0;  // of one message
    std::string bytes;
  };

  // A binary WebSocket frame of `payload` (RFC 6455 §5.2): masked with a fixed key as a client
  // sends it, or unmasked as a server sends it.
  static std::string ws_frame(const std::string& payload, bool masked) {
    static constexpr std::array<unsigned char, 4> kKey{0x12, 0x34, 0x56, 0x78};
    const std::uint64_t n = payload.size();
    const unsigned mask_bit = masked ? 0x80U : 0U;
    std::string frame(1, static_cast<char>(0x82));  // FIN, binary
    if (n < 126) {
      frame += static_cast<char>(mask_bit | n);
    } else if (n <= 0xFFFF) {
      frame += static_cast<char>(mask_bit | 126U);
      for (int shift = 8; shift >= 0; shift -= 8)
        frame += static_cast<char>((n >> shift) & 0xFFU);
    } else {
      frame += static_cast<char>(mask_bit | 127U);
      for (int shift = 56; shift >= 0; shift -= 8)
        frame += static_cast<char>((n >> shift) & 0xFFU);
    }
    if (!masked) return frame + payload;
    frame.append(reinterpret_cast<const char*>(kKey.data()), kKey.size());
    for (std::size_t i = 0; i < payload.size(); ++i)
      frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ kKey[i % 4]);
    return frame;
  }

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  void open(std::size_t index, const avant::net::SocketAddress& address) {
    Connection& c = connections_[index];
    c.socket = avant::net::Socket::create(address.family(), avant::net::SocketType::tcp);
    c.socket.set_no_delay(true);
    const auto r = c.socket.connect(address);
    if (r.status == IoStatus::error) {
      throw std::runtime_error("connect: " + avant::net::error_text(r.error));
    }
    if (options_.ws) upgrade(c);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = index;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.socket.fd(), &event) != 0) {
      throw std::runtime_error("epoll_ctl ADD failed");
    }
    c.want_write = true;
    ++alive_;
    for (std::size_t k = 0; k < options_.pipeline; ++k)
      enqueue(c);
  }

  // Waits (poll, bounded) until `fd` is ready for `events`; throws after 10 s.
  static void wait_for(int fd, short events) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, 10'000);
    if (n != 1) throw std::runtime_error("the WebSocket handshake timed out");
  }

  // The opening handshake, before the measured traffic: the request, then the answer's head,
  // which must be a 101 and be all the server sent (it has no reason to send a frame yet).
  static void upgrade(Connection& c) {
    std::string_view request =
        "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    while (!request.empty()) {
      wait_for(c.socket.fd(), POLLOUT);
      const auto w = c.socket.write(request);
      if (w.status == IoStatus::would_block) continue;
      if (!w.ok()) throw std::runtime_error("the WebSocket handshake: write failed");
      request.remove_prefix(w.bytes);
    }
    std::string head;
    std::array<char, 1024> chunk{};
    while (head.find("\r\n\r\n") == std::string::npos) {
      wait_for(c.socket.fd(), POLLIN);
      const auto r = c.socket.read(chunk);
      if (r.status == IoStatus::would_block) continue;
      if (!r.ok()) throw std::runtime_error("the WebSocket handshake: the server closed");
      head.append(chunk.data(), r.bytes);
    }
    if (head.rfind("HTTP/1.1 101 ", 0) != 0) {
      throw std::runtime_error("the WebSocket handshake was refused: " +
                               head.substr(0, head.find("\r\n")));
    }
    if (head.size() != head.find("\r\n\r\n") + 4) {
      throw std::runtime_error("the server sent bytes after its 101 before any message");
    }
  }

  void enqueue(Connection& c) {
    c.queued += out_.size;
    c.in_flight.push_back(Clock::now());
  }

  void fail(std::size_t index, const char* why) {
    Connection& c = connections_[index];
    if (!c.alive) return;
    c.alive = false;
    --alive_;
    ++errors_;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.socket.fd(), nullptr);
    c.socket = avant::net::Socket{avant::net::FileDescriptor{}};
    std::fprintf(stderr, "avant-load: connection %zu: %s\n", index, why);
  }

  void flush(std::size_t index) {
    Connection& c = connections_[index];
    while (c.sent < c.queued) {
      const std::size_t offset = c.sent % out_.size;
      const std::size_t length =
          std::min<std::uint64_t>(c.queued - c.sent, out_.bytes.size() - offset);
      const auto r = c.socket.write(std::string_view(out_.bytes).substr(offset, length));
      if (r.status == IoStatus::would_block) break;
      if (!r.ok()) return fail(index, "write failed");
      c.sent += r.bytes;
    }
    set_write_interest(index, c.sent < c.queued);
  }

  void set_write_interest(std::size_t index, bool on) {
    Connection& c = connections_[index];
    if (c.want_write == on) return;
    c.want_write = on;
    epoll_event event{};
    event.events = EPOLLIN | (on ? EPOLLOUT : 0U);
    event.data.u64 = index;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.socket.fd(), &event);
  }

  void on_readable(std::size_t index, std::vector<char>& chunk) {
    Connection& c = connections_[index];
    const auto r = c.socket.read(chunk);
    if (r.status == IoStatus::would_block) return;
    if (!r.ok())
      return fail(index, r.status == IoStatus::closed ? "closed by the server" : "read failed");
    if (options_.http) return on_answers(index, std::string_view(chunk.data(), r.bytes));
    // Every echoed byte must be the byte that was sent at that stream offset.
    std::size_t checked = 0;
    while (checked < r.bytes) {
      const std::size_t offset = (c.received + checked) % in_.size;
      const std::size_t length = std::min(r.bytes - checked, in_.bytes.size() - offset);
      if (std::memcmp(chunk.data() + checked, in_.bytes.data() + offset, length) != 0) {
        return fail(index, "echo differs from what was sent");
      }
      checked += length;
    }
    const std::uint64_t before = c.received / in_.size;
    c.received += r.bytes;
    complete(index, before, c.received / in_.size);
  }

  // http: answers are counted by length, once the first one has told the length.
  void on_answers(std::size_t index, std::string_view bytes) {
    Connection& c = connections_[index];
    if (c.answer_size == 0) {
      c.first_answer.append(bytes);
      const std::size_t head_end = c.first_answer.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      const std::string_view head = std::string_view(c.first_answer).substr(0, head_end);
      if (head.substr(0, 13) != "HTTP/1.1 200 ") return fail(index, "the answer is not a 200");
      const std::size_t cl = head.find("\r\nContent-Length: ");
      if (cl == std::string_view::npos) return fail(index, "the answer has no Content-Length");
      c.answer_size = head_end + 4 + std::strtoull(head.data() + cl + 18, nullptr, 10);
      bytes = {};
      const std::uint64_t have = c.first_answer.size();
      c.first_answer.clear();
      c.received = have;
      complete(index, 0, c.received / c.answer_size);
      return;
    }
    const std::uint64_t before = c.received / c.answer_size;
    c.received += bytes.size();
    complete(index, before, c.received / c.answer_size);
  }

  // Messages [before, after) of connection `index` came back whole.
  void complete(std::size_t index, std::uint64_t before, std::uint64_t after) {
    Connection& c = connections_[index];
    const auto now = Clock::now();
    for (std::uint64_t m = before; m < after && !c.in_flight.empty(); ++m) {
      if (measuring_) {
        histogram_.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.in_flight.front())
                .count()));
        ++messages_;
      }
      c.in_flight.pop_front();
      enqueue(c);
    }
    if (c.sent < c.queued) flush(index);
  }

  [[nodiscard]] const char* mode_name() const {
    if (options_.http) return "http";
    if (options_.ws) return "ws";
    if (options_.proto) return "proto";
    return options_.framed ? "framed" : "raw";
  }

  void report(double seconds, double cpu, const CpuTimes& server) const {
    const auto us = [this](double q) { return static_cast<double>(histogram_.quantile(q)) / 1e3; };
    std::printf(
        "{\"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.1f, \"connections\": %zu, "
        "\"size\": %zu, \"mode\": \"%s\", \"pipeline\": %zu, \"latency_us\": {\"p50\": %.1f, "
        "\"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}, \"client_cpu_s\": %.3f, "
        "\"server_user_s\": %.3f, \"server_system_s\": %.3f, \"errors\": %llu}\n",
        static_cast<unsigned long long>(messages_), seconds,
        seconds > 0 ? static_cast<double>(messages_) / seconds : 0.0, options_.connections,
        options_.size, mode_name(), options_.pipeline, us(0.50), us(0.99), us(0.999),
        static_cast<double>(histogram_.max()) / 1e3, cpu, server.user, server.system,
        static_cast<unsigned long long>(errors_));
  }

  Options options_;
  avant::net::FileDescriptor epoll_;
  Stream out_;  // what the client sends
  Stream in_;   // what it expects back (http: unused, answers are counted by length)
  std::vector<Connection> connections_;
  std::size_t alive_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t messages_ = 0;
  bool measuring_ = false;
  avant::bench::Histogram histogram_;
};

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s --connect IP:PORT [--mode raw|framed|proto|http|ws] [--connections N]\n"
               "          [--size BYTES]\n"
               "          [--pipeline K] [--warmup SEC] [--duration SEC | --count MESSAGES]\n"
               "          [--server-pid PID] [--path /PATH]\n",
               self);
  std::_Exit(2);  // nothing to flush or clean up yet: the options were not even read
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--connect") {
      options.connect = value;
    } else if (arg == "--mode") {
      options.framed = std::string_view(value) == "framed";
      options.http = std::string_view(value) == "http";
      options.ws = std::string_view(value) == "ws";
      options.proto = std::string_view(value) == "proto";
      if (!options.framed && !options.http && !options.ws && !options.proto &&
          std::string_view(value) != "raw") {
        usage(argv[0]);
      }
    } else if (arg == "--connections") {
      options.connections = std::strtoull(value, nullptr, 10);
    } else if (arg == "--size") {
      options.size = std::strtoull(value, nullptr, 10);
    } else if (arg == "--pipeline") {
      options.pipeline = std::strtoull(value, nullptr, 10);
    } else if (arg == "--warmup") {
      options.warmup = std::strtod(value, nullptr);
    } else if (arg == "--duration") {
      options.duration = std::strtod(value, nullptr);
    } else if (arg == "--server-pid") {
      options.server_pid = std::strtol(value, nullptr, 10);
    } else if (arg == "--path") {
      options.path = value;
    } else if (arg == "--count") {
      options.count = std::strtoull(value, nullptr, 10);
    } else {
      usage(argv[0]);
    }
  }
  if (options.connect.empty() || options.connections == 0 || options.pipeline == 0 ||
      (options.size == 0 && !options.http) || (options.framed && options.size < 8) ||
      (options.proto && options.size < 12)) {
    usage(argv[0]);
  }
  if (options.count > 0) options.warmup = 0;
  try {
    avant::net::ignore_sigpipe();
    return Load(options).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-load: %s\n", e.what());
    return 1;
  }
}
