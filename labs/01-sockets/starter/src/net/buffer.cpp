// Lab 01 — Buffer. Contract and layout picture: src/net/include/avant/net/buffer.hpp.
#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/uio.h>

#include <avant/net/buffer.hpp>

namespace avant::net {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(01): ") + what);
}
}  // namespace

// Given: kCheapPrepend free bytes in front, initial_size writable bytes after them; with
// initial_size 0, no storage at all (both indexes 0) until the first write.
Buffer::Buffer(BufferOptions options) : max_size_(options.max_size) {
  if (options.initial_size > 0) {
    storage_.resize(kCheapPrepend + options.initial_size);
    read_index_ = write_index_ = kCheapPrepend;
  }
}

void Buffer::check_invariants() const noexcept {
  // Optional: assert the invariants of the header comment here and call this after each change.
}

void Buffer::retrieve(std::size_t n) noexcept {
  static_cast<void>(n);
  todo(
      "Buffer::retrieve: drop n readable bytes; all of them -> both indexes to kCheapPrepend (0 "
      "without storage)");
}

void Buffer::retrieve_all() noexcept {
  todo("Buffer::retrieve_all");
}

std::string Buffer::retrieve_as_string(std::size_t n) {
  static_cast<void>(n);
  todo("Buffer::retrieve_as_string");
}

std::string Buffer::retrieve_all_as_string() {
  todo("Buffer::retrieve_all_as_string");
}

bool Buffer::ensure_writable(std::size_t n) {
  static_cast<void>(n);
  todo("Buffer::ensure_writable: refuse past max_size; else make_space(n) when too small");
}

void Buffer::make_space(std::size_t n) {
  static_cast<void>(n);
  todo(
      "Buffer::make_space: slide the content to kCheapPrepend if that frees n bytes, else grow "
      "(a buffer without storage grows)");
}

void Buffer::has_written(std::size_t n) noexcept {
  static_cast<void>(n);
  todo("Buffer::has_written: move write_index_ by n");
}

bool Buffer::append(std::string_view bytes) {
  static_cast<void>(bytes);
  todo("Buffer::append: ensure_writable, copy, has_written");
}

bool Buffer::append(std::span<const std::byte> bytes) {
  static_cast<void>(bytes);
  todo("Buffer::append(std::byte): same as append(string_view)");
}

bool Buffer::prepend(std::string_view bytes) noexcept {
  static_cast<void>(bytes);
  todo("Buffer::prepend: copy in front of the readable bytes if prependable_bytes() allows");
}

bool Buffer::append_u64_be(std::uint64_t value) {
  static_cast<void>(value);
  todo("Buffer::append_u64_be: 8 bytes, most significant first");
}

bool Buffer::prepend_u64_be(std::uint64_t value) noexcept {
  static_cast<void>(value);
  todo("Buffer::prepend_u64_be: 8 bytes, most significant first");
}

std::uint64_t Buffer::peek_u64_be(std::size_t offset) const noexcept {
  static_cast<void>(offset);
  todo("Buffer::peek_u64_be: the 8 bytes at readable offset `offset`, most significant first");
}

std::size_t Buffer::find_crlf(std::size_t from) const noexcept {
  static_cast<void>(from);
  todo("Buffer::find_crlf: offset of \"\\r\\n\" at or after `from`, or npos");
}

std::size_t Buffer::find_eol(std::size_t from) const noexcept {
  static_cast<void>(from);
  todo("Buffer::find_eol: offset of '\\n' at or after `from`, or npos");
}

IoResult Buffer::read_fd(int fd) {
  static_cast<void>(fd);
  todo(
      "Buffer::read_fd: one readv into the writable part + a kExtraRead stack buffer, "
      "never past max_size (full when nothing fits)");
}

IoResult Buffer::write_fd(int fd) noexcept {
  static_cast<void>(fd);
  todo("Buffer::write_fd: write_some the readable bytes, retrieve what was written");
}

void Buffer::shrink(std::size_t reserve) {
  static_cast<void>(reserve);
  todo("Buffer::shrink: reallocate to kCheapPrepend + readable + reserve");
}

void Buffer::swap(Buffer& other) noexcept {
  static_cast<void>(other);
  todo("Buffer::swap: exchange storage, indexes and max size");
}

}  // namespace avant::net
