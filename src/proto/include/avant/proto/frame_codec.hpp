// frame_codec.hpp — Avant's stream frame, sans-IO: an 8-byte big-endian length N, then N bytes of
// one serialized ProtoPackage (docs/original-avant.md, "Frames on the wire").
//
//   00 00 00 00 00 00 00 0c | 12 0a 0a 08 61 61 61 61 61 61 61 61    the echo example's request:
//   N = 12 (the body only)  | ProtoPackage { protocol = ... }         20 bytes on the wire
//
//   feed(20 bytes)            -> {consumed = 20, frame}   body() is a view of those 12 bytes
//   feed(first 5 bytes)       -> {consumed = 5, need_more}
//   feed(the other 15)        -> {consumed = 15, frame}   body() is the decoder's copy
//
// It stops after each frame, so the caller handles one package before it reads on; feed the bytes
// it did not consume again with what arrives next. The result is the same however the bytes are
// split. A frame whole in one feed() is reported as a view of the caller's bytes, without a copy;
// a frame cut across feeds is collected once in the decoder (its length is known first, so the
// storage is reserved once).
//
// Refused, before a byte of the body is kept: a length over limits.max_body (the original's
// 10240 by default; a 2^63 length included, never an overflow). N = 0 is a frame with an empty
// body: an empty ProtoPackage, command 0 (the original waited for more bytes for ever). After an
// error the decoder stays failed; the connection is to be closed.
//
// Threads: a FrameDecoder is used by one thread at a time (its connection's loop); the free
// functions are plain functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace avant {
class ProtoPackage;  // proto/avant.proto, generated into <avant/proto/avant.pb.h>
}
namespace google::protobuf {
class MessageLite;
}
namespace avant::net {
class Buffer;  // <avant/net/buffer.hpp>
}

namespace avant::proto {

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::uint64_t kOriginalMaxBody = 10240;  // the original's stream limit

struct FrameLimits {
  std::uint64_t max_body = kOriginalMaxBody;  // bytes of one frame's body; over it: an error
};

class FrameDecoder {
 public:
  enum class Event : std::uint8_t { need_more, frame, error };
  struct Result {
    std::size_t consumed = 0;  // bytes of the input used; the rest belongs to the next call
    Event event = Event::need_more;
  };

  explicit FrameDecoder(FrameLimits limits = {}) noexcept : limits_(limits) {}

  // Reads until a frame is whole, the bytes run out, or an error.
  Result feed(std::span<const char> bytes);

  // After `frame`: the body, a view of the bytes passed to feed() or of the decoder's storage;
  // valid until the next feed() and as long as the caller keeps those bytes.
  [[nodiscard]] std::string_view body() const noexcept { return body_; }
  // After `error`: why, for the log ("a frame of 18446744073709551615 bytes is over the limit of
  // 10240").
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }
  // Between frames with nothing held: a new decoder would carry on the same.
  [[nodiscard]] bool at_rest() const noexcept { return state_ == State::head && head_have_ == 0; }
  // Heap bytes held for a frame cut across feeds; release_storage() frees them at rest.
  [[nodiscard]] std::size_t storage() const noexcept;
  void release_storage() noexcept;
  [[nodiscard]] const FrameLimits& limits() const noexcept { return limits_; }

 private:
  enum class State : std::uint8_t { head, body, failed };

  Result fail(std::size_t consumed, std::uint64_t length);

  FrameLimits limits_;
  std::uint64_t length_ = 0;  // the body's length, once the head is read
  std::string storage_;       // a body (or a head) cut across feeds
  std::string_view body_;
  std::string error_;
  std::array<char, kHeaderSize> head_{};
  std::uint8_t head_have_ = 0;  // head bytes collected across feeds
  State state_ = State::head;
};

// The 8-byte big-endian length.
[[nodiscard]] std::uint64_t read_length(std::span<const char, kHeaderSize> head) noexcept;
void write_length(std::uint64_t length, std::span<char, kHeaderSize> head) noexcept;

// Appends one frame: the length of `body`, then `body`.
void append_frame(std::string& out, std::string_view body);
// Appends `package` as one frame: its size is known before it is serialized, so the head and the
// body are written in place in one go (no temporary copy of the body).
void append_frame(std::string& out, const ProtoPackage& package);
// Appends one frame holding ProtoPackage{cmd, protocol = message}, without making the package:
// the inner message is serialized straight into `out`, after the head and the package's two
// field tags (the bytes are those of append_frame(out, package) for the same package). How an
// answer goes out with no allocation but `out`'s own growth. (Given code: frame_codec_support.cpp.)
void append_frame(std::string& out, int cmd, const google::protobuf::MessageLite& message);
// The same into a Buffer, written in its free room (a string's resize would zero it first):
// false, with nothing written, when the frame would take the buffer past its max_size().
// (Given code: frame_codec_support.cpp.)
[[nodiscard]] bool append_frame(net::Buffer& out, int cmd,
                                const google::protobuf::MessageLite& message);
// Parses a frame's body: false when the bytes are not a ProtoPackage (the connection is then to
// be closed).
[[nodiscard]] bool parse_package(std::string_view body, ProtoPackage& package);

// A package read in place: its command and a view of its inner bytes (the `protocol` field),
// valid as long as the bytes it was read from.
struct PackageView {
  int cmd = 0;
  std::string_view protocol;
};
// Reads a body written the way every encoder writes a ProtoPackage — [08 cmd] [12 length
// protocol], each optional, in this order, nothing else — without protobuf's parser and without
// copying the inner bytes. Anything else (a field repeated or out of order, an unknown field, a
// varint cut short) is nullopt: parse_package(), protobuf's full parser, has the last word on it.
// (Given code: frame_codec_support.cpp.)
[[nodiscard]] std::optional<PackageView> view_package(std::string_view body) noexcept;

}  // namespace avant::proto
