// Connection ids in the original's GID layout (connection_id.hpp).
#include <atomic>
#include <chrono>

#include <avant/tcp/connection_id.hpp>

namespace avant::tcp {

std::uint64_t next_connection_id(std::size_t worker_index) noexcept {
  static std::atomic<std::uint64_t> sequence{0};
  const std::uint64_t seq = sequence.fetch_add(1, std::memory_order_relaxed);
  const auto seconds =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  return ((seconds & 0xFFFFFFFFU) << 32) |
         ((seq & ((std::uint64_t{1} << kGidSequenceBits) - 1)) << kGidWorkerBits) |
         (static_cast<std::uint64_t>(worker_index) & kMaxGidWorkers);
}

}  // namespace avant::tcp
