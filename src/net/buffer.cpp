#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include <sys/uio.h>

#include <avant/net/buffer.hpp>

namespace avant::net {

Buffer::Buffer(BufferOptions options) : max_size_(options.max_size) {
  if (options.initial_size > 0) {
    storage_.resize(kCheapPrepend + options.initial_size);
    read_index_ = write_index_ = kCheapPrepend;
  }
  check_invariants();
}

void Buffer::check_invariants() const noexcept {
  assert(read_index_ <= write_index_);
  assert(write_index_ <= storage_.size());
  assert(readable_bytes() <= max_size_);
  assert(!storage_.empty() || write_index_ == 0);
}

void Buffer::retrieve(std::size_t n) noexcept {
  assert(n <= readable_bytes());
  if (n < readable_bytes()) {
    read_index_ += n;
  } else {
    retrieve_all();
  }
}

void Buffer::retrieve_all() noexcept {
  // A buffer without storage has no front room to keep.
  read_index_ = write_index_ = storage_.empty() ? 0 : kCheapPrepend;
}

std::string Buffer::retrieve_as_string(std::size_t n) {
  assert(n <= readable_bytes());
  std::string text(peek(), n);
  retrieve(n);
  return text;
}

std::string Buffer::retrieve_all_as_string() {
  return retrieve_as_string(readable_bytes());
}

bool Buffer::ensure_writable(std::size_t n) {
  if (n > max_size_ - readable_bytes()) return false;
  if (writable_bytes() < n) make_space(n);
  assert(writable_bytes() >= n);
  return true;
}

void Buffer::make_space(std::size_t n) {
  const std::size_t readable = readable_bytes();
  if (read_index_ >= kCheapPrepend && read_index_ - kCheapPrepend + writable_bytes() >= n) {
    // Enough room once the content slides back to the front: move, do not allocate.
    std::memmove(storage_.data() + kCheapPrepend, peek(), readable);
  } else {
    // Grow geometrically (amortised O(1) appends) but never past what max_size can use. A buffer
    // without storage (read_index_ 0) gets its front room here, with its first bytes.
    const std::size_t needed = kCheapPrepend + readable + n;
    const std::size_t doubled = std::min(storage_.size() * 2, kCheapPrepend + max_size_);
    std::vector<char> next(std::max(needed, doubled));
    if (readable > 0) std::memcpy(next.data() + kCheapPrepend, peek(), readable);
    storage_.swap(next);
  }
  read_index_ = kCheapPrepend;
  write_index_ = kCheapPrepend + readable;
  check_invariants();
}

void Buffer::has_written(std::size_t n) noexcept {
  assert(n <= writable_bytes());
  write_index_ += n;
  check_invariants();
}

bool Buffer::append(std::string_view bytes) {
  if (bytes.empty()) return true;  // no storage is made for nothing
  if (!ensure_writable(bytes.size())) return false;
  std::memcpy(begin_write(), bytes.data(), bytes.size());
  has_written(bytes.size());
  return true;
}

bool Buffer::append(std::span<const std::byte> bytes) {
  return append(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool Buffer::prepend(std::string_view bytes) noexcept {
  if (bytes.size() > prependable_bytes() || bytes.size() > max_size_ - readable_bytes()) {
    return false;
  }
  if (bytes.empty()) return true;  // a buffer without storage takes nothing in front, too
  read_index_ -= bytes.size();
  std::memcpy(storage_.data() + read_index_, bytes.data(), bytes.size());
  check_invariants();
  return true;
}

namespace {

void encode_u64_be(std::uint64_t value, char* out) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xffU);
    value >>= 8U;
  }
}

}  // namespace

bool Buffer::append_u64_be(std::uint64_t value) {
  char bytes[8];
  encode_u64_be(value, bytes);
  return append(std::string_view(bytes, sizeof bytes));
}

bool Buffer::prepend_u64_be(std::uint64_t value) noexcept {
  char bytes[8];
  encode_u64_be(value, bytes);
  return prepend(std::string_view(bytes, sizeof bytes));
}

std::uint64_t Buffer::peek_u64_be(std::size_t offset) const noexcept {
  assert(offset <= readable_bytes() && readable_bytes() - offset >= 8);
  const char* at = peek() + offset;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    value = (value << 8U) | static_cast<unsigned char>(at[i]);
  }
  return value;
}

std::size_t Buffer::find_crlf(std::size_t from) const noexcept {
  if (from >= readable_bytes()) return npos;
  const auto at = view().find("\r\n", from);
  return at == std::string_view::npos ? npos : at;
}

std::size_t Buffer::find_eol(std::size_t from) const noexcept {
  if (from >= readable_bytes()) return npos;
  const void* at = std::memchr(peek() + from, '\n', readable_bytes() - from);
  return at == nullptr ? npos : static_cast<std::size_t>(static_cast<const char*>(at) - peek());
}

IoResult Buffer::read_fd(int fd) {
  const std::size_t allowance = max_size_ - readable_bytes();
  if (allowance == 0) return {.status = IoStatus::full};

  char extra[kExtraRead];
  const std::size_t direct = std::min(writable_bytes(), allowance);
  iovec vec[2] = {{.iov_base = begin_write(), .iov_len = direct},
                  {.iov_base = extra, .iov_len = std::min(kExtraRead, allowance - direct)}};
  const int count = vec[1].iov_len > 0 ? 2 : 1;

  ssize_t n = 0;
  do {
    n = ::readv(fd, vec, count);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {.status = IoStatus::would_block};
    return {.status = IoStatus::error, .error = errno};
  }
  if (n == 0) return {.status = IoStatus::closed};

  const auto got = static_cast<std::size_t>(n);
  if (got <= direct) {
    has_written(got);
  } else {
    has_written(direct);
    // Within the allowance by construction of vec[1], so this cannot be refused.
    const bool appended = append(std::string_view(extra, got - direct));
    assert(appended);
    static_cast<void>(appended);
  }
  return {.status = IoStatus::ok, .bytes = got};
}

IoResult Buffer::write_fd(int fd) noexcept {
  const IoResult result = write_some(fd, std::span<const char>(peek(), readable_bytes()));
  if (result.ok()) retrieve(result.bytes);
  return result;
}

void Buffer::shrink(std::size_t reserve) {
  const std::size_t readable = readable_bytes();
  if (readable == 0 && reserve == 0) {
    // Nothing to keep: no storage at all (an idle connection's buffers cost no heap).
    std::vector<char>().swap(storage_);
    read_index_ = write_index_ = 0;
    check_invariants();
    return;
  }
  std::vector<char> next(kCheapPrepend + readable + reserve);
  if (readable > 0) std::memcpy(next.data() + kCheapPrepend, peek(), readable);
  storage_.swap(next);
  read_index_ = kCheapPrepend;
  write_index_ = kCheapPrepend + readable;
  check_invariants();
}

void Buffer::swap(Buffer& other) noexcept {
  storage_.swap(other.storage_);
  std::swap(read_index_, other.read_index_);
  std::swap(write_index_, other.write_index_);
  std::swap(max_size_, other.max_size_);
}

}  // namespace avant::net
