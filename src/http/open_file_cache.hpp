// open_file_cache.hpp — StaticFiles' open-file cache (private to module http): what serving a file
// needs, kept per event loop for the files served recently, so that a hit costs no system call.
//
//   key (the request's path as sent, once resolved safely) ──> ServedFile
//      identity (device, inode, size, mtime, ctime)   compared when revalidated
//      ETag, Last-Modified, Content-Type              and their header lines, prebuilt, shared
//      the whole body (small files)  or  an open descriptor (bigger ones: pread or sendfile)
//
// One cache per loop and per StaticFiles (its `local<>` slot holds them), so the hot path takes no
// lock. An entry is trusted for `valid` after it was last checked; then the next request for it
// resolves the path again (openat2 beneath the root, fstat) and keeps the entry if the file is the
// same, or reloads it: an edited, replaced (rename) or deleted file is served fresh at most
// `valid` later. Bounded in entries and in bytes of bodies kept; the least recently used entry
// goes first, and entries unused for `inactive` are dropped. A dropped entry's descriptor closes
// when the last answer streaming from it is done; the caches close with their loop.
// Threads: the loop thread that owns the cache, only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sys/stat.h>

#include <avant/http/static_files.hpp>
#include <avant/net/file_descriptor.hpp>
#include <avant/reactor/timer.hpp>

namespace avant::http::detail {

using CacheLimits = OpenFileCacheOptions;

// Which file a path names: what identifies it, to tell when it changed.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};
[[nodiscard]] FileIdentity identity_of(const struct stat& st) noexcept;

// A regular file ready to be served: what StaticFiles needs, cached or made for one request.
struct ServedFile {
  FileIdentity identity;
  bool from_folder = false;                   // the index of a folder
  std::string etag;                           // "<hex mtime>-<hex size>", quoted
  std::string last_modified;                  // IMF-fixdate
  std::shared_ptr<const std::string> fields;  // Content-Type, ETag, Last-Modified, Accept-Ranges
  std::shared_ptr<const std::string> body;    // the whole file, if kept in memory
  std::shared_ptr<const net::FileDescriptor> fd;  // else: open for reading

  [[nodiscard]] std::uint64_t size() const noexcept { return identity.size; }
  [[nodiscard]] std::uint64_t mtime() const noexcept {
    return static_cast<std::uint64_t>(identity.mtime_ns / 1000000000);
  }
};

class OpenFileCache {
 public:
  explicit OpenFileCache(const CacheLimits& limits) : limits_(limits) {}

  // The entry for `key` if there is one (marked used now), or nullptr. `stale` is set when it
  // was last checked `valid` or more ago: the caller revalidates it (refresh) before use.
  [[nodiscard]] ServedFile* find(std::string_view key, reactor::TimePoint now, bool& stale);
  // The file checked now and found the same: trusted for `valid` again.
  void confirm(std::string_view key, reactor::TimePoint now);
  // Puts `file` under `key` (replacing what was there), evicting as the limits say; the file's
  // body must already be loaded if it is to be kept in memory.
  void put(std::string key, ServedFile file, reactor::TimePoint now);
  void erase(std::string_view key);

  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] std::size_t memory() const noexcept { return memory_; }
  [[nodiscard]] const CacheLimits& limits() const noexcept { return limits_; }

 private:
  struct Entry {
    ServedFile file;
    reactor::TimePoint checked{};
    reactor::TimePoint used{};
    std::list<std::string>::iterator lru;  // in lru_, newest first
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  [[nodiscard]] static std::size_t cost(const ServedFile& file) noexcept {
    return file.body ? file.body->size() : 0;
  }
  void evict(reactor::TimePoint now);
  void drop(std::unordered_map<std::string, Entry, Hash, std::equal_to<>>::iterator it);

  CacheLimits limits_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map_;
  std::list<std::string> lru_;  // keys, most recently used first
  std::size_t memory_ = 0;
};

}  // namespace avant::http::detail
