// frame_codec.cpp — the stream frame's decoder and encoder (frame_codec.hpp). Lab 07 rewrites this
// file; fail(), storage(), release_storage() and view_package() are in frame_codec_support.cpp.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
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
  std::size_t used = 0;
  if (state_ == State::head) {
    storage_.clear();  // the last frame's body, if it was collected
    if (head_have_ == 0 && bytes.size() >= kHeaderSize) {
      // The common case: the head whole in this feed, read in place.
      length_ = read_length(bytes.first<kHeaderSize>());
      used = kHeaderSize;
      // Refused on its head alone: nothing of an oversized body is ever kept.
      if (length_ > limits_.max_body) return fail(used, length_);
      if (bytes.size() - kHeaderSize >= length_) {
        // ... and the body too: a view, no copy. (The state stays `head`.)
        body_ = std::string_view(bytes.data() + kHeaderSize, static_cast<std::size_t>(length_));
        return {kHeaderSize + static_cast<std::size_t>(length_), Event::frame};
      }
    } else {
      const std::size_t take = std::min<std::size_t>(kHeaderSize - head_have_, bytes.size());
      std::copy_n(bytes.begin(), take, head_.begin() + head_have_);
      head_have_ = static_cast<std::uint8_t>(head_have_ + take);
      used = take;
      if (head_have_ < kHeaderSize) return {used, Event::need_more};
      head_have_ = 0;
      length_ = read_length(head_);
      if (length_ > limits_.max_body) return fail(used, length_);
    }
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
  // The usual encoding read in place (given: view_package); `protocol` is assigned, so the
  // package's string keeps its capacity from one package to the next.
  if (const std::optional<PackageView> view = view_package(body)) {
    package.Clear();
    package.set_cmd(static_cast<ProtoCmd>(view->cmd));
    package.mutable_protocol()->assign(view->protocol.data(), view->protocol.size());
    return true;
  }
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  return package.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace avant::proto
