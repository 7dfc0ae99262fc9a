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
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/timer.hpp>
#include <avant/tcp/connection_id.hpp>
#include <avant/tcp/id_table.hpp>
#include <avant/thread/event_loop_thread_pool.hpp>
#include <avant/websocket/server.hpp>

namespace avant::websocket::detail {

// The sessions of one loop: a table by id (for send by id, the sweep and broadcast) and the
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

  // The loop's thread, from its first session on; never changed after. Read by Session::send()
  // on any thread, which reaches a session only after that session's on_up.
  std::thread::id thread{};
  std::size_t count = 0;  // sessions up
  std::unordered_map<std::string, std::unordered_set<Session*>> groups;
  reactor::TimerId sweep{};  // armed while count > 0
  bool sweeping = false;

  void add(Session& session);
  void remove(Session& session);
  // The session up with this id, or null.
  [[nodiscard]] Session* find(std::uint64_t id) const;
  // f(session) for every session up when the walk began, once each, in no particular order. A
  // session f ends is taken out of the table after the walk (kept alive until then), one that
  // starts meanwhile is put in after it: the table does not move under the walk.
  template <class F>
  void for_each(F&& f);

 private:
  struct Walk {
    explicit Walk(LoopSessions& s) noexcept : sessions(s) { ++sessions.walking_; }
    ~Walk() {
      if (--sessions.walking_ == 0) sessions.settle();
    }
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;
    Walk(Walk&&) = delete;
    Walk& operator=(Walk&&) = delete;
    LoopSessions& sessions;
  };
  void settle();

  // 8 bytes a slot at a load between 3/8 and 3/4: 11 to 21 bytes a session.
  tcp::IdTable<Session*> by_id_;
  int walking_ = 0;
  std::vector<std::shared_ptr<Session>> leaving_;  // ended during a walk
  std::vector<Session*> arriving_;                 // started during a walk
};

template <class F>
void LoopSessions::for_each(F&& f) {
  const Walk walk(*this);
  by_id_.for_each([&f](Session* s) {
    if (s->up_) f(*s);
  });
}

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

  // The sessions of `loop`, or of the connection with this id (their loop's thread only; a
  // connection's id carries its loop's pool index, tcp/connection_id.hpp).
  LoopSessions& sessions_on(const reactor::EventLoop& loop) const {
    return *loops[(loop.pool_index() & tcp::kMaxGidWorkers) % loops.size()];
  }
  LoopSessions& sessions_of(std::uint64_t id) const {
    return *loops[tcp::split_connection_id(id).worker % loops.size()];
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
