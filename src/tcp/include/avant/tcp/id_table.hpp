// id_table.hpp — pointers (raw or shared) to objects that carry their own id (`p->id()`), found by
// that id.
//
// TcpServer keeps its open connections in one (connections by id, for send-by-id and for stop),
// WebSocketServer each loop's sessions (raw pointers: 8 bytes a slot).
// An open-addressing table: one vector of pointers, a power of two long, linear probing from the
// id's home slot, deletion by shifting the rest of the run back (no tombstones). That is 16 bytes
// a slot at a load between 3/8 and 3/4, about 26 bytes a connection, where a std::unordered_map
// node took a 48-byte malloc chunk plus its bucket (docs/performance.md, "Idle memory").
//
// Threads: not synchronised; the owner holds its lock around every call.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace avant::tcp {

template <class Ptr>
class IdTable {
 public:
  // Adds `p` under p->id(). Returns false, adding nothing, if that id is present or p is null.
  bool insert(Ptr p) {
    if (!p) return false;
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? kMinSlots : 2 * slots_.size());
    const std::uint64_t id = p->id();
    for (std::size_t i = home(id);; i = next(i)) {
      if (!slots_[i]) {
        slots_[i] = std::move(p);
        ++size_;
        return true;
      }
      if (slots_[i]->id() == id) return false;
    }
  }

  // The pointer held under `id`, or null.
  [[nodiscard]] Ptr find(std::uint64_t id) const {
    const std::size_t i = slot_of(id);
    return i == kNone ? Ptr{} : slots_[i];
  }

  // Removes what is held under `id`. Returns whether something was.
  bool erase(std::uint64_t id) {
    std::size_t hole = slot_of(id);
    if (hole == kNone) return false;
    slots_[hole] = Ptr{};
    --size_;
    // Backward shift: an entry further along the run moves into the hole unless its home lies
    // cyclically in (hole, j], where it would no longer be found from its home.
    for (std::size_t j = next(hole); slots_[j]; j = next(j)) {
      const std::size_t k = home(slots_[j]->id());
      const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (stays) continue;
      // Exchanged, not moved: a moved-from raw pointer keeps its value.
      slots_[hole] = std::exchange(slots_[j], Ptr{});
      hole = j;
    }
    if (slots_.size() > kMinSlots && size_ * 8 < slots_.size()) rehash(slots_.size() / 2);
    return true;
  }

  // Calls f(p) for every pointer held, in no particular order; f must not change the table.
  template <class F>
  void for_each(F&& f) const {
    for (const Ptr& p : slots_) {
      if (p) f(p);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t slot_count() const noexcept { return slots_.size(); }

 private:
  static constexpr std::size_t kMinSlots = 16;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // Fibonacci hashing: ids that differ only in a few bits (a counter) land far apart.
  [[nodiscard]] std::size_t home(std::uint64_t id) const noexcept {
    const int shift = 64 - std::countr_zero(slots_.size());
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ULL) >> shift);
  }
  [[nodiscard]] std::size_t next(std::size_t i) const noexcept {
    return (i + 1) & (slots_.size() - 1);
  }
  [[nodiscard]] std::size_t slot_of(std::uint64_t id) const noexcept {
    if (slots_.empty()) return kNone;
    for (std::size_t i = home(id); slots_[i]; i = next(i)) {
      if (slots_[i]->id() == id) return i;
    }
    return kNone;
  }

  void rehash(std::size_t count) {
    std::vector<Ptr> old(count);
    old.swap(slots_);
    for (Ptr& p : old) {
      if (!p) continue;
      std::size_t i = home(p->id());
      while (slots_[i])
        i = next(i);
      slots_[i] = std::move(p);
    }
  }

  std::vector<Ptr> slots_;  // empty, or a power of two long with at least one null slot
  std::size_t size_ = 0;
};

}  // namespace avant::tcp
