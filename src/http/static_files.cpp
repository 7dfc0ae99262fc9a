#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <functional>
#include <system_error>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <avant/http/static_files.hpp>
#include <avant/http/url.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/reactor/log.hpp>

#include "numbers.hpp"
#include "open_file_cache.hpp"

namespace avant::http {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Weak comparison (RFC 9110 §8.8.3.2): W/"x" matches "x".
bool etag_list_matches(std::string_view list, std::string_view etag) {
  if (trim_ows(list) == "*") return true;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view tag = trim_ows(list.substr(0, comma));
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Reads [offset, offset + n) of a file; short only at a read error.
std::string read_at(int fd, std::uint64_t offset, std::size_t n) {
  std::string data(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, data.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  data.resize(got);
  return data;
}

// A file body larger than whole_file_max, sent piece by piece as the client takes it.
struct FileStream : std::enable_shared_from_this<FileStream> {
  std::shared_ptr<const net::FileDescriptor> fd;  // shared with the open-file cache
  std::uint64_t offset = 0;
  std::uint64_t remaining = 0;
  std::size_t piece = 0;
  Responder responder;

  void pump() {
    if (responder.can_send_file()) {
      // Plain TCP: page cache to socket with sendfile(2), as fast as the client takes it.
      const tcp::SendStatus status = responder.send_file(fd->get(), offset, remaining);
      if (status == tcp::SendStatus::dropped) return;
      if (status == tcp::SendStatus::backpressure) {
        responder.on_writable([self = shared_from_this()] { self->pump(); });
        return;
      }
      responder.on_writable({});
      responder.finish();
      return;
    }
    while (remaining > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, piece));
      const std::string data = read_at(fd->get(), offset, n);
      if (data.size() != n) {
        reactor::log::error("http", "static file: read failed mid-answer; closing");
        responder = Responder();  // dropped mid-stream: the connection is closed
        return;
      }
      offset += n;
      remaining -= n;
      const tcp::SendStatus status = responder.write(data);
      if (status == tcp::SendStatus::dropped) return;
      if (status == tcp::SendStatus::backpressure && remaining > 0) {
        responder.on_writable([self = shared_from_this()] { self->pump(); });
        return;
      }
    }
    responder.on_writable({});
    responder.finish();
  }
};

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) noexcept {
  RangeRequest whole;
  header = trim_ows(header);
  if (header.size() < 6 || !iequals(header.substr(0, 6), "bytes=")) return whole;
  const std::string_view spec = trim_ows(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: the whole file
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view a = trim_ows(spec.substr(0, dash));
  const std::string_view b = trim_ows(spec.substr(dash + 1));
  RangeRequest r;
  r.kind = RangeRequest::Kind::partial;
  if (a.empty()) {  // bytes=-N: the last N bytes
    const auto n = numbers::parse(b);
    if (!n) return whole;
    if (*n == 0 || size == 0) return {RangeRequest::Kind::unsatisfiable, 0, 0};
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
    return r;
  }
  const auto first = numbers::parse(a);
  if (!first) return whole;
  std::optional<std::uint64_t> last;
  if (!b.empty()) {
    last = numbers::parse(b);
    if (!last || *last < *first) return whole;  // invalid: ignored
  }
  if (*first >= size) return {RangeRequest::Kind::unsatisfiable, 0, 0};
  r.first = *first;
  r.last = last ? std::min(*last, size - 1) : size - 1;
  return r;
}

std::string_view mime_type(std::string_view file_name) noexcept {
  struct Entry {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr std::array<Entry, 30> kTypes = {{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"xml", "application/xml"},
      {"csv", "text/csv; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/vnd.microsoft.icon"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
  }};
  const std::size_t dot = file_name.rfind('.');
  const std::size_t slash = file_name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  const std::string_view ext = file_name.substr(dot + 1);
  for (const auto& e : kTypes) {
    if (iequals(e.ext, ext)) return e.type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(StaticOptions options) : options_(std::move(options)) {
  const std::string root = options_.root.string();
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "static files: open folder '" + root + "'");
  }
  root_ = std::make_shared<net::FileDescriptor>(fd);
  std::array<char, PATH_MAX> canonical{};
  if (::realpath(root.c_str(), canonical.data()) == nullptr) {
    // Needed by the fallback without openat2: with no root to compare against, every path
    // would pass its check.
    throw std::system_error(errno, std::generic_category(),
                            "static files: realpath of folder '" + root + "'");
  }
  canonical_root_ = canonical.data();
  if (options_.piece_size == 0) options_.piece_size = 64u << 10;
  token_ = std::make_shared<const int>(0);
}

net::FileDescriptor StaticFiles::open_beneath(const std::string& relative, int& error) const {
  const std::string path = relative.empty() ? "." : relative;
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root_->get(), path.c_str(), &how, sizeof how);
  if (fd >= 0) return net::FileDescriptor(static_cast<int>(fd));
  error = errno;
  if (error != ENOSYS && error != EPERM) return {};
  // No openat2 (an old kernel, or a sandbox that filters it): resolve the path and check that it
  // is still under the root. (A link swapped in between the check and the open could escape;
  // openat2 has no such window.)
  std::array<char, PATH_MAX> resolved{};
  const std::string full = canonical_root_ + "/" + relative;
  if (::realpath(full.c_str(), resolved.data()) == nullptr) {
    error = errno;
    return {};
  }
  const std::string_view r = resolved.data();
  if (r != canonical_root_ &&
      (r.substr(0, canonical_root_.size()) != canonical_root_ ||
       r.size() <= canonical_root_.size() || r[canonical_root_.size()] != '/')) {
    error = EXDEV;
    return {};
  }
  const int plain = ::open(resolved.data(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (plain < 0) error = errno;
  return net::FileDescriptor(plain);
}

struct StaticFiles::Resolved {
  net::FileDescriptor fd;
  struct stat st {};
  std::string name;  // the file's relative path (a folder's index): its type comes from it
  bool from_folder = false;
};

std::optional<StaticFiles::Resolved> StaticFiles::resolve(Request& request,
                                                          const std::string& relative,
                                                          Responder& responder) const {
  int error = 0;
  Resolved r;
  r.fd = open_beneath(relative, error);
  if (!r.fd) {
    if (error == EXDEV || error == ELOOP) {
      reactor::log::info("http", "static file: '" + relative + "' leads out of the root; 404");
    }
    responder.send(Response::text(error == EACCES ? 403 : 404,
                                  error == EACCES ? "Forbidden\n" : "Not Found\n"));
    return std::nullopt;
  }
  if (::fstat(r.fd.get(), &r.st) != 0) {
    responder.send(Response::text(404, "Not Found\n"));
    return std::nullopt;
  }
  r.name = relative;
  if (S_ISDIR(r.st.st_mode)) {
    const std::string_view path = request.path();
    if (path.empty() || path.back() != '/') {
      Response moved = Response::text(301, "Moved Permanently\n");
      std::string location = std::string(path) + "/";
      if (!request.query().empty()) location += "?" + std::string(request.query());
      moved.headers.add("Location", location);
      responder.send(std::move(moved));
      return std::nullopt;
    }
    const std::string index = relative.empty() ? options_.index : relative + "/" + options_.index;
    int index_error = 0;
    net::FileDescriptor index_file = open_beneath(index, index_error);
    struct stat ist {};
    if (index_file && ::fstat(index_file.get(), &ist) == 0 && S_ISREG(ist.st_mode)) {
      r.fd = std::move(index_file);
      r.st = ist;
      r.name = index;
      r.from_folder = true;
    } else if (options_.directory_listing) {
      serve_listing(request, responder, r.fd.get());
      return std::nullopt;
    } else {
      responder.send(Response::text(404, "Not Found\n"));
      return std::nullopt;
    }
  }
  if (!S_ISREG(r.st.st_mode)) {
    responder.send(Response::text(404, "Not Found\n"));
    return std::nullopt;
  }
  return r;
}

namespace {

// What serving `r` needs; with `in_memory`, the whole body is read now (false on a short read:
// the file changed under us).
bool make_served(StaticFiles::Resolved& r, bool in_memory, detail::ServedFile& f) {
  f.identity = detail::identity_of(r.st);
  f.from_folder = r.from_folder;
  f.etag = "\"" + numbers::text(f.mtime(), 16) + "-" + numbers::text(f.size(), 16) + "\"";
  f.last_modified = http_date(static_cast<long long>(f.mtime()));
  const std::string_view type = mime_type(r.name);
  std::string fields;
  fields.reserve(type.size() + f.etag.size() + f.last_modified.size() + 80);
  fields.append("Content-Type: ").append(type).append("\r\nETag: ").append(f.etag);
  fields.append("\r\nLast-Modified: ").append(f.last_modified);
  fields.append("\r\nAccept-Ranges: bytes\r\n");
  f.fields = std::make_shared<const std::string>(std::move(fields));
  if (in_memory) {
    auto body = std::make_shared<std::string>(read_at(r.fd.get(), 0, f.size()));
    if (body->size() != f.size()) return false;
    f.body = std::move(body);
  } else {
    f.fd = std::make_shared<const net::FileDescriptor>(std::move(r.fd));
  }
  return true;
}

// Each loop's open-file caches, one per StaticFiles that served on it (EventLoop::local).
struct LoopCaches {
  struct Slot {
    const void* owner = nullptr;
    std::weak_ptr<const int> alive;
    std::unique_ptr<detail::OpenFileCache> cache;
  };
  std::vector<Slot> slots;

  detail::OpenFileCache& of(const std::shared_ptr<const int>& token,
                            const OpenFileCacheOptions& limits) {
    for (auto it = slots.begin(); it != slots.end();) {
      if (it->owner == token.get() && !it->alive.expired()) return *it->cache;
      // A StaticFiles that is gone: its cache (and its descriptors) go too.
      it = it->alive.expired() ? slots.erase(it) : it + 1;
    }
    slots.push_back({token.get(), token, std::make_unique<detail::OpenFileCache>(limits)});
    return *slots.back().cache;
  }
};

}  // namespace

void StaticFiles::operator()(Request& request, Responder responder) const {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = Response::text(405, "Method Not Allowed\n");
    r.headers.add("Allow", "GET, HEAD");
    responder.send(std::move(r));
    return;
  }
  // This loop's cache (none off a loop, or when it is switched off), by the path as the request
  // spells it: only a path that was resolved safely once is in it.
  detail::OpenFileCache* cache = nullptr;
  reactor::TimePoint now{};
  if (options_.cache.entries > 0) {
    if (reactor::EventLoop* loop = reactor::EventLoop::of_current_thread()) {
      cache = &loop->local<LoopCaches>().of(token_, options_.cache);
      now = loop->poll_time();
    }
  }
  const std::string_view path = request.path();
  bool stale = false;
  detail::ServedFile* hit = cache != nullptr ? cache->find(path, now, stale) : nullptr;
  if (hit != nullptr && !stale) {
    serve(request, std::move(responder), *hit);
    return;
  }
  const auto relative = safe_relative_path(path);
  if (!relative) {
    responder.send(Response::text(404, "Not Found\n"));
    return;
  }
  auto resolved = resolve(request, *relative, responder);
  if (hit != nullptr) {
    // Trusted for `valid`, now checked again: the same file is served from the cache.
    if (resolved && detail::identity_of(resolved->st) == hit->identity &&
        resolved->from_folder == hit->from_folder) {
      cache->confirm(path, now);
      serve(request, std::move(responder), *hit);
      return;
    }
    cache->erase(path);  // changed, gone (answered), or no longer a file
  }
  if (!resolved) return;
  serve_fresh(request, std::move(responder), std::string(path), *resolved, cache, now);
}

void StaticFiles::serve_fresh(Request& request, Responder responder, std::string key,
                              Resolved& resolved, detail::OpenFileCache* cache,
                              reactor::TimePoint now) const {
  const bool in_memory =
      cache != nullptr && static_cast<std::uint64_t>(resolved.st.st_size) <=
                              std::min(options_.cache.file_bytes, options_.cache.memory_bytes);
  detail::ServedFile file;
  if (!make_served(resolved, in_memory, file)) {
    responder.send(Response::text(500, "Internal Server Error\n"));
    return;
  }
  serve(request, std::move(responder), file);
  if (cache != nullptr) cache->put(std::move(key), std::move(file), now);
}

void StaticFiles::serve(Request& request, Responder responder,
                        const detail::ServedFile& file) const {
  const std::uint64_t size = file.size();
  Response r;
  r.shared_fields = file.fields;

  // Conditional requests (RFC 9110 §13.2.2): If-None-Match first; If-Modified-Since only without.
  bool not_modified = false;
  if (const auto inm = request.headers.get("If-None-Match")) {
    not_modified = etag_list_matches(*inm, file.etag);
  } else if (const auto ims = request.headers.get("If-Modified-Since")) {
    const long long since = parse_http_date(*ims);
    not_modified = since >= 0 && static_cast<long long>(file.mtime()) <= since;
  }
  if (not_modified) {
    r.status = 304;
    responder.send(std::move(r));
    return;
  }

  std::uint64_t first = 0;
  std::uint64_t length = size;
  if (const auto range_header = request.headers.get("Range")) {
    bool honour = true;
    if (const auto if_range = request.headers.get("If-Range")) {
      const std::string_view v = trim_ows(*if_range);
      // Strong comparison; a weak tag never matches.
      honour = v == file.etag || v == file.last_modified;
    }
    const RangeRequest range = honour ? parse_range(*range_header, size) : RangeRequest{};
    if (range.kind == RangeRequest::Kind::unsatisfiable) {
      Response bad = Response::text(416, "Range Not Satisfiable\n");
      bad.headers.add("Content-Range", "bytes */" + std::to_string(size));
      responder.send(std::move(bad));
      return;
    }
    if (range.kind == RangeRequest::Kind::partial) {
      r.status = 206;
      first = range.first;
      length = range.last - range.first + 1;
      r.headers.add("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                         std::to_string(range.last) + "/" + std::to_string(size));
    }
  }

  if (request.is_head()) {
    r.headers.add("Content-Length", std::to_string(length));
    responder.send(std::move(r));
    return;
  }
  if (file.body) {  // in memory: no system call
    if (length == size) {
      r.shared_body = file.body;
    } else {
      r.body = file.body->substr(static_cast<std::size_t>(first), static_cast<std::size_t>(length));
    }
    responder.send(std::move(r));
    return;
  }
  if (length <= options_.whole_file_max) {
    r.body = read_at(file.fd->get(), first, static_cast<std::size_t>(length));
    if (r.body.size() != length) {
      responder.send(Response::text(500, "Internal Server Error\n"));
      return;
    }
    responder.send(std::move(r));
    return;
  }
  r.headers.add("Content-Length", std::to_string(length));
  responder.start(std::move(r));
  auto stream = std::make_shared<FileStream>();
  stream->fd = file.fd;
  stream->offset = first;
  stream->remaining = length;
  stream->piece = options_.piece_size;
  stream->responder = std::move(responder);
  stream->pump();
}

void StaticFiles::serve_listing(Request& request, Responder& responder, int dir_fd) const {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (dir == nullptr) {
    if (fd >= 0) ::close(fd);
    responder.send(Response::text(403, "Forbidden\n"));
    return;
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a folder
  // readdir is safe on a DIR* of our own (glibc; POSIX.1-2008 only makes a shared one unsafe).
  while (const dirent* e = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe)
    const std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    entries.emplace_back(std::string(n), e->d_type == DT_DIR);
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end());
  const std::string title = html_escape(request.path());
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " +
                     title + "</title></head>\n<body><h1>Index of " + title + "</h1>\n<ul>\n";
  if (request.path() != "/") html += "<li><a href=\"../\">../</a></li>\n";
  for (const auto& [n, folder] : entries) {
    const std::string link = percent_encode(n, false) + (folder ? "/" : "");
    html += "<li><a href=\"" + html_escape(link) + "\">" + html_escape(n) + (folder ? "/" : "") +
            "</a></li>\n";
  }
  html += "</ul></body></html>\n";
  responder.send(Response::text(200, std::move(html), "text/html; charset=utf-8"));
}

}  // namespace avant::http
