// Lab 07 — the stream frame: the 8-byte big-endian length, the sans-IO FrameDecoder, the two
// encoders and the body's parse. Contract, with the frame drawn and the decoder's members:
// src/proto/include/avant/proto/frame_codec.hpp. Given, in src/proto/frame_codec_support.cpp:
// fail(consumed, length), which records the over-the-limit error and returns {consumed, error},
// storage(), release_storage() and view_package(), which reads the usual encoding of a package in
// place (your parse_package may start with it). The schema's generated classes are in <avant/proto/avant.pb.h>.
// Tests: ctest -L ch07 (07.FrameCodec*, then every test that sends a frame).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

namespace avant::proto {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(07): ") + what);
}

// For the noexcept functions: a TODO cannot be thrown from there, so the lab says it loudly and
// stops.
[[noreturn]] void todo_noexcept(const char* what) noexcept {
  std::fputs("TODO(07): ", stderr);
  std::fputs(what, stderr);
  std::fputs("\n", stderr);
  std::abort();
}
}  // namespace

std::uint64_t read_length(std::span<const char, kHeaderSize> head) noexcept {
  static_cast<void>(head);
  // `char` may be signed: a byte 0x80 or above read as a char is negative, and widened as it is
  // it fills the high bits with ones. Go through std::uint8_t.
  todo_noexcept(
      "read_length: the 8 bytes as one unsigned 64-bit number, most significant byte first "
      "(00 00 00 00 00 00 00 0c -> 12; ff x 8 -> 2^64 - 1)");
}

void write_length(std::uint64_t length, std::span<char, kHeaderSize> head) noexcept {
  static_cast<void>(length);
  static_cast<void>(head);
  todo_noexcept(
      "write_length: the 8 bytes of `length`, most significant first (head[0] = length >> 56, "
      "..., head[7] = length & 0xff); read_length(head) gives `length` back");
}

FrameDecoder::Result FrameDecoder::feed(std::span<const char> bytes) {
  static_cast<void>(bytes);
  // The order that keeps every split alike:
  //  - body_ is reset first (it is valid until the next feed only); failed -> {0, error}, always.
  //  - In state head, a body collected by the last frame is dropped (storage_.clear()): the
  //    caller has handled that frame by now.
  //  - The head: 8 bytes whole in this input with none held -> read them in place; else copy
  //    what is here into head_ (head_have_ counts them, across feeds) and return need_more
  //    until there are 8. head_have_ back to 0 once the head is read: at_rest() reads it.
  //  - The limit on the head alone: length_ > limits_.max_body -> fail(used, length_), before a
  //    single byte of the body is kept or space reserved for it. 2^63 and 2^64 - 1 are only
  //    lengths over the limit: compare the length itself, never add it to a size.
  //  - N = 0 is a frame with an empty body, complete as soon as its head is: no byte to wait for.
  //  - The body whole in what is left of this input, nothing held -> body_ views the input (no
  //    copy, no reservation: storage() stays 0). Else storage_ is reserved once for length_
  //    (safe now: length_ is within the limit) and collects the bytes across feeds.
  //  - One frame per call: consumed stops at its last byte; many frames in one read come out one
  //    call at a time, and the caller feeds the rest again.
  todo(
      "FrameDecoder::feed: failed -> {0, error}; the 8-byte head (in place, or collected in "
      "head_ across feeds -> need_more); length_ > limits_.max_body -> fail(used, length_) on "
      "the head alone; the body whole here -> body_ views the input; else collected once in "
      "storage_ reserved for length_ -> need_more until whole; one frame per call, "
      "N = 0 included");
}

void append_frame(std::string& out, std::string_view body) {
  static_cast<void>(out);
  static_cast<void>(body);
  todo(
      "append_frame(out, body): write_length(body.size()) into an 8-byte head, then append the "
      "head and the body to `out` (which may hold earlier frames: append, never assign)");
}

void append_frame(std::string& out, const ProtoPackage& package) {
  static_cast<void>(out);
  static_cast<void>(package);
  // SerializeAsString() would make the body in a temporary string and copy it: the size is known
  // first, so the body can be written straight into `out`.
  todo(
      "append_frame(out, package): size = package.ByteSizeLong(); grow `out` by 8 + size; "
      "write_length(size) at the old end, then package.SerializeWithCachedSizesToArray() right "
      "after it, in place");
}

bool parse_package(std::string_view body, ProtoPackage& package) {
  static_cast<void>(body);
  static_cast<void>(package);
  // bytes fields carry every value 0-255, NUL included: pass the data and its size, never a
  // C string. ParseFromArray takes an int size.
  todo(
      "parse_package: false for a body protobuf cannot take (larger than INT_MAX) or that does "
      "not parse (ParseFromArray(body.data(), size)); true when `package` holds it");
}

}  // namespace avant::proto
