// connection_id.hpp — connection ids, unique across every listener of the process.
//
// The layout is the original Avant's GID (docs/original-avant.md), so scripts and clients that
// decode it keep working:
//
//    63                    32 31                       9 8             0
//   +------------------------+--------------------------+---------------+
//   |  unix time, seconds    |  sequence (23 bits)      | worker (9 bits)|
//   +------------------------+--------------------------+---------------+
//
// The sequence is one counter for the whole process, so two connections accepted in the same
// second by two listeners still differ; it wraps after 8,388,608 connections, which would have to
// happen within one second to repeat an id. The worker is the index of the loop that owns the
// connection (EventLoop::pool_index(), 0..511; worker_cnt is at most 511 for that reason).
// Threads: any.
#pragma once

#include <cstddef>
#include <cstdint>

namespace avant::tcp {

inline constexpr std::uint64_t kGidSequenceBits = 23;
inline constexpr std::uint64_t kGidWorkerBits = 9;
inline constexpr std::size_t kMaxGidWorkers = (std::size_t{1} << kGidWorkerBits) - 1;  // 511

// A new id for a connection owned by worker `worker_index` (only its low 9 bits are kept).
[[nodiscard]] std::uint64_t next_connection_id(std::size_t worker_index) noexcept;

struct ConnectionIdParts {
  std::uint32_t unix_seconds = 0;
  std::uint32_t sequence = 0;
  std::uint32_t worker = 0;
};
[[nodiscard]] constexpr ConnectionIdParts split_connection_id(std::uint64_t id) noexcept {
  return {static_cast<std::uint32_t>(id >> 32),
          static_cast<std::uint32_t>((id >> kGidWorkerBits) & ((1U << kGidSequenceBits) - 1)),
          static_cast<std::uint32_t>(id & ((1U << kGidWorkerBits) - 1))};
}

}  // namespace avant::tcp
