// Integration tests of ThreadedTcpServer: the base loop accepts, worker loops own connections.
// Real sockets on 127.0.0.1, every wait on a condition with a deadline.
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <pthread.h>

#include <avant/testing/harness.hpp>
#include <avant/testing/steps.hpp>
#include <avant/testing/threads.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::thread {
namespace {

using namespace std::chrono_literals;
using harness::Client;
using harness::kDeadline;
using harness::LoopThread;
using tcp::TcpConnectionPtr;

using avant::testing::this_thread_name;

// The names of this process's threads, from /proc (what `ps -L` shows).
std::multiset<std::string> thread_names() {
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

std::size_t workers_alive() {
  const auto names = thread_names();
  return static_cast<std::size_t>(std::count_if(
      names.begin(), names.end(), [](const std::string& n) { return n.rfind("worker-", 0) == 0; }));
}

// What the loops saw, for the test thread to wait on.
struct Events {
  std::mutex mutex;
  std::condition_variable changed;
  int up = 0;
  int down = 0;
  std::map<std::uint64_t, std::string> up_thread;       // connection id -> thread of "up"
  std::map<std::uint64_t, std::set<std::string>> seen;  // connection id -> threads of callbacks

  template <class Predicate>
  bool wait(Predicate done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kDeadline, [&] { return done(*this); });
  }
  template <class F>
  void update(F f) {
    {
      const std::lock_guard lock(mutex);
      f(*this);
    }
    changed.notify_all();
  }
};

void echo(const TcpConnectionPtr& c, net::Buffer& in) {
  static_cast<void>(c->send(in.view()));
  in.retrieve_all();
}

// A ThreadedTcpServer whose base loop runs on a LoopThread; callbacks record into `events`.
class Threaded {
 public:
  explicit Threaded(const ThreadedServerOptions& options, tcp::MessageCallback on_message = echo)
      : on_message_(std::move(on_message)) {
    server_ = base_.call([&] {
      auto s = std::make_unique<ThreadedTcpServer>(base_.loop(), options);
      s->on_connection([this](const TcpConnectionPtr& c) {
        events.update([&](Events& e) {
          e.seen[c->id()].insert(this_thread_name());
          if (c->connected()) {
            ++e.up;
            e.up_thread[c->id()] = this_thread_name();
          } else {
            ++e.down;
          }
        });
      });
      s->on_message([this](const TcpConnectionPtr& c, net::Buffer& in) {
        events.update([&](Events& e) { e.seen[c->id()].insert(this_thread_name()); });
        on_message_(c, in);
      });
      s->start();
      return s;
    });
  }
  ~Threaded() { destroy(); }
  Threaded(const Threaded&) = delete;
  Threaded& operator=(const Threaded&) = delete;
  Threaded(Threaded&&) = delete;
  Threaded& operator=(Threaded&&) = delete;

  void destroy() {
    if (!server_) return;
    try {
      base_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }

  // Calls stop() from this (non-loop) thread; the future is ready once `stopped` ran, with the
  // id of the thread it ran on.
  std::future<avant::testing::ThreadTag> stop() {
    auto stopped = std::make_shared<std::promise<avant::testing::ThreadTag>>();
    auto result = stopped->get_future();
    server_->stop([stopped] { stopped->set_value(avant::testing::this_thread()); });
    return result;
  }

  ThreadedTcpServer& get() { return *server_; }
  LoopThread& base() { return base_; }
  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  avant::testing::ThreadTag base_thread() {
    return base_.call([] { return avant::testing::this_thread(); });
  }

  Events events;

 private:
  tcp::MessageCallback on_message_;
  LoopThread base_;
  std::unique_ptr<ThreadedTcpServer> server_;
};

// Connects and waits until the server has seen the connection come up (so placement is known).
std::unique_ptr<Client> connect_one(Threaded& server) {
  int up_before = 0;
  {
    const std::lock_guard lock(server.events.mutex);
    up_before = server.events.up;
  }
  auto client = std::make_unique<Client>(server.address());
  EXPECT_TRUE(server.events.wait([&](const Events& e) { return e.up > up_before; }))
      << "the server never reported the connection up";
  return client;
}

std::vector<std::unique_ptr<Client>> connect_n(Threaded& server, std::size_t n) {
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    clients.push_back(connect_one(server));
  return clients;
}

TEST(ThreadedTcpServer, RoundRobinSpreadsConnectionsOverNamedWorkersThatOwnThem) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 2});
  steps.add("2 workers started: threads worker-0 and worker-1 exist");
  const auto names = thread_names();
  steps.expect_eq("worker-0 threads", std::size_t{1}, names.count("worker-0"));
  steps.expect_eq("worker-1 threads", std::size_t{1}, names.count("worker-1"));

  steps.add("8 clients connect one after the other and each echoes a message");
  auto clients = connect_n(server, 8);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string ping = "ping " + std::to_string(i);
    ASSERT_EQ(clients[i]->exchange(ping), ping);
  }
  steps.expect_eq("connections on worker 0", std::size_t{4}, server.get().connections_on(0));
  steps.expect_eq("connections on worker 1", std::size_t{4}, server.get().connections_on(1));

  const std::lock_guard lock(server.events.mutex);
  std::map<std::string, int> per_thread;
  for (const auto& [id, name] : server.events.up_thread)
    ++per_thread[name];
  steps.expect_eq("connections that came up on worker-0", 4, per_thread["worker-0"]);
  steps.expect_eq("connections that came up on worker-1", 4, per_thread["worker-1"]);
  steps.add("every callback of a connection ran on the one thread that owns it");
  for (const auto& [id, threads] : server.events.seen) {
    EXPECT_EQ(threads.size(), 1U) << "connection " << id << " migrated between threads";
    EXPECT_EQ(*threads.begin(), server.events.up_thread[id]);
  }
}

TEST(ThreadedTcpServer, LeastConnectionsPlacesNewClientsOnTheEmptiestWorker) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 2, .placement = Placement::least_connections});
  steps.add("clients a, b, c, d connect: least-connections alternates 0, 1, 0, 1");
  auto clients = connect_n(server, 4);
  steps.expect_eq("on worker 0", std::size_t{2}, server.get().connections_on(0));
  steps.expect_eq("on worker 1", std::size_t{2}, server.get().connections_on(1));

  steps.add("a and c (both on worker 0) leave");
  clients[0].reset();
  clients[2].reset();
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.down == 2; }));
  // The pool's count drops just after the "down" callback, on the worker: wait for it.
  steps.expect_eq("worker 0 is empty", true,
                  harness::eventually([&] { return server.get().connections_on(0) == 0; }));

  steps.add("e and f connect: both go to worker 0 (round-robin would split them)");
  clients.push_back(connect_one(server));
  clients.push_back(connect_one(server));
  steps.expect_eq("on worker 0", std::size_t{2}, server.get().connections_on(0));
  steps.expect_eq("on worker 1", std::size_t{2}, server.get().connections_on(1));
}

TEST(ThreadedTcpServer, SendsFromOtherThreadsArriveInOrderPerConnection) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 2});
  auto clients = connect_n(server, 4);
  const std::vector<TcpConnectionPtr> connections = server.get().connections();
  ASSERT_EQ(connections.size(), 4U);

  constexpr int kMessages = 2000;
  steps.add("two threads each send 2000 numbered lines to every connection, interleaved");
  std::vector<std::thread> senders;
  senders.reserve(2);
  for (int sender = 0; sender < 2; ++sender) {
    senders.emplace_back([&connections, sender] {
      for (int seq = 0; seq < kMessages; ++seq) {
        const std::string line = "s" + std::to_string(sender) + ":" + std::to_string(seq) + "\n";
        for (const auto& c : connections)
          EXPECT_NE(c->send(line), tcp::SendStatus::dropped);
      }
    });
  }
  for (auto& t : senders)
    t.join();

  steps.add("every client reads its lines: per sender, 0..1999 with no gap and no reordering");
  std::size_t total = 0;
  for (int sender = 0; sender < 2; ++sender) {
    for (int seq = 0; seq < kMessages; ++seq)
      total += 4 + std::to_string(seq).size();  // "sN:" + digits + "\n"
  }
  for (auto& client : clients) {
    const std::string got = client->receive(total);
    ASSERT_EQ(got.size(), total) << "the stream ended or stalled early";
    std::array<int, 2> next{0, 0};
    std::size_t at = 0;
    while (at < got.size()) {
      const std::size_t end = got.find('\n', at);
      ASSERT_NE(end, std::string::npos);
      const std::string line = got.substr(at, end - at);
      at = end + 1;
      ASSERT_TRUE(line.size() > 3 && line[0] == 's' && line[2] == ':') << line;
      ASSERT_TRUE(line[1] == '0' || line[1] == '1') << line;
      const std::size_t sender = line[1] == '0' ? 0 : 1;
      ASSERT_EQ(std::stoi(line.substr(3)), next[sender]) << "out of order from sender " << sender;
      ++next[sender];
    }
    EXPECT_EQ(next[0], kMessages);
    EXPECT_EQ(next[1], kMessages);
  }
}

TEST(ThreadedTcpServer, BroadcastThroughEveryLoopReachesEveryConnectionOnce) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 2});
  auto clients = connect_n(server, 20);

  steps.add("for_each_loop: each loop sends to the connections it owns; done on the base loop");
  std::mutex mutex;
  std::multiset<std::string> ran_on;
  std::promise<avant::testing::ThreadTag> done;
  server.get().for_each_loop(
      [&](reactor::EventLoop& loop) {
        for (const auto& c : server.get().connections()) {
          if (&c->loop() == &loop) {
            EXPECT_EQ(c->send("hello\n"), tcp::SendStatus::ok);
          }
        }
        const std::lock_guard lock(mutex);
        ran_on.insert(this_thread_name());
      },
      [&] { done.set_value(avant::testing::this_thread()); });
  auto finished = done.get_future();
  ASSERT_EQ(finished.wait_for(kDeadline), std::future_status::ready);
  steps.expect_eq("done ran on the base loop", server.base_thread(), finished.get());
  {
    const std::lock_guard lock(mutex);
    steps.expect_eq("the loops that ran the broadcast",
                    std::multiset<std::string>{"worker-0", "worker-1"}, ran_on);
  }
  steps.add("each client gets hello once: the next bytes are the echo of its own ping");
  for (auto& client : clients) {
    ASSERT_EQ(client->receive(6), "hello\n");
    ASSERT_EQ(client->exchange("ping"), "ping");
  }
}

// 200 clients that ping-pong 64-byte messages until the server ends their stream. Polite clients
// close when they see the end; stubborn ones keep their socket open and stop reading.
class Load {
 public:
  Load(const net::SocketAddress& server, std::size_t clients) {
    for (std::size_t i = 0; i < clients; ++i) {
      peers_.push_back(Peer{.client = std::make_unique<Client>(server), .polite = i % 2 == 0});
    }
    thread_ = std::thread([this] { run(); });
  }
  ~Load() {
    stop_.store(true);
    thread_.join();
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;
  Load(Load&&) = delete;
  Load& operator=(Load&&) = delete;

  // Waits until every client has had at least one echo back.
  bool wait_all_echoing() {
    return wait([&] { return echoing_ == peers_.size(); });
  }
  // Waits until every client saw its stream end (end of stream or a reset).
  bool wait_all_ended() {
    return wait([&] { return ended_ == peers_.size(); });
  }
  [[nodiscard]] std::vector<Client*> stubborn() {
    std::vector<Client*> out;
    for (auto& p : peers_) {
      if (!p.polite) out.push_back(p.client.get());
    }
    return out;
  }

 private:
  struct Peer {
    std::unique_ptr<Client> client;
    bool polite = true;
    std::size_t pending = 0;  // bytes sent and not yet echoed
    bool echoed = false;
    bool ended = false;
  };

  template <class Predicate>
  bool wait(Predicate ready) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kDeadline, ready);
  }

  void run() {
    const std::string message(64, 'x');
    std::array<char, 4096> buffer{};
    const auto until = std::chrono::steady_clock::now() + 2 * kDeadline;
    while (!stop_.load() && std::chrono::steady_clock::now() < until) {
      std::vector<pollfd> fds;
      std::vector<Peer*> owners;
      for (auto& p : peers_) {
        if (p.ended) continue;
        if (p.pending == 0) {
          const net::IoResult w = p.client->socket().write(message);
          if (w.ok()) p.pending += w.bytes;
        }
        fds.push_back(pollfd{.fd = p.client->fd(), .events = POLLIN, .revents = 0});
        owners.push_back(&p);
      }
      if (fds.empty()) break;
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Peer& p = *owners[i];
        const net::IoResult r = p.client->socket().read(buffer);
        const std::lock_guard lock(mutex_);
        if (r.ok()) {
          p.pending -= std::min(p.pending, r.bytes);
          if (!p.echoed) {
            p.echoed = true;
            ++echoing_;
          }
        } else if (r.status == net::IoStatus::closed || r.status == net::IoStatus::error) {
          p.ended = true;
          ++ended_;
          if (p.polite) p.client->socket() = net::Socket{net::FileDescriptor{}};
        }
        changed_.notify_all();
      }
    }
  }

  std::vector<Peer> peers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t echoing_ = 0;  // mutex_
  std::size_t ended_ = 0;    // mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ThreadedTcpServer, StopUnderLoadDrainsForcesTheRestAndJoinsEveryWorker) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 2, .drain_timeout = 300ms});
  steps.add("200 clients ping-pong 64-byte messages; half close politely at the end, half not");
  Load load(server.address(), 200);
  ASSERT_TRUE(load.wait_all_echoing()) << "not every client got an echo";
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.up == 200; }));

  steps.add("stop() from the test thread while they send");
  auto stopped = server.stop();
  ASSERT_EQ(stopped.wait_for(kDeadline), std::future_status::ready) << "stop never finished";
  steps.expect_eq("stopped ran on the base loop", server.base_thread(), stopped.get());
  steps.expect_eq("connections left", std::size_t{0}, server.get().connection_count());
  steps.expect_eq("worker threads left", std::size_t{0}, workers_alive());
  steps.expect_eq("every connection went down", true,
                  server.events.wait([](const Events& e) { return e.down == 200; }));
  steps.expect_eq("every client saw its stream end", true, load.wait_all_ended());

  steps.add("the stubborn clients were closed by the drain deadline: writing now fails");
  for (Client* client : load.stubborn()) {
    static_cast<void>(client->socket().write(std::string_view("x")));
    EXPECT_TRUE(client->receive_until_closed());
  }
  steps.add("a new client is refused: the listener is closed");
  EXPECT_THROW(Client{server.address()}, std::runtime_error);
}

TEST(ThreadedTcpServer, DestructionIsSafeInEveryState) {
  testing::Steps steps;
  steps.add("never started");
  {
    LoopThread base;
    base.call([&] { ThreadedTcpServer s(base.loop(), ThreadedServerOptions{.workers = 2}); });
  }
  steps.add("running with 10 clients, no stop: the clients see the close");
  {
    Threaded server(ThreadedServerOptions{.workers = 2});
    auto clients = connect_n(server, 10);
    server.destroy();
    steps.expect_eq("worker threads left", std::size_t{0}, workers_alive());
    steps.expect_eq("down callbacks", true,
                    server.events.wait([](const Events& e) { return e.down == 10; }));
    for (auto& c : clients)
      EXPECT_TRUE(c->receive_until_closed());
  }
  steps.add("in the middle of a stop whose drain has 60 s left");
  {
    Threaded server(ThreadedServerOptions{.workers = 2, .drain_timeout = 60s});
    auto clients = connect_n(server, 10);
    auto stopped = server.stop();
    for (auto& c : clients)
      EXPECT_EQ(c->receive(1), "") << "the stop's graceful shutdown reaches each client";
    server.destroy();
    steps.expect_eq("worker threads left", std::size_t{0}, workers_alive());
    steps.expect_eq("down callbacks", true,
                    server.events.wait([](const Events& e) { return e.down == 10; }));
  }
  steps.add("after a finished stop");
  {
    Threaded server(ThreadedServerOptions{.workers = 2});
    auto stopped = server.stop();
    ASSERT_EQ(stopped.wait_for(kDeadline), std::future_status::ready);
    server.destroy();
    steps.expect_eq("worker threads left", std::size_t{0}, workers_alive());
  }
}

TEST(ThreadedTcpServer, IdleTimeoutClosesIdleConnectionsOnEveryWorker) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.tcp = {.idle_timeout = 300ms}, .workers = 2});
  auto clients = connect_n(server, 4);
  steps.add("4 silent clients, 2 per worker: each worker's wheel closes its own");
  for (auto& c : clients)
    EXPECT_TRUE(c->receive_until_closed());
  ASSERT_TRUE(server.events.wait([](const Events& e) { return e.down == 4; }));
  steps.expect_eq("idle_closed", std::uint64_t{4}, server.get().stats().idle_closed);
}

TEST(ThreadedTcpServer, ZeroWorkersServesEverythingOnTheBaseLoop) {
  testing::Steps steps;
  Threaded server(ThreadedServerOptions{.workers = 0});
  steps.expect_eq("worker threads", std::size_t{0}, workers_alive());
  auto client = connect_one(server);
  ASSERT_EQ(client->exchange("hello"), "hello");
  const std::string base_name = server.base().call([] { return this_thread_name(); });
  {
    const std::lock_guard lock(server.events.mutex);
    for (const auto& [id, name] : server.events.up_thread)
      steps.expect_eq("thread of the connection", base_name, name);
  }
  steps.add("stop(): the client sees the end, then stopped runs");
  auto stopped = server.stop();
  EXPECT_EQ(client->receive(1), "");
  client.reset();
  ASSERT_EQ(stopped.wait_for(kDeadline), std::future_status::ready);
}

}  // namespace
}  // namespace avant::thread
