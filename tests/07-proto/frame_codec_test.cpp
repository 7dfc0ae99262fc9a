// Chapter 07 — the stream frame from byte arrays: the original's echo example both ways, byte for
// byte; every split of a stream of frames; an empty frame; the limit, the limit + 1 and a 2^63
// length refused on the head alone; a truncated stream; garbage; 100 frames in one read; bytes
// fields carrying NULs; a body that is not a ProtoPackage.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <avant/proto/avant.pb.h>
#include <avant/proto/frame_codec.hpp>

#include <gtest/gtest.h>

#include "wire.hpp"

namespace avant::proto {
namespace {

using testing::bytes;
using testing::echo_answer;
using testing::echo_request;

using Event = FrameDecoder::Event;

ProtoPackage package(ProtoCmd cmd, const google::protobuf::MessageLite& inner) {
  ProtoPackage p;
  p.set_cmd(cmd);
  p.set_protocol(inner.SerializeAsString());
  return p;
}

// Every frame body of `stream` fed in pieces of `piece` bytes (0: whole), as copies; the events
// after the last byte are need_more or an error, which `error` reports.
std::vector<std::string> decode(const std::string& stream, std::size_t piece, std::string* error,
                                FrameLimits limits = {}) {
  FrameDecoder d(limits);
  std::vector<std::string> bodies;
  std::string pending;
  std::size_t at = 0;
  while (at < stream.size() || !pending.empty()) {
    if (at < stream.size()) {
      const std::size_t n = piece == 0 ? stream.size() : std::min(piece, stream.size() - at);
      pending.append(stream, at, n);
      at += n;
    }
    const auto r = d.feed({pending.data(), pending.size()});
    if (r.event == Event::error) {
      *error = d.error();
      return bodies;
    }
    if (r.event == Event::frame) bodies.emplace_back(d.body());
    pending.erase(0, r.consumed);
    if (r.event == Event::need_more && at >= stream.size()) break;
  }
  return bodies;
}

TEST(FrameCodec, TheEchoExampleIsTheOriginalsBytesBothWays) {
  ProtoCSReqExample req;
  req.set_testcontext("aaaaaaaa");
  std::string out;
  append_frame(out, package(PROTO_CMD_CS_REQ_EXAMPLE, req));
  EXPECT_EQ(out, echo_request) << "command 0 is proto3's default: not written";

  FrameDecoder d;
  const auto r = d.feed({echo_request.data(), echo_request.size()});
  ASSERT_EQ(r.event, Event::frame);
  EXPECT_EQ(r.consumed, echo_request.size());
  ProtoPackage in;
  ASSERT_TRUE(parse_package(d.body(), in));
  EXPECT_EQ(in.cmd(), PROTO_CMD_CS_REQ_EXAMPLE);
  ProtoCSReqExample got;
  ASSERT_TRUE(got.ParseFromString(in.protocol()));
  EXPECT_EQ(got.testcontext(), "aaaaaaaa");

  ProtoCSResExample res;
  res.set_testcontext(got.testcontext());
  std::string answer;
  append_frame(answer, package(PROTO_CMD_CS_RES_EXAMPLE, res));
  EXPECT_EQ(answer, echo_answer);
}

TEST(FrameCodec, AFrameWholeInOneFeedIsAViewOfTheInput) {
  FrameDecoder d;
  const auto r = d.feed({echo_request.data(), echo_request.size()});
  ASSERT_EQ(r.event, Event::frame);
  EXPECT_EQ(d.body().data(), echo_request.data() + kHeaderSize) << "copied instead of viewed";
  EXPECT_EQ(d.storage(), 0u);
}

TEST(FrameCodec, TheSameFramesAtEverySplit) {
  // Three frames of different sizes, the middle one empty.
  std::string stream;
  append_frame(stream, std::string_view("first"));
  append_frame(stream, std::string_view());
  append_frame(stream, std::string(300, 'x'));
  const std::vector<std::string> want = {"first", "", std::string(300, 'x')};
  for (std::size_t piece = 0; piece <= stream.size(); ++piece) {
    std::string error;
    EXPECT_EQ(decode(stream, piece, &error), want) << "pieces of " << piece;
    EXPECT_EQ(error, "");
  }
  // And cut once at every point, two feeds.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    std::vector<std::string> got;
    std::string pending = stream.substr(0, cut);
    for (int feeds = 0; feeds < 2; ++feeds) {
      if (feeds == 1) pending += stream.substr(cut);
      for (;;) {
        const auto r = d.feed({pending.data(), pending.size()});
        ASSERT_NE(r.event, Event::error);
        if (r.event == Event::frame) got.emplace_back(d.body());
        pending.erase(0, r.consumed);
        if (r.event == Event::need_more) break;
      }
    }
    EXPECT_EQ(got, want) << "cut at " << cut;
    EXPECT_TRUE(d.at_rest());
  }
}

TEST(FrameCodec, AnEmptyFrameIsAnEmptyPackageNotAStall) {
  const std::string empty(8, '\0');
  FrameDecoder d;
  const auto r = d.feed({empty.data(), empty.size()});
  ASSERT_EQ(r.event, Event::frame);
  EXPECT_EQ(r.consumed, 8u);
  EXPECT_TRUE(d.body().empty());
  ProtoPackage p;
  EXPECT_TRUE(parse_package(d.body(), p));
  EXPECT_EQ(p.cmd(), PROTO_CMD_CS_REQ_EXAMPLE);
  EXPECT_TRUE(p.protocol().empty());
}

TEST(FrameCodec, TheLimitPassesAndOneByteMoreIsRefusedOnTheHeadAlone) {
  const FrameLimits limits{.max_body = 10240};
  std::string at_limit;
  append_frame(at_limit, std::string(10240, 'l'));
  std::string error;
  EXPECT_EQ(decode(at_limit, 1000, &error, limits).size(), 1u);
  EXPECT_EQ(error, "");

  // Only the head of the oversized frame is given: it is refused before any body byte arrives.
  std::string head(8, '\0');
  write_length(10241, std::span<char, kHeaderSize>(head.data(), kHeaderSize));
  FrameDecoder d(limits);
  const auto r = d.feed({head.data(), head.size()});
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(r.consumed, 8u);
  EXPECT_EQ(d.error(), "a frame of 10241 bytes is over the limit of 10240");
  EXPECT_EQ(d.storage(), 0u) << "nothing of the oversized body is kept";
  EXPECT_TRUE(d.failed());
  const auto again = d.feed({echo_request.data(), echo_request.size()});
  EXPECT_EQ(again.event, Event::error) << "a failed decoder stays failed";
  EXPECT_EQ(again.consumed, 0u);
}

TEST(FrameCodec, A2To63LengthIsRefusedNotOverflowed) {
  for (const std::uint64_t length : {std::uint64_t{1} << 63U, ~std::uint64_t{0}}) {
    std::string head(8, '\0');
    write_length(length, std::span<char, kHeaderSize>(head.data(), kHeaderSize));
    EXPECT_EQ(read_length(std::span<const char, kHeaderSize>(head.data(), kHeaderSize)), length);
    // Byte by byte: the refusal comes with the eighth byte, whatever the split.
    FrameDecoder d;
    for (std::size_t i = 0; i < 7; ++i)
      ASSERT_EQ(d.feed({head.data() + i, 1}).event, Event::need_more);
    EXPECT_EQ(d.feed({head.data() + 7, 1}).event, Event::error);
    EXPECT_NE(d.error().find(std::to_string(length)), std::string::npos) << d.error();
  }
}

TEST(FrameCodec, ATruncatedStreamWaitsAndHoldsOnlyTheBodyItWasPromised) {
  std::string frame;
  append_frame(frame, std::string(1000, 'b'));
  FrameDecoder d;
  const std::string cut = frame.substr(0, 15);  // the head and 7 of 1000 body bytes
  const auto r = d.feed({cut.data(), cut.size()});
  EXPECT_EQ(r.event, Event::need_more);
  EXPECT_EQ(r.consumed, cut.size());
  EXPECT_FALSE(d.at_rest());
  EXPECT_GE(d.storage(), 1000u);
  EXPECT_LT(d.storage(), 1100u) << "storage reserved once for the promised body, not grown";
  const std::string rest = frame.substr(15);
  ASSERT_EQ(d.feed({rest.data(), rest.size()}).event, Event::frame);
  EXPECT_EQ(d.body(), frame.substr(8));
  EXPECT_TRUE(d.at_rest());
  d.release_storage();
  EXPECT_EQ(d.storage(), 0u);
}

TEST(FrameCodec, GarbageIsEitherOverTheLimitOrNotAPackage) {
  // Text where a length should be: "GET / HT" is a length of 5,135,603,447,292,250,196.
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  FrameDecoder d;
  EXPECT_EQ(d.feed({http.data(), http.size()}).event, Event::error);
  // A small length whose body is not protobuf: framed fine, refused by the parse.
  std::string frame;
  append_frame(frame, bytes({0xff, 0xff, 0xff, 0xff}));
  FrameDecoder d2;
  ASSERT_EQ(d2.feed({frame.data(), frame.size()}).event, Event::frame);
  ProtoPackage p;
  EXPECT_FALSE(parse_package(d2.body(), p));
}

TEST(FrameCodec, AHundredFramesInOneReadComeOutOneByOne) {
  std::string stream;
  for (int i = 0; i < 100; ++i) {
    ProtoCSReqExample req;
    req.set_testcontext("message " + std::to_string(i));
    append_frame(stream, package(PROTO_CMD_CS_REQ_EXAMPLE, req));
  }
  FrameDecoder d;
  std::string_view rest = stream;
  for (int i = 0; i < 100; ++i) {
    const auto r = d.feed({rest.data(), rest.size()});
    ASSERT_EQ(r.event, Event::frame) << i;
    ProtoPackage p;
    ASSERT_TRUE(parse_package(d.body(), p));
    ProtoCSReqExample req;
    ASSERT_TRUE(req.ParseFromString(p.protocol()));
    EXPECT_EQ(req.testcontext(), "message " + std::to_string(i));
    rest.remove_prefix(r.consumed);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(d.storage(), 0u) << "frames whole in the read are never copied";
}

TEST(FrameCodec, BytesFieldsCarryEveryByteValueNulIncluded) {
  std::string all;
  for (int v = 0; v < 256; ++v)
    all += static_cast<char>(v);
  ProtoCSReqExample req;
  req.set_testcontext(all);  // the original cut such fields at the first NUL
  std::string stream;
  append_frame(stream, package(PROTO_CMD_CS_REQ_EXAMPLE, req));
  std::string error;
  const auto bodies = decode(stream, 7, &error);
  ASSERT_EQ(bodies.size(), 1u) << error;
  ProtoPackage p;
  ASSERT_TRUE(parse_package(bodies[0], p));
  ProtoCSReqExample got;
  ASSERT_TRUE(got.ParseFromString(p.protocol()));
  EXPECT_EQ(got.testcontext(), all);
}

TEST(FrameCodec, AnAnswerFramedFromItsMessageIsTheSameBytesAsFromItsPackage) {
  // append_frame(out, cmd, message) skips the package; its bytes must be the package's.
  for (const int cmd : {0, 1, 15, 300, -1}) {
    for (const std::string& text : {std::string(), std::string("aaaaaaaa"), std::string(200, 'x'),
                                    std::string("\0\xff", 2)}) {
      ProtoCSResExample message;
      message.set_testcontext(text);
      ProtoPackage package;
      package.set_cmd(static_cast<ProtoCmd>(cmd));
      package.set_protocol(message.SerializeAsString());
      std::string want = "prefix";
      append_frame(want, package);
      std::string got = "prefix";
      append_frame(got, cmd, message);
      EXPECT_EQ(got, want) << "cmd " << cmd << ", " << text.size() << " bytes";
    }
  }
}

TEST(FrameCodec, ParsingAgreesWithProtobufOnCanonicalAndOtherEncodings) {
  // parse_package (and view_package, which it may use) reads the usual encoding by hand and
  // leaves the rest to protobuf: both must give the same answer on every kind of body.
  for (const std::string& body : {
           std::string(),
           bytes({0x08, 0x01}),
           bytes({0x12, 0x00}),
           bytes({0x08, 0x00}),
           bytes({0x08, 0x01, 0x12, 0x02, 'h', 'i'}),
           bytes({0x12, 0x02, 'h', 'i', 0x08, 0x01}),  // out of order
           bytes({0x08, 0x01, 0x08, 0x02}),            // repeated: the last wins
           bytes({0x12, 0x01, 'a', 0x12, 0x01, 'b'}),  // the last bytes win
           bytes({0x08, 0x01, 0x1a, 0x01, 'x'}),       // an unknown field 3
           bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),  // -1
           bytes({0x08, 0x80, 0x80, 0x80, 0x80, 0x10}),  // 2^32: low 32 bits kept
           bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
           bytes({0x08}),
           bytes({0x12, 0x05, 'a'}),
           bytes({0x12, 0x80}),
           bytes({0xff}),
       }) {
    ProtoPackage ours;
    ProtoPackage theirs;
    const bool parsed = parse_package(body, ours);
    ASSERT_EQ(parsed, theirs.ParseFromString(body)) << ::testing::PrintToString(body);
    if (parsed) {
      EXPECT_EQ(ours.cmd(), theirs.cmd()) << ::testing::PrintToString(body);
      EXPECT_EQ(ours.protocol(), theirs.protocol()) << ::testing::PrintToString(body);
      EXPECT_EQ(ours.SerializeAsString(), theirs.SerializeAsString());
    }
    // The in-place reader takes only the usual encoding, and reads it as protobuf does.
    if (const std::optional<PackageView> view = view_package(body)) {
      ASSERT_TRUE(parsed) << ::testing::PrintToString(body);
      EXPECT_EQ(view->cmd, theirs.cmd()) << ::testing::PrintToString(body);
      EXPECT_EQ(view->protocol, theirs.protocol()) << ::testing::PrintToString(body);
    }
  }
  // ... and views the inner bytes where they are.
  const std::string usual = bytes({0x08, 0x01, 0x12, 0x02, 'h', 'i'});
  const std::optional<PackageView> view = view_package(usual);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->protocol.data(), usual.data() + 4);
  for (const std::string& other :
       {bytes({0x12, 0x02, 'h', 'i', 0x08, 0x01}), bytes({0x08, 0x01, 0x08, 0x02}),
        bytes({0x08, 0x01, 0x1a, 0x01, 'x'})}) {
    EXPECT_FALSE(view_package(other).has_value()) << "left to protobuf's parser";
  }
}

}  // namespace
}  // namespace avant::proto
