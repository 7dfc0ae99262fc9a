// frame_codec.cpp — the stream frame's decoder and encoder (frame_codec.hpp). Lab 07 rewrites this
// file; fail(), storage() and release_storage() are in frame_codec_support.cpp.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

namespace avant::proto {

// Big-endian on the wire; one load (or store) and a byte swap on a little-endian machine, where
// the byte-by-byte form costs a few dozen instructions on every frame.
std::uint64_t read_length(std::span<const char, kHeaderSize> head) noexcept {
  std::uint64_t n = 0;
  std::memcpy(&n, head.data(), kHeaderSize);
  if constexpr (std::endian::native == std::endian::little) n = __builtin_bswap64(n);
  return n;
}

void write_length(std::uint64_t length, std::span<char, kHeaderSize> head) noexcept {
  if constexpr (std::endian::native == std::endian::little) length = __builtin_bswap64(length);
  std::memcpy(head.data(), &length, kHeaderSize);
}

FrameDecoder::Result FrameDecoder::feed(std::span<const char> bytes) {
  body_ = {};
  if (state_ == State::failed) return {0, Event::error};
  if (state_ == State::head) storage_.clear();  // the last frame's body, if it was collected
  std::size_t used = 0;
  if (state_ == State::head) {
    if (head_have_ == 0 && bytes.size() >= kHeaderSize) {
      // The common case: the head whole in this feed, read in place.
      length_ = read_length(bytes.first<kHeaderSize>());
      used = kHeaderSize;
    } else {
      const std::size_t take = std::min<std::size_t>(kHeaderSize - head_have_, bytes.size());
      std::copy_n(bytes.begin(), take, head_.begin() + head_have_);
      head_have_ = static_cast<std::uint8_t>(head_have_ + take);
      used = take;
      if (head_have_ < kHeaderSize) return {used, Event::need_more};
      head_have_ = 0;
      length_ = read_length(head_);
    }
    // Refused on its head alone: nothing of an oversized body is ever kept.
    if (length_ > limits_.max_body) return fail(used, length_);
    state_ = State::body;
  }
  const std::span<const char> rest = bytes.subspan(used);
  if (storage_.empty() && rest.size() >= length_) {
    // The body whole in this feed: a view, no copy.
    body_ = std::string_view(rest.data(), static_cast<std::size_t>(length_));
    state_ = State::head;
    return {used + static_cast<std::size_t>(length_), Event::frame};
  }
  // Cut across feeds: collected once, in storage reserved for the whole body.
  if (storage_.empty()) storage_.reserve(static_cast<std::size_t>(length_));
  const std::size_t take =
      std::min<std::size_t>(rest.size(), static_cast<std::size_t>(length_) - storage_.size());
  storage_.append(rest.data(), take);
  used += take;
  if (storage_.size() < length_) return {used, Event::need_more};
  body_ = storage_;
  state_ = State::head;
  // The storage is cleared at the next feed (body() stays valid until then).
  return {used, Event::frame};
}

void append_frame(std::string& out, std::string_view body) {
  std::array<char, kHeaderSize> head{};
  write_length(body.size(), head);
  out.reserve(out.size() + kHeaderSize + body.size());
  out.append(head.data(), head.size());
  out.append(body);
}

void append_frame(std::string& out, const ProtoPackage& package) {
  const std::size_t size = package.ByteSizeLong();
  const std::size_t at = out.size();
  out.resize(at + kHeaderSize + size);
  write_length(size, std::span<char, kHeaderSize>(out.data() + at, kHeaderSize));
  package.SerializeWithCachedSizesToArray(
      reinterpret_cast<std::uint8_t*>(out.data() + at + kHeaderSize));
}

namespace {

// A protobuf varint at `at`, at most 10 bytes; false when it runs past `end` or is too long.
bool read_varint(const char*& at, const char* end, std::uint64_t& value) {
  value = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (at == end) return false;
    const auto byte = static_cast<std::uint8_t>(*at++);
    value |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
    if ((byte & 0x80U) == 0) return true;
  }
  return false;
}

// The package as every encoder writes it — [08 cmd] [12 length protocol], each optional, in
// this order, nothing else — read without protobuf's generic parser: the common case, in a
// fraction of its instructions. Anything else (fields repeated or out of order, unknown fields,
// a malformed varint) returns false and goes to the full parser, which has the last word.
bool parse_canonical(std::string_view body, ProtoPackage& package) {
  const char* at = body.data();
  const char* const end = at + body.size();
  std::uint64_t cmd = 0;
  if (at != end && *at == '\x08') {
    ++at;
    if (!read_varint(at, end, cmd)) return false;
  }
  std::string_view protocol;
  if (at != end && *at == '\x12') {
    ++at;
    std::uint64_t length = 0;
    if (!read_varint(at, end, length) || length > static_cast<std::uint64_t>(end - at)) {
      return false;
    }
    protocol = std::string_view(at, static_cast<std::size_t>(length));
    at += length;
  }
  if (at != end) return false;
  package.Clear();
  // An enum field keeps the low 32 bits of its varint, as protobuf's parser does.
  package.set_cmd(
      static_cast<ProtoCmd>(static_cast<std::int32_t>(static_cast<std::uint32_t>(cmd))));
  package.mutable_protocol()->assign(protocol.data(), protocol.size());  // keeps its capacity
  return true;
}

}  // namespace

bool parse_package(std::string_view body, ProtoPackage& package) {
  if (parse_canonical(body, package)) return true;
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  return package.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace avant::proto
