// One pool for many listeners: servers that borrow a pool, the per-loop hooks and storage, and
// connection ids that are unique across listeners and reachable from any thread.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <pthread.h>

#include <avant/reactor/signals.hpp>
#include <avant/tcp/connection_id.hpp>
#include <avant/testing/harness.hpp>
#include <avant/testing/threads.hpp>
#include <avant/testing/watchdog.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::thread {
namespace {

using namespace std::chrono_literals;
using avant::testing::this_thread_name;
using harness::Client;
using harness::LoopThread;
using tcp::TcpConnectionPtr;

// What a hook saw: which one, for which loop index, on which thread, and what it found there.
struct HookCall {
  std::string hook;
  std::size_t index = 0;
  std::size_t pool_index = 0;
  std::string thread;
  int open_connections = -1;  // the loop's own count (per-loop storage) when the hook ran
};

// Per-loop storage of the test: connections open on this loop, kept by the loop's own callbacks.
struct OpenOnThisLoop {
  int count = 0;
};

// Records hook calls; the test thread waits on them.
struct Hooks {
  std::mutex mutex;
  std::vector<HookCall> calls;

  LoopHook record(const std::string& hook) {
    return [this, hook](reactor::EventLoop& loop, std::size_t index) {
      const std::lock_guard lock(mutex);
      calls.push_back(
          {hook, index, loop.pool_index(), this_thread_name(), loop.local<OpenOnThisLoop>().count});
    };
  }
  std::vector<HookCall> of(const std::string& hook) {
    const std::lock_guard lock(mutex);
    std::vector<HookCall> found;
    for (const HookCall& c : calls) {
      if (c.hook == hook) found.push_back(c);
    }
    return found;
  }
};

// A pool and servers that borrow it, all created and destroyed on the base loop's thread.
class PoolAndServers {
 public:
  PoolAndServers(std::size_t threads, std::size_t servers, Hooks* hooks = nullptr) {
    base_.call([&] {
      LoopPoolOptions options{.threads = threads};
      if (hooks != nullptr) {
        options.on_loop_start = hooks->record("start");
        options.on_loop_stop = hooks->record("stop");
      }
      pool_ = std::make_unique<EventLoopThreadPool>(base_.loop(), options);
      pool_->start();
      for (std::size_t i = 0; i < servers; ++i) {
        auto server = std::make_unique<ThreadedTcpServer>(*pool_, ThreadedServerOptions{});
        server->on_connection([this](const TcpConnectionPtr& c) {
          auto& open = reactor::EventLoop::of_current_thread()->local<OpenOnThisLoop>();
          open.count += c->connected() ? 1 : -1;
          const std::lock_guard lock(mutex_);
          if (c->connected()) ids_.push_back(c->id());
        });
        server->on_message([](const TcpConnectionPtr& c, net::Buffer& in) {
          static_cast<void>(c->send(in.view()));
          in.retrieve_all();
        });
        server->start();
        servers_.push_back(std::move(server));
      }
    });
  }
  ~PoolAndServers() {
    const avant::testing::Within limit(20s, "destroying the servers, then the pool",
                                       "servers close their connections on the pool's running "
                                       "loops; the pool stops last");
    try {
      base_.call([this] {
        servers_.clear();
        pool_.reset();
      });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the servers and the pool: " << e.what();
    }
  }
  PoolAndServers(const PoolAndServers&) = delete;
  PoolAndServers& operator=(const PoolAndServers&) = delete;
  PoolAndServers(PoolAndServers&&) = delete;
  PoolAndServers& operator=(PoolAndServers&&) = delete;

  ThreadedTcpServer& server(std::size_t i) { return *servers_.at(i); }
  EventLoopThreadPool& pool() { return *pool_; }
  LoopThread& base() { return base_; }
  std::vector<std::uint64_t> ids() {
    const std::lock_guard lock(mutex_);
    return ids_;
  }
  // Stops server i and waits for its `stopped`.
  void stop_server(std::size_t i) {
    auto done = std::make_shared<std::promise<void>>();
    auto stopped = done->get_future();
    servers_.at(i)->stop([done] { done->set_value(); });
    ASSERT_EQ(stopped.wait_for(harness::kDeadline), std::future_status::ready)
        << "server " << i << " did not finish stopping within 10 s";
  }

 private:
  LoopThread base_;
  std::unique_ptr<EventLoopThreadPool> pool_;
  std::vector<std::unique_ptr<ThreadedTcpServer>> servers_;
  std::mutex mutex_;
  std::vector<std::uint64_t> ids_;
};

TEST(SharedPool, HooksRunOnceOnEachLoopsThreadStartBeforeServingStopAfterTheLastConnection) {
  Hooks hooks;
  {
    PoolAndServers setup(3, 1, &hooks);
    const auto starts = hooks.of("start");
    ASSERT_EQ(starts.size(), 3U) << "start() returns after every loop's start hook ran";
    std::set<std::size_t> indexes;
    for (const HookCall& c : starts) {
      indexes.insert(c.index);
      EXPECT_EQ(c.thread, "worker-" + std::to_string(c.index)) << "the hook runs on its loop";
      EXPECT_EQ(c.pool_index, c.index) << "the loop knows its index before the hook runs";
      EXPECT_EQ(c.open_connections, 0) << "nothing served before the start hook";
    }
    EXPECT_EQ(indexes, (std::set<std::size_t>{0, 1, 2}));

    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 6; ++i) {
      clients.push_back(std::make_unique<Client>(setup.server(0).listen_address()));
      ASSERT_EQ(clients.back()->exchange("hi"), "hi");
    }
    EXPECT_TRUE(hooks.of("stop").empty()) << "no stop hook while the pool runs";
    for (auto& client : clients) {
      static_cast<void>(client->socket().shutdown_write());  // the clients leave first
      EXPECT_TRUE(client->receive_until_closed());
    }
    setup.stop_server(0);
    EXPECT_TRUE(hooks.of("stop").empty()) << "stopping a borrowing server leaves the pool running";
  }  // the pool stops here, after its last server
  const auto stops = hooks.of("stop");
  ASSERT_EQ(stops.size(), 3U) << "one stop hook per loop";
  for (const HookCall& c : stops) {
    EXPECT_EQ(c.thread, "worker-" + std::to_string(c.index));
    EXPECT_EQ(c.open_connections, 0) << "the stop hook runs after the loop's last connection";
  }
}

TEST(SharedPool, WithoutThreadsTheHooksRunForTheBaseLoop) {
  Hooks hooks;
  {
    LoopThread base;
    base.call([&] {
      EventLoopThreadPool pool(base.loop(), LoopPoolOptions{.threads = 0,
                                                            .on_loop_start = hooks.record("start"),
                                                            .on_loop_stop = hooks.record("stop")});
      pool.start();
    });
    const auto starts = hooks.of("start");
    ASSERT_EQ(starts.size(), 1U);
    EXPECT_EQ(starts[0].index, 0U);
    EXPECT_TRUE(hooks.of("stop").empty()) << "the base loop still runs";
  }  // the base loop ends
  ASSERT_EQ(hooks.of("stop").size(), 1U) << "the stop hook runs when the base loop ends";
}

// Counts how many of these per-loop values were destroyed, and where.
struct Tracked {
  static std::atomic<int>& destroyed() {
    static std::atomic<int> count{0};
    return count;
  }
  int hits = 0;
  Tracked() = default;
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  Tracked(Tracked&&) = delete;
  Tracked& operator=(Tracked&&) = delete;
  ~Tracked() { destroyed().fetch_add(1); }
};

TEST(SharedPool, PerLoopStorageIsOnePerLoopAndDiesWithItsLoop) {
  Tracked::destroyed() = 0;
  LoopThread base;
  std::vector<int> hits;
  base.call([&] {
    EventLoopThreadPool pool(base.loop(), LoopPoolOptions{.threads = 2});
    pool.start();
    for (int round = 0; round < 3; ++round) {
      for (reactor::EventLoop* loop : pool.loops()) {
        std::promise<void> done;
        loop->run_in_loop([loop, &done] {
          ++loop->local<Tracked>().hits;
          done.set_value();
        });
        done.get_future().wait();
      }
    }
    for (reactor::EventLoop* loop : pool.loops()) {
      std::promise<int> seen;
      loop->run_in_loop([loop, &seen] { seen.set_value(loop->local<Tracked>().hits); });
      hits.push_back(seen.get_future().get());
    }
    EXPECT_EQ(Tracked::destroyed().load(), 0);
    pool.stop();
  });
  EXPECT_EQ(hits, (std::vector<int>{3, 3})) << "each loop has its own value, kept between uses";
  EXPECT_EQ(Tracked::destroyed().load(), 2) << "each loop's value is destroyed with the loop";
}

TEST(SharedPool, TwoListenersShareTheLoopsAndIdsAreUniqueAcrossThem) {
  PoolAndServers setup(2, 2);
  constexpr std::size_t kPerListener = 500;
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(2 * kPerListener);
  for (std::size_t i = 0; i < kPerListener; ++i) {
    for (std::size_t s = 0; s < 2; ++s) {
      clients.push_back(std::make_unique<Client>(setup.server(s).listen_address()));
    }
  }
  ASSERT_TRUE(harness::eventually([&] { return setup.ids().size() == 2U * kPerListener; }))
      << "every connection came up: " << setup.ids().size() << " of " << 2 * kPerListener;
  const auto ids = setup.ids();
  const std::set<std::uint64_t> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), ids.size()) << "an id is never given twice, whatever the listener";
  const auto now =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::map<std::uint32_t, int> per_worker;
  for (const std::uint64_t id : ids) {
    const tcp::ConnectionIdParts parts = tcp::split_connection_id(id);
    EXPECT_LE(parts.unix_seconds, now);
    EXPECT_GE(parts.unix_seconds + 60, now) << "the id starts with the time of the accept";
    ++per_worker[parts.worker];
  }
  EXPECT_EQ(per_worker.size(), 2U) << "ids name both workers (0 and 1)";
  EXPECT_EQ(setup.pool().connections_on(0) + setup.pool().connections_on(1), ids.size())
      << "both listeners' connections live on the one pool's two loops";
  EXPECT_GT(setup.pool().connections_on(0), 0U);
  EXPECT_GT(setup.pool().connections_on(1), 0U);
}

TEST(SharedPool, SendByIdReachesALiveConnectionFromAnyThreadAndAStaleIdFindsNothing) {
  PoolAndServers setup(2, 1);
  Client client(setup.server(0).listen_address());
  ASSERT_TRUE(harness::eventually([&] { return setup.ids().size() == 1; }));
  const std::uint64_t id = setup.ids().front();

  // From this thread, which owns no loop: the send queues to the connection's own loop.
  const TcpConnectionPtr connection = setup.server(0).find(id);
  ASSERT_NE(connection, nullptr) << "find(id) returns the live connection";
  EXPECT_EQ(connection->id(), id);
  EXPECT_EQ(connection->send("by id"), tcp::SendStatus::ok);
  EXPECT_EQ(client.receive(5), "by id");

  client.reset();  // the client goes away; its id goes stale
  ASSERT_TRUE(harness::eventually([&] { return setup.server(0).find(id) == nullptr; }))
      << "a closed connection is no longer found by its id";
  EXPECT_EQ(setup.server(0).find(id ^ 1U), nullptr) << "an id never given finds nothing";
}

// The run helper of the apps: one SIGTERM stops every server of the process; SIGUSR1 and SIGHUP
// reach their actions on the loop. The signals go to this thread only (pthread_kill) and only
// this thread blocks them, so the test process's other threads never see them.
TEST(SignalWatcher, OneStopSignalStopsThreeServersReloadAndReopenRunOnTheLoop) {
  sigset_t before;
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, nullptr, &before), 0);
  {
    reactor::EventLoop loop;
    EventLoopThreadPool pool(loop, LoopPoolOptions{.threads = 2});
    std::vector<std::unique_ptr<ThreadedTcpServer>> servers;
    int reloads = 0;
    int reopens = 0;
    int stop_signal = 0;
    std::size_t stopped = 0;
    const pthread_t self = ::pthread_self();
    const reactor::SignalWatcher watcher(
        loop, {.stop =
                   [&](int signo) {
                     stop_signal = signo;
                     ::pthread_kill(self, SIGINT);  // a second stop signal: logged, no effect
                     for (auto& server : servers) {
                       server->stop([&] {
                         if (++stopped == servers.size()) loop.quit();
                       });
                     }
                   },
               .reload =
                   [&] {
                     ++reloads;
                     ::pthread_kill(self, SIGHUP);
                   },
               .reopen_logs =
                   [&] {
                     ++reopens;
                     // Blocked in this thread and read by its signalfd: it ends nothing.
                     ::pthread_kill(self, SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
                   }});
    pool.start();  // after the watcher: the workers inherit the blocked mask
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 3; ++i) {
      // The clients never answer the server's FIN: a short drain, then the forced close.
      servers.push_back(std::make_unique<ThreadedTcpServer>(
          pool, ThreadedServerOptions{.drain_timeout = std::chrono::milliseconds(200)}));
      servers.back()->start();
      clients.push_back(std::make_unique<Client>(servers.back()->listen_address()));
    }
    ASSERT_EQ(::pthread_kill(self, SIGUSR1), 0);
    {
      const avant::testing::Within limit(
          10s, "loop.run() until SIGUSR1, SIGHUP and SIGTERM have been handled",
          "the watcher reads its signalfd on the loop; the stop action stops every server and "
          "the last one's `stopped` quits the loop");
      loop.run();
    }
    EXPECT_EQ(reloads, 1);
    EXPECT_EQ(reopens, 1);
    EXPECT_EQ(stop_signal, SIGTERM);
    EXPECT_EQ(stopped, 3U) << "one signal stopped all three servers";
    EXPECT_TRUE(watcher.stopping());
    for (auto& client : clients) {
      EXPECT_TRUE(client->receive_until_closed()) << "every client sees its server go";
    }
    servers.clear();
    pool.stop();
  }
  // Nothing of ours may stay pending when the mask is restored: it would end the process.
  sigset_t ours;
  sigemptyset(&ours);
  for (const int signo : {SIGINT, SIGTERM, SIGUSR1, SIGHUP})
    sigaddset(&ours, signo);
  const timespec now{};
  while (::sigtimedwait(&ours, nullptr, &now) > 0) {
  }
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &before, nullptr), 0);
}

}  // namespace
}  // namespace avant::thread
