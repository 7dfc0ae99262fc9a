// Micro-benchmarks of the reactor: timer insert/cancel and the cross-thread wake-up.
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include <avant/reactor/event_loop.hpp>

#include <benchmark/benchmark.h>

namespace {

using avant::reactor::EventLoop;
using avant::reactor::TimerId;

// Schedule then cancel a timer on the loop thread: the std::set insert/erase and the timerfd
// re-arm when the earliest deadline changes. range(0) timers stay pending in the queue meanwhile.
void BM_TimerInsertCancel(benchmark::State& state) {
  EventLoop loop;
  const auto background = static_cast<std::size_t>(state.range(0));
  std::vector<TimerId> pending;
  for (std::size_t i = 0; i < background; ++i) {
    pending.push_back(loop.run_after(std::chrono::hours(1) + std::chrono::seconds(i), [] {}));
  }
  for (auto _ : state) {
    const TimerId id = loop.run_after(std::chrono::minutes(30), [] {});
    loop.cancel(id);
  }
  for (const TimerId id : pending)
    loop.cancel(id);
}
BENCHMARK(BM_TimerInsertCancel)->Arg(0)->Arg(1000)->Arg(100000);

// Another thread queues a task and waits until the loop ran it: eventfd write, epoll wake-up,
// queue swap — the latency every cross-thread send() pays.
void BM_CrossThreadWakeUp(benchmark::State& state) {
  std::promise<EventLoop*> started;
  std::thread thread([&started] {
    EventLoop loop;
    started.set_value(&loop);
    loop.run();
  });
  EventLoop* loop = started.get_future().get();
  std::atomic<std::uint64_t> ran{0};
  std::uint64_t expected = 0;
  for (auto _ : state) {
    ++expected;
    loop->queue_in_loop([&ran] { ran.fetch_add(1, std::memory_order_release); });
    while (ran.load(std::memory_order_acquire) != expected) {
    }
  }
  loop->quit();
  thread.join();
}
BENCHMARK(BM_CrossThreadWakeUp)->UseRealTime();

}  // namespace
