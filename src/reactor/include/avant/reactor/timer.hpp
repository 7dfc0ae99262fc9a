// timer.hpp — the clock and timer handle of the reactor.
#pragma once

#include <chrono>
#include <cstdint>

namespace avant::reactor {

// Timers run on the monotonic clock: wall-clock jumps (NTP, an administrator) never fire or
// delay them.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Names one scheduled timer, for cancel(). A default TimerId names none. Ids are never reused
// within a process, so cancelling a timer that already fired (or was already cancelled) is a
// harmless no-op rather than cancelling somebody else's timer.
struct TimerId {
  std::uint64_t value = 0;

  [[nodiscard]] bool valid() const noexcept { return value != 0; }
  friend bool operator==(TimerId, TimerId) = default;
};

}  // namespace avant::reactor
