// frame_codec_support.cpp — the given half of frame_codec.hpp (lab 07 does not rewrite this file):
// how the decoder records an error (fail), and the storage it holds for a frame cut across feeds
// and its release, the encoder of an answer straight from its inner message, and the reader of a
// package in place (view_package). The decoder itself (feed), the length's eight bytes, the
// package encoders and parse_package are in frame_codec.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include <avant/net/buffer.hpp>
#include <avant/proto/frame_codec.hpp>

namespace avant::proto {

FrameDecoder::Result FrameDecoder::fail(std::size_t consumed, std::uint64_t length) {
  state_ = State::failed;
  error_ = "a frame of " + std::to_string(length) + " bytes is over the limit of " +
           std::to_string(limits_.max_body);
  return {consumed, Event::error};
}

std::size_t FrameDecoder::storage() const noexcept {
  // A string's inline buffer (its capacity when empty) is part of the decoder, not the heap.
  const std::size_t inline_capacity = std::string().capacity();
  return storage_.capacity() > inline_capacity ? storage_.capacity() : 0;
}

void FrameDecoder::release_storage() noexcept {
  // In the middle of a body the storage holds bytes already consumed from the caller: kept.
  if (state_ != State::body) {
    storage_.clear();
    storage_.shrink_to_fit();
  }
}

namespace {

// protobuf's base-128 varint: 7 bits a byte, low first, the top bit set on all but the last.
std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7U;
    ++n;
  }
  return n;
}

char* put_varint(char* at, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *at++ = static_cast<char>((v & 0x7FU) | 0x80U);
    v >>= 7U;
  }
  *at++ = static_cast<char>(v);
  return at;
}

// The ProtoPackage fields' tags: (number << 3) | wire type.
constexpr char kCmdTag = (1 << 3) | 0;       // cmd = 1, a varint
constexpr char kProtocolTag = (2 << 3) | 2;  // protocol = 2, length-delimited

// A protobuf varint at `at`, at most 10 bytes; false when it runs past `end` or is too long.
bool read_varint(const char*& at, const char* end, std::uint64_t& value) noexcept {
  value = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (at == end) return false;
    const auto byte = static_cast<std::uint8_t>(*at++);
    value |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
    if ((byte & 0x80U) == 0) return true;
  }
  return false;
}

}  // namespace

std::optional<PackageView> view_package(std::string_view body) noexcept {
  const char* at = body.data();
  const char* const end = at + body.size();
  std::uint64_t cmd = 0;
  if (at != end && *at == kCmdTag) {
    ++at;
    if (!read_varint(at, end, cmd)) return std::nullopt;
  }
  std::string_view protocol;
  if (at != end && *at == kProtocolTag) {
    ++at;
    std::uint64_t length = 0;
    if (!read_varint(at, end, length) || length > static_cast<std::uint64_t>(end - at)) {
      return std::nullopt;
    }
    protocol = std::string_view(at, static_cast<std::size_t>(length));
    at += length;
  }
  if (at != end) return std::nullopt;
  // An enum field keeps the low 32 bits of its varint, as protobuf's parser does.
  return PackageView{static_cast<std::int32_t>(static_cast<std::uint32_t>(cmd)), protocol};
}

namespace {

// The frame of ProtoPackage{cmd, protocol = message}, measured first (frame_size), then written
// at `p` (put_frame), which has room for frame_size() bytes. An enum is an int32 on the wire: a
// negative one is its 64-bit sign extension (10 bytes). proto3 writes neither a 0 command nor an
// empty protocol.
struct FrameShape {
  std::uint64_t cmd_bits;
  std::size_t inner;  // the message's size (cached in it by ByteSizeLong)
  std::size_t body;   // the package's size, the frame's head

  FrameShape(int cmd, const google::protobuf::MessageLite& message)
      : cmd_bits(static_cast<std::uint64_t>(static_cast<std::int64_t>(cmd))),
        inner(message.ByteSizeLong()),
        body((cmd != 0 ? 1 + varint_size(cmd_bits) : 0) +
             (inner != 0 ? 1 + varint_size(inner) + inner : 0)) {}
  [[nodiscard]] std::size_t frame_size() const noexcept { return kHeaderSize + body; }
};

void put_frame(char* p, const FrameShape& shape, const google::protobuf::MessageLite& message) {
  write_length(shape.body, std::span<char, kHeaderSize>(p, kHeaderSize));
  p += kHeaderSize;
  if (shape.cmd_bits != 0) {
    *p++ = kCmdTag;
    p = put_varint(p, shape.cmd_bits);
  }
  if (shape.inner != 0) {
    *p++ = kProtocolTag;
    p = put_varint(p, shape.inner);
    message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(p));
  }
}

}  // namespace

void append_frame(std::string& out, int cmd, const google::protobuf::MessageLite& message) {
  const FrameShape shape(cmd, message);
  const std::size_t at = out.size();
  out.resize(at + shape.frame_size());
  put_frame(out.data() + at, shape, message);
}

bool append_frame(net::Buffer& out, int cmd, const google::protobuf::MessageLite& message) {
  const FrameShape shape(cmd, message);
  if (!out.ensure_writable(shape.frame_size())) return false;
  put_frame(out.begin_write(), shape, message);  // no zero-filling first, as a string's resize
  out.has_written(shape.frame_size());
  return true;
}

}  // namespace avant::proto
