// server_shared.hpp — what a WebSocketServer shares with its sessions (private to module
// websocket): the options and handlers, the counters, and each loop's sessions.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/timer.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/websocket/server.hpp>

namespace avant::websocket::detail {

// The sessions of one loop: a list (for the sweep), an index by id (for send by id) and the
// groups (for broadcast_to). Touched on that loop's thread only, so without a lock.
struct LoopSessions {
  // Counted by this loop's thread alone (a load and a store, no read-modify-write on a line the
  // other loops share); read from any thread by WebSocketServer::stats().
  struct Counter {
    std::atomic<std::uint64_t> n{0};
    void add() noexcept {
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t get() const noexcept { return n.load(std::memory_order_relaxed); }
  };
  Counter messages_in;
  Counter messages_out;

  Session* head = nullptr;
  std::size_t count = 0;
  std::unordered_map<std::uint64_t, Session*> by_id;
  std::unordered_map<std::string, std::unordered_set<Session*>> groups;
  reactor::TimerId sweep{};  // armed while count > 0
  bool sweeping = false;

  void add(Session& session);
  void remove(Session& session);
};

struct Shared : std::enable_shared_from_this<Shared> {
  Shared(thread::EventLoopThreadPool& p, ServerOptions o, Handlers h)
      : pool(p), options(std::move(o)), handlers(std::move(h)), tick(sweep_period(options)) {
    loops.resize(std::max<std::size_t>(1, pool.threads()));
    for (auto& l : loops)
      l = std::make_unique<LoopSessions>();
  }

  // A few checks per ping interval or close timeout, whichever is shorter; 10 ms to 1 s.
  static std::chrono::milliseconds sweep_period(const ServerOptions& o) {
    std::chrono::milliseconds shortest = o.close_timeout;
    if (o.ping_interval.count() > 0) shortest = std::min(shortest, o.ping_interval);
    return std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  }

  // The sessions of `loop` (its thread only).
  LoopSessions& sessions_on(const reactor::EventLoop& loop) {
    return *loops[loop.pool_index() % loops.size()];
  }
  // The loop with this pool index (any thread, between the pool's start and stop).
  reactor::EventLoop& loop_at(std::size_t index) const {
    const auto& workers = pool.loops();
    if (workers.empty()) return pool.base();
    return *workers[index % workers.size()];
  }
  // Starts the loop's sweep with its first session; stops it with its last.
  void sweep_started(reactor::EventLoop& loop, LoopSessions& sessions);
  void sweep_stopped(reactor::EventLoop& loop, LoopSessions& sessions);

  thread::EventLoopThreadPool& pool;
  const ServerOptions options;
  const Handlers handlers;
  const std::chrono::milliseconds tick;
  std::vector<std::unique_ptr<LoopSessions>> loops;  // by EventLoop::pool_index()

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> slow_closed{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> ping_timeouts{0};
};

}  // namespace avant::websocket::detail
