// histogram.hpp — latency percentiles with bounded memory and bounded error (HDR-style).
//
// Values (nanoseconds) go into log-linear buckets: every power of two is split into 32 equal
// sub-buckets, so a recorded value is known to within 1/32 (about 3%) whatever its size, from 1 ns
// to centuries, in 1,920 counters. Recording is a shift, a count-leading-zeros and an increment:
// cheap enough to run on every message of a load test without disturbing it.
//
//   bits(v) <= 6:  bucket = v                                  (exact below 64)
//   otherwise:     shift = bits(v) - 6, top = v >> shift       (top in 32..63)
//                  bucket = 64 + (shift - 1) * 32 + (top - 32)
//
// Threads: one thread per histogram; merge() combines them.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace avant::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr std::size_t kBuckets = 64 + 58 * 32;

  void record(std::uint64_t value) noexcept {
    ++counts_[index(value)];
    ++total_;
    if (value > max_) max_ = value;
  }

  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i)
      counts_[i] += other.counts_[i];
    total_ += other.total_;
    if (other.max_ > max_) max_ = other.max_;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  // The values recorded in bucket i (lowest(i)..highest(i)), for a printed histogram.
  [[nodiscard]] std::uint64_t in_bucket(std::size_t i) const noexcept { return counts_[i]; }

  // The value at quantile q (0..1): the midpoint of the bucket holding that rank.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return midpoint(i);
    }
    return max_;
  }

  [[nodiscard]] static std::size_t index(std::uint64_t v) noexcept {
    const int bits = 64 - std::countl_zero(v | 1U);
    if (bits <= kSubBits) return static_cast<std::size_t>(v);
    const int shift = bits - kSubBits;
    const auto top = static_cast<std::size_t>(v >> shift);  // 32..63
    return 64 + static_cast<std::size_t>(shift - 1) * 32 + (top - 32);
  }

  // Lowest and highest value that land in bucket i.
  [[nodiscard]] static std::uint64_t lowest(std::size_t i) noexcept {
    if (i < 64) return i;
    const std::size_t shift = (i - 64) / 32 + 1;
    const std::size_t top = (i - 64) % 32 + 32;
    return static_cast<std::uint64_t>(top) << shift;
  }
  [[nodiscard]] static std::uint64_t highest(std::size_t i) noexcept {
    if (i < 64) return i;
    const std::size_t shift = (i - 64) / 32 + 1;
    return lowest(i) + (std::uint64_t{1} << shift) - 1;
  }
  [[nodiscard]] static std::uint64_t midpoint(std::size_t i) noexcept {
    return lowest(i) + (highest(i) - lowest(i)) / 2;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace avant::bench
