// avant-cli — talk to an Avant server from the command line: the echo example, any command from
// JSON, watching what arrives, and a small load test.
//
//   avant-cli echo  [--text TEXT] [--count N]           CS_REQ_EXAMPLE -> CS_RES_EXAMPLE, checked
//   avant-cli send  --cmd N|NAME --json '{...}'          one package; prints the answer, if one comes
//   avant-cli watch [--cmd N|NAME --json '{...}'] [--count N] [--seconds S]
//                                                        prints every package that arrives
//   avant-cli bench [--connections C] [--inflight K] [--seconds S] [--size B]
//                                                        echo load: messages/s and a latency histogram
//
//   where:  --host H (127.0.0.1) --port P (20024: make run's [listener.proto])
//           --tls [--ca FILE] [--insecure] [--server-name NAME]     TLS (make run: port 20444)
//           --ws [--path /]                                         WebSocket (make run: port 20026)
//           --udp                                                   UDP datagrams (make run: 20025)
//           --output text|json   --timeout MS (5000): for a connection and for each answer
//
// JSON is protobuf's own mapping of the command's message (bytes fields in base64); output is one
// line per package, in protobuf's text format (bytes shown as text) or JSON. Exit status: 0 done,
// 1 the server refused, closed or answered wrongly, 2 a usage mistake.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <avant/client/client.hpp>
#include <avant/client/commands.hpp>
#include <avant/net/io.hpp>
#include <avant/thread/event_loop_thread.hpp>

#include "histogram.hpp"  // bench/load: the load client's latency histogram

namespace {

using avant::ProtoCSReqExample;
using avant::ProtoCSResExample;
using avant::ProtoPackage;
using avant::client::BlockingClient;
using avant::client::ClientError;
using avant::client::Endpoint;
using avant::client::Format;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  std::string command;
  Endpoint endpoint;
  Format format = Format::text;
  milliseconds timeout{5000};
  std::string text = "hello, avant";
  std::size_t count = 1;  // echo: messages; watch: packages to print (0: no bound)
  std::optional<int> cmd;
  std::string json;
  double seconds = 0;  // watch: 0 = until the connection ends; bench: 5 by default
  std::size_t connections = 10;
  std::size_t inflight = 1;
  std::size_t size = 64;
};

constexpr const char* kUsage =
    "usage: avant-cli echo|send|watch|bench [--host H] [--port P] [--tls [--ca FILE] [--insecure]\n"
    "                 [--server-name N]] [--ws [--path /]] [--udp] [--output text|json]\n"
    "                 [--timeout MS]\n"
    "  echo  [--text TEXT] [--count N]\n"
    "  send  --cmd N|NAME --json '{...}'\n"
    "  watch [--cmd N|NAME --json '{...}'] [--count N] [--seconds S]\n"
    "  bench [--connections C] [--inflight K] [--seconds S] [--size BYTES]\n";

// A mistake on the command line: main() prints it with the usage and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The help asked for: main() prints the usage and exits 0.
struct HelpAsked {};

[[noreturn]] void usage(const std::string& why) {
  throw UsageError(why);
}

std::uint64_t whole(std::string_view flag, const char* value, std::uint64_t min,
                    std::uint64_t max) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(value, &end, 10);
  if (end == value || *end != '\0' || n < min || n > max) {
    usage(std::string(flag) + " '" + value + "' is not a number in " + std::to_string(min) + ".." +
          std::to_string(max));
  }
  return n;
}

Options parse(int argc, char** argv) {
  if (argc < 2) usage("no command");
  Options o;
  o.command = argv[1];
  if (o.command == "-h" || o.command == "--help") throw HelpAsked{};
  if (o.command != "echo" && o.command != "send" && o.command != "watch" && o.command != "bench") {
    usage("unknown command '" + o.command + "'");
  }
  bool count_set = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--host") {
      o.endpoint.host = value();
    } else if (flag == "--port") {
      o.endpoint.port = static_cast<std::uint16_t>(whole(flag, value(), 1, 65535));
    } else if (flag == "--tls") {
      o.endpoint.tls = true;
    } else if (flag == "--ca") {
      o.endpoint.ca_file = value();
    } else if (flag == "--insecure") {
      o.endpoint.verify = false;
    } else if (flag == "--server-name") {
      o.endpoint.server_name = value();
    } else if (flag == "--ws") {
      o.endpoint.websocket = true;
    } else if (flag == "--udp") {
      o.endpoint.udp = true;
    } else if (flag == "--path") {
      o.endpoint.path = value();
    } else if (flag == "--output") {
      const std::string_view v = value();
      if (v != "text" && v != "json") usage("--output is text or json");
      o.format = v == "json" ? Format::json : Format::text;
    } else if (flag == "--timeout") {
      o.timeout = milliseconds(whole(flag, value(), 1, 3600000));
      o.endpoint.connect_timeout = o.timeout;
    } else if (flag == "--text") {
      o.text = value();
    } else if (flag == "--count") {
      o.count = whole(flag, value(), 0, 100000000);
      count_set = true;
    } else if (flag == "--cmd") {
      const char* v = value();
      o.cmd = avant::client::parse_cmd(v);
      if (!o.cmd) usage(std::string("--cmd '") + v + "' is not a command number or name");
    } else if (flag == "--json") {
      o.json = value();
    } else if (flag == "--seconds") {
      o.seconds = static_cast<double>(whole(flag, value(), 1, 86400));
    } else if (flag == "--connections") {
      o.connections = whole(flag, value(), 1, 100000);
    } else if (flag == "--inflight") {
      o.inflight = whole(flag, value(), 1, 10000);
    } else if (flag == "--size") {
      o.size = whole(flag, value(), 0, 1u << 20);
    } else {
      usage("unknown option '" + std::string(flag) + "'");
    }
  }
  if (o.command == "send" && (!o.cmd || o.json.empty())) usage("send needs --cmd and --json");
  if (o.command == "watch" && !count_set) o.count = 0;
  if (o.cmd.has_value() != !o.json.empty()) usage("--cmd and --json go together");
  if (o.command == "bench" && o.seconds == 0) o.seconds = 5;
  return o;
}

void print(const ProtoPackage& p, Format format) {
  std::printf("%s\n", avant::client::describe(p, format).c_str());
  std::fflush(stdout);
}

ProtoPackage echo_request(const std::string& text) {
  ProtoCSReqExample request;
  request.set_testcontext(text);
  ProtoPackage p;
  p.set_cmd(avant::PROTO_CMD_CS_REQ_EXAMPLE);
  request.SerializeToString(p.mutable_protocol());
  return p;
}

bool is_echo_of(const ProtoPackage& answer, const std::string& text) {
  ProtoCSResExample res;
  return answer.cmd() == avant::PROTO_CMD_CS_RES_EXAMPLE &&
         res.ParseFromString(answer.protocol()) && res.testcontext() == text;
}

int echo(const Options& o) {
  BlockingClient client(o.endpoint);
  for (std::size_t i = 0; i < o.count; ++i) {
    const auto start = Clock::now();
    const ProtoPackage answer = client.call(echo_request(o.text), o.timeout);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    print(answer, o.format);
    if (!is_echo_of(answer, o.text)) {
      std::fprintf(stderr, "avant-cli: the answer is not the echo of '%s'\n", o.text.c_str());
      return 1;
    }
    if (o.format == Format::text) {
      std::fprintf(stderr, "echo %zu/%zu: %lld us\n", i + 1, o.count,
                   static_cast<long long>(us.count()));
    }
  }
  return 0;
}

int send(const Options& o) {
  const ProtoPackage package = avant::client::from_json(*o.cmd, o.json);
  BlockingClient client(o.endpoint);
  client.send(package);
  if (const auto answer = client.receive(o.timeout)) {
    print(*answer, o.format);
  } else {
    std::fprintf(stderr, "avant-cli: sent; no answer within %lld ms\n",
                 static_cast<long long>(o.timeout.count()));
  }
  return 0;
}

int watch(const Options& o) {
  BlockingClient client(o.endpoint);
  if (o.cmd) client.send(avant::client::from_json(*o.cmd, o.json));
  const auto until = o.seconds > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(o.seconds))
                                   : Clock::time_point::max();
  std::size_t seen = 0;
  while ((o.count == 0 || seen < o.count) && Clock::now() < until) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    try {
      if (const auto p = client.receive(std::min(left, milliseconds(1000)))) {
        print(*p, o.format);
        ++seen;
      }
    } catch (const ClientError& e) {
      std::fprintf(stderr, "avant-cli: %s after %zu packages\n", e.what(), seen);
      return 0;  // the server ended it: watching is over
    }
  }
  return 0;
}

// --- bench: connections on one loop, each keeping --inflight echoes in flight ---

struct Bench {
  explicit Bench(const Options& o) : options(o) {}
  const Options& options;
  ProtoPackage request;
  std::string text;
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::size_t> up{0};
  std::atomic<std::size_t> down{0};
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  avant::bench::Histogram latency;  // the loop's thread, read after it stopped
  std::vector<std::unique_ptr<avant::client::Client>> clients;
  std::vector<std::deque<Clock::time_point>> sent;  // per connection, oldest first
  std::string first_error;                          // the loop's thread
};

void print_histogram(const avant::bench::Histogram& h) {
  // Power-of-two microsecond rows, with bars scaled to the fullest row.
  std::vector<std::uint64_t> rows(40, 0);
  for (std::size_t i = 0; i < avant::bench::Histogram::kBuckets; ++i) {
    const std::uint64_t n = h.in_bucket(i);
    if (n == 0) continue;
    const std::uint64_t us = avant::bench::Histogram::lowest(i) / 1000;
    std::size_t row = 0;
    while ((std::uint64_t{1} << (row + 1)) <= us && row + 1 < rows.size())
      ++row;
    rows[row] += n;
  }
  const std::uint64_t top = *std::max_element(rows.begin(), rows.end());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r] == 0) continue;
    const auto width = static_cast<int>(top == 0 ? 0 : rows[r] * 50 / top);
    const std::uint64_t from_us = std::uint64_t{1} << r;
    std::printf("  %8" PRIu64 " us  %10" PRIu64 "  %.*s\n", from_us, rows[r], std::max(width, 1),
                "##################################################");
  }
}

int bench(const Options& o) {
  Bench b(o);
  b.text = std::string(o.size, 'x');
  b.request = echo_request(b.text);
  avant::thread::EventLoopThread thread("bench");
  avant::reactor::EventLoop& loop = thread.start();
  b.sent.resize(o.connections);
  std::atomic<bool> made{false};
  std::string make_error;
  loop.run_in_loop([&] {
    try {
      for (std::size_t i = 0; i < o.connections; ++i) {
        b.clients.push_back(std::make_unique<avant::client::Client>(
            loop, o.endpoint,
            avant::client::Client::Handlers{
                .up =
                    [&b, i](avant::client::Client& c) {
                      b.up.fetch_add(1);
                      for (std::size_t k = 0; k < b.options.inflight; ++k) {
                        b.sent[i].push_back(Clock::now());
                        (void)c.send(b.request);
                      }
                    },
                .package =
                    [&b, i](avant::client::Client& c, const ProtoPackage& answer) {
                      const auto now = Clock::now();
                      if (b.sent[i].empty() || !is_echo_of(answer, b.text)) {
                        b.errors.fetch_add(1);
                        return;
                      }
                      if (b.measuring.load(std::memory_order_relaxed)) {
                        b.latency.record(static_cast<std::uint64_t>(
                            std::chrono::duration_cast<std::chrono::nanoseconds>(now -
                                                                                 b.sent[i].front())
                                .count()));
                        b.messages.fetch_add(1, std::memory_order_relaxed);
                      }
                      b.sent[i].pop_front();
                      if (!b.stopping.load(std::memory_order_relaxed)) {
                        b.sent[i].push_back(now);
                        (void)c.send(b.request);
                      }
                    },
                .down =
                    [&b](avant::client::Client&, const std::string& reason) {
                      if (b.first_error.empty() && !b.stopping.load()) b.first_error = reason;
                      b.down.fetch_add(1);
                    }}));
        b.clients.back()->connect();
      }
    } catch (const std::exception& e) {
      make_error = e.what();
    }
    made.store(true);
  });
  const auto deadline = Clock::now() + o.timeout;
  while (!made.load() || (b.up.load() + b.down.load() < o.connections && Clock::now() < deadline))
    std::this_thread::sleep_for(milliseconds(10));  // a progress poll, not a test's wait
  // Ends the clients on their loop (their rule) and the loop thread; after it, what the loop
  // wrote (the histogram, the first error) is this thread's to read. Once.
  bool stopped = false;
  const auto stop_clients = [&] {
    if (stopped) return;
    stopped = true;
    std::promise<void> gone;
    loop.run_in_loop([&] {
      b.stopping.store(true);
      b.clients.clear();
      gone.set_value();
    });
    gone.get_future().wait();
    thread.stop();
  };
  int status = 0;
  if (!make_error.empty() || b.down.load() > 0 || b.up.load() < o.connections) {
    std::fprintf(stderr, "avant-cli: %zu of %zu connections up%s%s\n", b.up.load(), o.connections,
                 make_error.empty() ? "" : ": ", make_error.c_str());
    status = 1;
  } else {
    // One second unmeasured (warm-up), then --seconds measured, a progress line each second.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    b.measuring.store(true);
    const auto start = Clock::now();
    std::uint64_t last = 0;
    for (int s = 1; s <= static_cast<int>(o.seconds) && b.down.load() == 0; ++s) {
      std::this_thread::sleep_until(start + std::chrono::seconds(s));
      const std::uint64_t now = b.messages.load();
      std::fprintf(stderr, "\r%3d/%d s  %10.0f msgs/s  errors %llu   ", s,
                   static_cast<int>(o.seconds), static_cast<double>(now - last),
                   static_cast<unsigned long long>(b.errors.load()));
      last = now;
    }
    b.measuring.store(false);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::fprintf(stderr, "\n");
    // The histogram is the loop's until the loop is done with the clients: read it after (and
    // count the connections lost before: ending them counts them all as down).
    const std::size_t lost = b.down.load();
    stop_clients();
    const std::uint64_t n = b.messages.load();
    const auto us = [&](double q) { return static_cast<double>(b.latency.quantile(q)) / 1e3; };
    if (o.format == Format::json) {
      std::printf(
          "{\"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.1f, \"connections\": %zu, "
          "\"inflight\": %zu, \"size\": %zu, \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, "
          "\"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}, \"errors\": %llu}\n",
          static_cast<unsigned long long>(n), elapsed, static_cast<double>(n) / elapsed,
          o.connections, o.inflight, o.size, us(0.5), us(0.9), us(0.99), us(0.999),
          static_cast<double>(b.latency.max()) / 1e3,
          static_cast<unsigned long long>(b.errors.load()));
    } else {
      std::printf("%llu echoes in %.2f s: %.0f msgs/s (%zu connections x %zu in flight, %zu B)\n",
                  static_cast<unsigned long long>(n), elapsed, static_cast<double>(n) / elapsed,
                  o.connections, o.inflight, o.size);
      std::printf("latency: p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
                  us(0.5), us(0.9), us(0.99), us(0.999),
                  static_cast<double>(b.latency.max()) / 1e3);
      print_histogram(b.latency);
    }
    if (b.errors.load() > 0 || lost > 0 || n == 0) status = 1;
  }
  stop_clients();
  if (!b.first_error.empty()) std::fprintf(stderr, "avant-cli: %s\n", b.first_error.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "avant-cli: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const HelpAsked&) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  avant::net::ignore_sigpipe();
  try {
    if (o.command == "echo") return echo(o);
    if (o.command == "send") return send(o);
    if (o.command == "watch") return watch(o);
    return bench(o);
  } catch (const ClientError& e) {
    std::fprintf(stderr, "avant-cli: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avant-cli: %s\n", e.what());
    return 1;
  }
}
