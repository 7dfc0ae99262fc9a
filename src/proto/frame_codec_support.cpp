// frame_codec_support.cpp — the given half of frame_codec.hpp (lab 07 does not rewrite this file):
// how the decoder records an error (fail), and the storage it holds for a frame cut across feeds
// and its release, and the encoder of an answer straight from its inner message. The decoder
// itself (feed), the length's eight bytes and the package encoders are in frame_codec.cpp.
#include <string>

#include <google/protobuf/message_lite.h>

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

}  // namespace

void append_frame(std::string& out, int cmd, const google::protobuf::MessageLite& message) {
  // An enum is an int32 on the wire: a negative one is its 64-bit sign extension (10 bytes).
  // proto3 writes neither a 0 command nor an empty protocol.
  const auto cmd_bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(cmd));
  const std::size_t inner = message.ByteSizeLong();
  const std::size_t body = (cmd != 0 ? 1 + varint_size(cmd_bits) : 0) +
                           (inner != 0 ? 1 + varint_size(inner) + inner : 0);
  const std::size_t at = out.size();
  out.resize(at + kHeaderSize + body);
  char* p = out.data() + at;
  write_length(body, std::span<char, kHeaderSize>(p, kHeaderSize));
  p += kHeaderSize;
  if (cmd != 0) {
    *p++ = kCmdTag;
    p = put_varint(p, cmd_bits);
  }
  if (inner != 0) {
    *p++ = kProtocolTag;
    p = put_varint(p, inner);
    message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(p));
  }
}

}  // namespace avant::proto
