// buffer.hpp — a byte queue for one direction of one connection.
//
//   +-------------------+------------------+------------------+
//   | prependable bytes |  readable bytes  |  writable bytes  |
//   |                   |    (CONTENT)     |                  |
//   +-------------------+------------------+------------------+
//   0      <=      read_index   <=    write_index    <=    capacity
//
// Bytes arrive at write_index (append, read_fd) and leave from read_index (retrieve, write_fd).
// kCheapPrepend bytes are kept free in front, so that a codec can put a header before a body it has
// already written without moving it: 8 bytes is exactly the uint64 big-endian length that prefixes
// every protobuf frame on Avant's TCP streams (chapter 07). When the writable part is too small,
// the buffer first slides its content back to kCheapPrepend (cheap: no allocation) and grows only
// if that is not enough.
//
// Storage: a buffer made with initial_size 0, or shrunk while empty, holds no storage at all
// (capacity() 0, prependable_bytes() 0): an idle connection's two buffers cost no heap. The first
// bytes written allocate it, kCheapPrepend front included.
//
// Limits: the readable part never exceeds max_size. append() refuses bytes past it (returns false)
// and read_fd() reads no more than fits (IoStatus::full when nothing fits): a peer that sends
// without reading cannot make the process allocate without bound.
//
// Invariants (asserted in debug builds): 0 <= read_index <= write_index <= capacity,
// write_index - read_index <= max_size, and both indexes are 0 while there is no storage.
// Threads: not synchronised; a Buffer belongs to one connection on one loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <avant/net/io.hpp>

namespace avant::net {

struct BufferOptions {
  std::size_t initial_size = 1024;   // writable bytes of a new buffer (0: no storage yet)
  std::size_t max_size = 64u << 20;  // most readable bytes it will hold (64 MiB)
};

class Buffer {
 public:
  static constexpr std::size_t kCheapPrepend = 8;   // room for one uint64 length prefix
  static constexpr std::size_t kExtraRead = 65536;  // stack side buffer of read_fd's readv
  // NOLINTNEXTLINE(readability-identifier-naming): named like std::string::npos on purpose
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  explicit Buffer(BufferOptions options = {});

  [[nodiscard]] std::size_t readable_bytes() const noexcept { return write_index_ - read_index_; }
  [[nodiscard]] std::size_t writable_bytes() const noexcept {
    return storage_.size() - write_index_;
  }
  [[nodiscard]] std::size_t prependable_bytes() const noexcept { return read_index_; }
  [[nodiscard]] std::size_t max_size() const noexcept { return max_size_; }
  [[nodiscard]] bool empty() const noexcept { return readable_bytes() == 0; }

  // The readable bytes, valid until the next call that changes the buffer.
  [[nodiscard]] const char* peek() const noexcept { return storage_.data() + read_index_; }
  [[nodiscard]] std::string_view view() const noexcept { return {peek(), readable_bytes()}; }
  // The same bytes, writable in place (a codec that transforms what it reads where it lies, as
  // WebSocket unmasking does).
  [[nodiscard]] char* data() noexcept { return storage_.data() + read_index_; }

  // --- consuming ---
  // Drops the first n readable bytes (n <= readable_bytes()). Dropping everything resets both
  // indexes to kCheapPrepend (0 without storage), so a drained buffer starts again at the front.
  void retrieve(std::size_t n) noexcept;
  void retrieve_all() noexcept;
  [[nodiscard]] std::string retrieve_as_string(std::size_t n);
  [[nodiscard]] std::string retrieve_all_as_string();

  // --- producing ---
  // Appends bytes at the end. Returns false, appending nothing, if readable_bytes() would exceed
  // max_size().
  [[nodiscard]] bool append(std::string_view bytes);
  [[nodiscard]] bool append(std::span<const std::byte> bytes);
  // Puts bytes in front of the readable ones (n <= prependable_bytes(); else returns false).
  [[nodiscard]] bool prepend(std::string_view bytes) noexcept;
  // Makes room for n more bytes at the end (slide, then grow). Returns false if that would pass
  // max_size(). Then begin_write() points at them and has_written(n) commits them.
  [[nodiscard]] bool ensure_writable(std::size_t n);
  [[nodiscard]] char* begin_write() noexcept { return storage_.data() + write_index_; }
  void has_written(std::size_t n) noexcept;

  // --- integers in network byte order (big-endian) ---
  [[nodiscard]] bool append_u64_be(std::uint64_t value);
  [[nodiscard]] bool prepend_u64_be(std::uint64_t value) noexcept;
  // The 8 readable bytes at readable offset `offset` as a big-endian uint64, without consuming
  // them (readable_bytes() >= offset + 8): a frame's length prefix read in place, the first one
  // or one further on when several frames arrived in one read.
  [[nodiscard]] std::uint64_t peek_u64_be(std::size_t offset = 0) const noexcept;

  // --- searching ---
  // Offset of the first "\r\n" at or after readable offset `from`, or npos.
  [[nodiscard]] std::size_t find_crlf(std::size_t from = 0) const noexcept;
  // Offset of the first '\n' at or after readable offset `from`, or npos.
  [[nodiscard]] std::size_t find_eol(std::size_t from = 0) const noexcept;

  // --- descriptors ---
  // Reads what the descriptor has, up to max_size, with one readv: into the writable part and a
  // kExtraRead stack buffer, so a small buffer takes a large read in one system call and grows only
  // by what really arrived. Returns ok (bytes read), would_block, closed (end of stream), full
  // (nothing fits below max_size), or error.
  IoResult read_fd(int fd);
  // Writes readable bytes with one write and retrieves what was written.
  IoResult write_fd(int fd) noexcept;

  // Releases memory beyond what the content needs plus `reserve` writable bytes; an empty buffer
  // shrunk with reserve 0 releases all of it (no storage until the next write).
  void shrink(std::size_t reserve = 0);
  [[nodiscard]] std::size_t capacity() const noexcept { return storage_.size(); }

  void swap(Buffer& other) noexcept;

 private:
  void make_space(std::size_t n);
  void check_invariants() const noexcept;

  std::vector<char> storage_;
  std::size_t read_index_ = 0;  // kCheapPrepend once there is storage
  std::size_t write_index_ = 0;
  std::size_t max_size_;
};

}  // namespace avant::net
