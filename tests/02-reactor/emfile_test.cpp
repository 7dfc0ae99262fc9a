// Out of descriptors: a server in a child process whose RLIMIT_NOFILE is lowered must refuse the
// connections it cannot hold, keep serving the ones it has, and not spin.
//
// "Not spinning" is measured by counting loop iterations, never by timing: while the parent does
// N echo round trips with a connection left waiting in the listen queue, a correct server iterates
// a few times per round trip; a server that spins on the unacceptable connection iterates
// continuously (tens of thousands of times in the same span).
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <avant/testing/harness.hpp>
#include <avant/testing/steps.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::tcp {
namespace {

using harness::Client;

// The descriptor limit that leaves exactly `free` descriptor numbers available. The kernel hands
// out the lowest free number below the limit, so gaps below it count and open descriptors above it
// (inherited from a shell, say) do not.
rlim_t limit_leaving(int free) {
  std::set<int> open;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the forked child has one thread
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') open.insert(std::atoi(entry->d_name));
    }
    ::closedir(dir);
  }
  int limit = 0;
  for (int available = 0; available < free; ++limit) {
    if (!open.contains(limit)) ++available;
  }
  // opendir's own descriptor was in the set but is closed again: one more free number below.
  return static_cast<rlim_t>(limit - 1);
}

void write_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  static_cast<void>(::write(fd, text.data(), text.size()));
}

// The child: an echo server with room for only a few connections, controlled through a pipe:
// 's' answers "iterations accepted refused_no_fds connections", 'q' stops it.
[[noreturn]] void run_child(int control_fd, int report_fd, int spare_fds) {
  rlimit hard{};
  ::getrlimit(RLIMIT_NOFILE, &hard);
  const rlimit lowered{.rlim_cur = limit_leaving(spare_fds), .rlim_max = hard.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) ::_exit(3);
  {
    reactor::EventLoop loop;
    TcpServer server(loop, TcpServerOptions{});
    server.on_message([](const TcpConnectionPtr& c, net::Buffer& in) {
      static_cast<void>(c->send(in.view()));
      in.retrieve_all();
    });
    server.start();
    reactor::Channel control(loop, control_fd);
    control.on_read([&] {
      char command = 0;
      if (::read(control_fd, &command, 1) != 1 || command == 'q') {
        loop.quit();
        return;
      }
      const auto stats = server.stats();
      write_line(report_fd, std::to_string(loop.iterations()) + " " +
                                std::to_string(stats.accepted) + " " +
                                std::to_string(stats.refused_no_fds) + " " +
                                std::to_string(server.connection_count()));
    });
    control.enable_reading();
    write_line(report_fd, "port " + std::to_string(server.listen_address().port()));
    loop.run();
    control.remove();
  }
  ::_exit(0);
}

class Child {
 public:
  explicit Child(int spare_fds) {
    std::array<int, 2> control{};
    std::array<int, 2> report{};
    if (::pipe2(control.data(), O_CLOEXEC) != 0 || ::pipe2(report.data(), O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2");
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(control[1]);
      ::close(report[0]);
      run_child(control[0], report[1], spare_fds);
    }
    ::close(control[0]);
    ::close(report[1]);
    control_.reset(control[1]);
    report_.reset(report[0]);
  }
  ~Child() {
    static_cast<void>(::write(control_.get(), "q", 1));
    std::string rest;
    // The child's exit closes the report pipe: wait for that (bounded), then reap it.
    while (net::wait_ready(report_.get(), POLLIN, harness::kDeadline) != 0) {
      char c = 0;
      if (::read(report_.get(), &c, 1) != 1) break;
    }
    ::kill(pid_, SIGKILL);  // no-op when it already exited
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&&) = delete;
  Child& operator=(Child&&) = delete;

  std::string read_line() {
    std::string line;
    while (net::wait_ready(report_.get(), POLLIN, harness::kDeadline) != 0) {
      char c = 0;
      if (::read(report_.get(), &c, 1) != 1 || c == '\n') break;
      line.push_back(c);
    }
    return line;
  }

  struct Stats {
    std::uint64_t iterations = 0, accepted = 0, refused = 0, connections = 0;
  };
  Stats stats() {
    static_cast<void>(::write(control_.get(), "s", 1));
    std::istringstream in(read_line());
    Stats s;
    in >> s.iterations >> s.accepted >> s.refused >> s.connections;
    return s;
  }

 private:
  pid_t pid_ = -1;
  net::FileDescriptor control_;
  net::FileDescriptor report_;
};

TEST(Acceptor, OutOfDescriptorsRefusesNewConnectionsWithoutSpinning) {
  avant::testing::Steps steps;
  // 8 descriptors above what is open: epoll, eventfd, timerfd, the listener and the spare take 5.
  Child child(8);
  const std::string banner = child.read_line();
  ASSERT_EQ(banner.rfind("port ", 0), 0U) << "child said: '" << banner << "'";
  const auto address =
      net::SocketAddress::ipv4_loopback(static_cast<std::uint16_t>(std::stoi(banner.substr(5))));

  steps.add("connect until the server runs out of descriptors and refuses one");
  std::vector<std::unique_ptr<Client>> served;
  bool refused = false;
  for (int i = 0; i < 20; ++i) {
    auto client = std::make_unique<Client>(address);
    if (client->exchange("hello") != "hello") {
      refused = client->receive_until_closed();  // closed at once, not left hanging
      break;
    }
    served.push_back(std::move(client));
  }
  steps.expect_eq("a connection was refused", true, refused);
  steps.expect_eq("connections served before that", std::size_t{3}, served.size());
  ASSERT_FALSE(served.empty());

  const Child::Stats before = child.stats();
  steps.expect_eq("refused_no_fds counted", true, before.refused >= 1);
  steps.add("leave one more connection in the listen queue; do 200 round trips meanwhile");
  Client waiting(address);
  constexpr int kRoundTrips = 200;
  for (int i = 0; i < kRoundTrips; ++i)
    ASSERT_EQ(served[0]->exchange("ping"), "ping");
  const Child::Stats after = child.stats();
  const std::uint64_t iterations = after.iterations - before.iterations;
  steps.expect_eq("loop iterations stay proportional to the work (not spinning)", true,
                  iterations < kRoundTrips * 4 + 100);
  std::printf("loop iterations during %d round trips: %llu\n", kRoundTrips,
              static_cast<unsigned long long>(iterations));
  steps.expect_eq("the waiting connection was refused, not left hanging", true,
                  waiting.receive_until_closed());
  for (auto& client : served)
    EXPECT_EQ(client->exchange("still"), "still");
  EXPECT_EQ(child.stats().connections, served.size());
}

}  // namespace
}  // namespace avant::tcp
