// frame_codec_support.cpp — the given half of frame_codec.hpp (lab 07 does not rewrite this file):
// how the decoder records an error (fail), and the storage it holds for a frame cut across feeds
// and its release. The decoder itself (feed), the length's eight bytes and the encoders are in
// frame_codec.cpp.
#include <string>

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

}  // namespace avant::proto
