// static_files.hpp — GET and HEAD of the files under a root folder (the original's
// http_static_dir), as a Handler.
//
//   /                 → <root>/index.html
//   /docs/            → <root>/docs/index.html, or a listing (off by default), or 404
//   /docs             → 301 to /docs/ (a folder)
//   /a%20b.css        → <root>/a b.css, Content-Type text/css
//
// Caching: ETag "<hex mtime>-<hex size>" (the original's form) and Last-Modified; If-None-Match
// and If-Modified-Since answer 304. Ranges: one `bytes=` range answers 206 with Content-Range,
// an unsatisfiable one 416; several ranges, or an If-Range that no longer matches, get the whole
// file (RFC 9110 §14.2 lets a server ignore them).
//
// Path safety: the decoded path must be a plain relative path (url.hpp safe_relative_path: no
// "..", no encoded '/' or NUL), and the file is opened beneath the root's descriptor with
// openat2(RESOLVE_BENEATH), so a symbolic link that leads out of the root is not followed: 404.
// Only regular files and folders are served (never a FIFO or a device).
//
// Small files are read whole and sent in one answer; bigger ones are streamed in pieces, paced by
// the client (a slow reader pauses the reading of the file). Reads are done on the connection's
// loop: fine for files the page cache holds, which is what a static site is. On a loop, files
// served recently come from that loop's open-file cache (OpenFileCacheOptions).
// Threads: the handler may serve every worker at once (its only state, the cache, is per loop).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <avant/http/http_server.hpp>
#include <avant/net/file_descriptor.hpp>

namespace avant::http {

namespace detail {
struct ServedFile;
class OpenFileCache;
}  // namespace detail

// The open-file cache (one per loop): for the files served recently, what serving them needs —
// the ETag, Last-Modified and their header lines, the body of a small file, the descriptor of a
// bigger one — so that serving one again costs no system call. An entry is trusted for `valid`
// after it was checked, then checked again (the path resolved, the file's device, inode, size,
// mtime and ctime compared): an edited, replaced or deleted file is served fresh at most `valid`
// later (nginx's open_file_cache_valid). Missing files are not cached.
struct OpenFileCacheOptions {
  std::size_t entries = 1000;                 // per loop; 0: no cache
  std::chrono::milliseconds valid{1000};      // how long a check is trusted
  std::chrono::milliseconds inactive{60000};  // an entry unused this long is dropped
  std::size_t file_bytes = 64u << 10;         // files up to this size are kept in memory
  std::size_t memory_bytes = 16u << 20;       // bodies kept in memory, per loop, at most
};

struct StaticOptions {
  std::filesystem::path root;               // the folder served; it must exist
  std::string index = "index.html";         // served for a folder
  bool directory_listing = false;           // an HTML index of a folder without `index`
  std::size_t whole_file_max = 256u << 10;  // files up to this size are read and sent at once
  std::size_t piece_size = 64u << 10;       // bigger files go out in reads of this size
  OpenFileCacheOptions cache{};
};

// One `Range: bytes=...` header against a file of `size` bytes.
struct RangeRequest {
  enum class Kind : std::uint8_t { whole, partial, unsatisfiable };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;  // inclusive, for `partial`
  std::uint64_t last = 0;   // inclusive
};
[[nodiscard]] RangeRequest parse_range(std::string_view header, std::uint64_t size) noexcept;

// "text/css; charset=utf-8" for "site.css"; application/octet-stream when unknown.
[[nodiscard]] std::string_view mime_type(std::string_view file_name) noexcept;

class StaticFiles {
 public:
  // Opens the root (throws std::system_error naming it when it is not a readable folder).
  explicit StaticFiles(StaticOptions options);

  void operator()(Request& request, Responder responder) const;
  [[nodiscard]] const StaticOptions& options() const noexcept { return options_; }

  // Internal: a path resolved to a regular file (static_files.cpp).
  struct Resolved;

 private:
  [[nodiscard]] net::FileDescriptor open_beneath(const std::string& relative, int& error) const;
  // The regular file a request's path names (a folder's index), or an answer already sent (a
  // 301, 403, 404 or a listing): nullopt.
  [[nodiscard]] std::optional<Resolved> resolve(Request& request, const std::string& relative,
                                                Responder& responder) const;
  // A file just resolved: its answer, and into the cache under `key` if there is one.
  void serve_fresh(Request& request, Responder responder, std::string key, Resolved& resolved,
                   detail::OpenFileCache* cache, std::chrono::steady_clock::time_point now) const;
  // The file's answer: 200, 206, 304, 416, or a stream.
  void serve(Request& request, Responder responder, const detail::ServedFile& file) const;
  void serve_listing(Request& request, Responder& responder, int dir_fd) const;

  StaticOptions options_;
  std::shared_ptr<const int> token_;  // identifies this StaticFiles' caches in the loops' slots
  std::shared_ptr<net::FileDescriptor> root_;  // O_PATH | O_DIRECTORY: what openat2 resolves under
  std::string canonical_root_;                 // for the fallback without openat2
};

}  // namespace avant::http
