// proto_frames_fuzz.cpp — libFuzzer target: the stream frame decoder (chapter 07).
//
// Input: one control byte (a 64-byte or the original's 10240-byte limit, where to cut), then a
// peer's bytes. Properties:
//   - consumed never exceeds the input; a failed decoder stays failed and consumes nothing;
//   - every body is within the limit, and an error names a length over it;
//   - the same bodies and outcome whole, cut in two, and one byte at a time;
//   - the bodies framed again are the bytes the decoder consumed;
//   - a body that parses as a ProtoPackage serializes to a package that parses back the same.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

#include "fuzz_check.hpp"

namespace {

using avant::proto::FrameDecoder;

struct Outcome {
  std::vector<std::string> bodies;
  bool failed = false;
  std::size_t consumed = 0;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  return std::to_string(o.bodies.size()) + " frame(s), " + (o.failed ? "failed" : "ok") + ", " +
         std::to_string(o.consumed) + " consumed; ";
}

Outcome decode(const std::vector<std::string_view>& pieces, avant::proto::FrameLimits limits) {
  FrameDecoder d(limits);
  Outcome o;
  std::string pending;
  for (const std::string_view piece : pieces) {
    pending.append(piece);
    for (;;) {
      const auto r = d.feed({pending.data(), pending.size()});
      FUZZ_CHECK(r.consumed <= pending.size());
      o.consumed += r.consumed;
      if (r.event == FrameDecoder::Event::error) {
        FUZZ_CHECK(d.failed() && !d.error().empty());
        FUZZ_CHECK(d.feed({pending.data(), pending.size()}).consumed == 0);
        o.failed = true;
        return o;
      }
      if (r.event == FrameDecoder::Event::frame) {
        FUZZ_CHECK(d.body().size() <= limits.max_body);
        o.bodies.emplace_back(d.body());
      }
      pending.erase(0, r.consumed);
      if (r.event == FrameDecoder::Event::need_more) break;
    }
  }
  return o;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const avant::proto::FrameLimits limits{.max_body = (control & 1U) != 0 ? 64U : 10240U};
  const std::size_t cut = bytes.empty() ? 0 : (control >> 1U) % (bytes.size() + 1);

  const Outcome whole = decode({bytes}, limits);
  avant::fuzz::check_same_at_splits(
      bytes, cut, whole,
      [&](const std::vector<std::string_view>& pieces) { return decode(pieces, limits); }, show);

  std::string reframed;
  for (const std::string& body : whole.bodies)
    avant::proto::append_frame(reframed, body);
  if (!whole.failed) {
    FUZZ_CHECK_MSG(bytes.substr(0, reframed.size()) == reframed, show(whole));
  }

  for (const std::string& body : whole.bodies) {
    avant::ProtoPackage p;
    // parse_package reads the common encoding itself: it must agree with protobuf's parser on
    // every body, whether the body parses or not, and on what it holds.
    avant::ProtoPackage reference;
    const bool parsed = avant::proto::parse_package(body, p);
    FUZZ_CHECK(parsed == reference.ParseFromArray(body.data(), static_cast<int>(body.size())));
    // So must the in-place reader of the usual encoding, on the bodies it takes.
    if (const std::optional<avant::proto::PackageView> view = avant::proto::view_package(body)) {
      FUZZ_CHECK(parsed && view->cmd == reference.cmd() && view->protocol == reference.protocol());
    }
    if (!parsed) continue;
    FUZZ_CHECK(reference.cmd() == p.cmd() && reference.protocol() == p.protocol());
    std::string again;
    avant::proto::append_frame(again, p);
    avant::ProtoPackage q;
    FUZZ_CHECK(avant::proto::parse_package(std::string_view(again).substr(8), q));
    FUZZ_CHECK(q.cmd() == p.cmd() && q.protocol() == p.protocol());
  }
  return 0;
}
