#include "open_file_cache.hpp"

namespace avant::http::detail {

FileIdentity identity_of(const struct stat& st) noexcept {
  FileIdentity id;
  id.device = static_cast<std::uint64_t>(st.st_dev);
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  id.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return id;
}

ServedFile* OpenFileCache::find(std::string_view key, reactor::TimePoint now, bool& stale) {
  const auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  Entry& e = it->second;
  if (now - e.used >= limits_.inactive) {  // left unused too long: as good as gone
    drop(it);
    return nullptr;
  }
  e.used = now;
  if (e.lru != lru_.begin()) lru_.splice(lru_.begin(), lru_, e.lru);
  stale = now - e.checked >= limits_.valid;
  return &e.file;
}

void OpenFileCache::confirm(std::string_view key, reactor::TimePoint now) {
  const auto it = map_.find(key);
  if (it != map_.end()) it->second.checked = now;
}

void OpenFileCache::put(std::string key, ServedFile file, reactor::TimePoint now) {
  if (limits_.entries == 0) return;
  if (const auto old = map_.find(key); old != map_.end()) drop(old);
  lru_.push_front(key);
  auto [it, inserted] = map_.try_emplace(std::move(key));
  Entry& e = it->second;
  e.file = std::move(file);
  e.checked = now;
  e.used = now;
  e.lru = lru_.begin();
  memory_ += cost(e.file);
  evict(now);
}

void OpenFileCache::erase(std::string_view key) {
  const auto it = map_.find(key);
  if (it != map_.end()) drop(it);
}

void OpenFileCache::evict(reactor::TimePoint now) {
  // From the least recently used end: over a bound, or unused for `inactive`.
  while (!lru_.empty()) {
    const auto it = map_.find(lru_.back());
    const bool over = map_.size() > limits_.entries || memory_ > limits_.memory_bytes;
    if (!over && now - it->second.used < limits_.inactive) break;
    drop(it);
  }
}

void OpenFileCache::drop(
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>>::iterator it) {
  memory_ -= cost(it->second.file);
  lru_.erase(it->second.lru);
  map_.erase(it);  // the descriptor closes once no stream holds it any more
}

}  // namespace avant::http::detail
