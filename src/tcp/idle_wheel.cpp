#include <stdexcept>

#include <avant/tcp/idle_wheel.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp {

IdleWheel::IdleWheel(reactor::EventLoop& loop, std::chrono::milliseconds timeout, std::size_t slots)
    : loop_(loop),
      timeout_(timeout),
      tick_(
          std::max<reactor::Duration>(timeout_ / static_cast<long>(std::max<std::size_t>(slots, 1)),
                                      std::chrono::milliseconds(1))),
      slots_(std::max<std::size_t>(slots, 1)) {
  if (timeout <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("IdleWheel: timeout must be positive");
  }
  timer_ = loop_.run_every(tick_, [this] { tick(); });
}

IdleWheel::~IdleWheel() {
  loop_.cancel(timer_);
}

void IdleWheel::add(const TcpConnectionPtr& connection) {
  loop_.assert_in_loop_thread();
  // The current bucket was just processed: the cursor comes back to it after one full turn.
  slots_[cursor_].push_back(connection);
}

std::size_t IdleWheel::watched() const noexcept {
  std::size_t n = 0;
  for (const auto& slot : slots_)
    n += slot.size();
  return n;
}

void IdleWheel::tick() {
  cursor_ = (cursor_ + 1) % slots_.size();
  std::vector<std::weak_ptr<TcpConnection>> due;
  due.swap(slots_[cursor_]);
  const reactor::TimePoint now = reactor::Clock::now();
  for (auto& weak : due) {
    const TcpConnectionPtr connection = weak.lock();
    // Closed meanwhile: forget it. A connection that is only disconnecting (shut down, or a peer
    // that half-closed and does not read) is still watched: it can idle forever too.
    if (!connection || connection->state() == TcpConnection::State::disconnected) continue;
    const reactor::Duration silent = now - connection->last_activity();
    if (silent >= timeout_) {
      closed_.fetch_add(1, std::memory_order_relaxed);
      connection->force_close();
      continue;
    }
    // Active since: wait in the bucket where its own timeout ends (1..slots ticks ahead).
    const auto left = timeout_ - silent;
    auto steps = static_cast<std::size_t>((left + tick_ - reactor::Duration(1)) / tick_);
    steps = std::min(std::max<std::size_t>(steps, 1), slots_.size());
    slots_[(cursor_ + steps) % slots_.size()].push_back(std::move(weak));
  }
}

}  // namespace avant::tcp
