// frame_codec.cpp — the stream frame's decoder and encoder (frame_codec.hpp). Lab 07 rewrites this
// file; fail(), storage() and release_storage() are in frame_codec_support.cpp.
#include <algorithm>
#include <limits>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

namespace avant::proto {

std::uint64_t read_length(std::span<const char, kHeaderSize> head) noexcept {
  std::uint64_t n = 0;
  for (const char c : head)
    n = (n << 8U) | static_cast<std::uint8_t>(c);
  return n;
}

void write_length(std::uint64_t length, std::span<char, kHeaderSize> head) noexcept {
  for (std::size_t i = 0; i < kHeaderSize; ++i)
    head[i] = static_cast<char>(static_cast<std::uint8_t>(length >> (56U - 8U * i)));
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

bool parse_package(std::string_view body, ProtoPackage& package) {
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  return package.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace avant::proto
