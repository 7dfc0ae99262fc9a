// Chapter 06 — the frame codec from byte arrays: the RFC's own examples (§5.7) both ways, the
// same events at every split, and every way a peer can break the protocol, with its close code.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <avant/websocket/frame.hpp>
#include <avant/websocket/message_parser.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::websocket {
namespace {

using Event = MessageParser::Event;

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (const int b : list)
    s += static_cast<char>(static_cast<std::uint8_t>(b));
  return s;
}

constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};  // the RFC's examples use this key

// A frame as a client sends it (masked with kKey) or a server does (unmasked).
std::string frame(Role sender, Opcode op, std::string_view payload, bool fin = true,
                  bool rsv1 = false) {
  FrameHeader h;
  h.fin = fin;
  h.rsv1 = rsv1;
  h.opcode = op;
  h.masked = sender == Role::client;
  h.mask = kKey;
  std::string out;
  append_frame(out, h, payload);
  return out;
}
std::string from_client(Opcode op, std::string_view payload, bool fin = true, bool rsv1 = false) {
  return frame(Role::client, op, payload, fin, rsv1);
}

// What a parse produced, comparable between two parses.
struct Outcome {
  std::vector<std::string> events;  // "text[Hello]", "ping[]", "close 1000 [bye]", ...
  std::uint16_t error = 0;          // the close code of the error that ended it, or 0
  bool operator==(const Outcome&) const = default;
};

std::string describe(const MessageParser& p, Event e) {
  switch (e) {
    case Event::message:
      return std::string(p.opcode() == Opcode::text ? "text" : "binary") +
             (p.compressed() ? "(z)[" : "[") + std::string(p.payload()) + "]";
    case Event::ping:
      return "ping[" + std::string(p.payload()) + "]";
    case Event::pong:
      return "pong[" + std::string(p.payload()) + "]";
    case Event::close:
      return "close " + std::to_string(p.close_code()) + " [" + std::string(p.close_reason()) + "]";
    default:
      return "?";
  }
}

// Feeds `pieces` in order as a connection would: unconsumed bytes stay, more are appended.
Outcome parse(const std::vector<std::string_view>& pieces, Role role = Role::server,
              MessageLimits limits = {}, bool compression = false) {
  MessageParser parser(role, limits);
  parser.set_compression(compression);
  Outcome out;
  std::string pending;
  for (const std::string_view piece : pieces) {
    pending += piece;
    while (true) {
      const auto r = parser.feed({pending.data(), pending.size()});
      EXPECT_LE(r.consumed, pending.size());
      if (r.event == Event::error) {
        out.error = parser.error().code;
        return out;
      }
      if (r.event != Event::need_more) out.events.push_back(describe(parser, r.event));
      pending.erase(0, r.consumed);
      if (r.event == Event::need_more) break;
    }
  }
  return out;
}

Outcome parse_whole(std::string_view in, Role role = Role::server, MessageLimits limits = {},
                    bool compression = false) {
  return parse({in}, role, limits, compression);
}

void expect_same_at_every_split(std::string_view in, Role role = Role::server,
                                MessageLimits limits = {}) {
  const Outcome whole = parse_whole(in, role, limits);
  for (std::size_t cut = 1; cut < in.size(); ++cut) {
    ASSERT_EQ(parse({in.substr(0, cut), in.substr(cut)}, role, limits), whole)
        << "split at byte " << cut;
  }
  std::vector<std::string_view> single;
  for (std::size_t i = 0; i < in.size(); ++i)
    single.push_back(in.substr(i, 1));
  ASSERT_EQ(parse(single, role, limits), whole) << "fed one byte at a time";
}

TEST(Frame, TheRfcExamplesEncodeToTheirBytes) {
  EXPECT_EQ(frame(Role::server, Opcode::text, "Hello"),
            bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(from_client(Opcode::text, "Hello"),
            bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(frame(Role::server, Opcode::text, "Hel", false), bytes({0x01, 0x03, 'H', 'e', 'l'}));
  EXPECT_EQ(frame(Role::server, Opcode::continuation, "lo"), bytes({0x80, 0x02, 'l', 'o'}));
  EXPECT_EQ(frame(Role::server, Opcode::ping, "Hello"),
            bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(from_client(Opcode::pong, "Hello"),
            bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  // 256 bytes take the 16-bit length, 64 KiB the 64-bit one.
  EXPECT_EQ(frame(Role::server, Opcode::binary, std::string(256, 'x')).substr(0, 4),
            bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(frame(Role::server, Opcode::binary, std::string(65536, 'x')).substr(0, 10),
            bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(frame(Role::server, Opcode::binary, std::string(65535, 'x')).substr(0, 4),
            bytes({0x82, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(frame(Role::server, Opcode::binary, std::string(125, 'x')).substr(0, 2),
            bytes({0x82, 0x7D}));
}

TEST(Frame, MaskingPieceByPieceEqualsMaskingTheWhole) {
  std::string whole;
  for (int i = 0; i < 300; ++i)
    whole += static_cast<char>(i * 7);
  std::string once = whole;
  apply_mask(once.data(), once.size(), kKey, 0);
  for (std::size_t cut = 0; cut <= 37; ++cut) {
    std::string pieces = whole;
    apply_mask(pieces.data(), cut, kKey, 0);
    apply_mask(pieces.data() + cut, pieces.size() - cut, kKey, cut);
    ASSERT_EQ(pieces, once) << "cut at " << cut;
  }
  apply_mask(once.data(), once.size(), kKey, 0);
  EXPECT_EQ(once, whole) << "masking twice unmasks";
}

TEST(Frame, AClosePayloadKeepsItsReasonUnder124BytesAndWholeCharacters) {
  EXPECT_EQ(close_payload(1000, "bye"), bytes({0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(close_payload(close_code::kNoStatus, "ignored"), "");
  std::string long_reason;
  for (int i = 0; i < 70; ++i)
    long_reason += "\xce\xba";  // 140 bytes of "κ"
  const std::string p = close_payload(1001, long_reason);
  EXPECT_LE(p.size(), kMaxControlPayload);
  EXPECT_EQ(p.size(), 2u + 122u) << "cut before the character that would not fit";
}

TEST(Frame, CloseCodesAPeerMaySend) {
  for (const int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                         3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
  for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  }
}

TEST(MessageParser, TheRfcExamplesParse) {
  EXPECT_EQ(parse_whole(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), Role::client).events,
            std::vector<std::string>{"text[Hello]"});
  EXPECT_EQ(
      parse_whole(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})).events,
      std::vector<std::string>{"text[Hello]"});
  EXPECT_EQ(
      parse_whole(bytes({0x01, 0x03, 'H', 'e', 'l', 0x80, 0x02, 'l', 'o'}), Role::client).events,
      std::vector<std::string>{"text[Hello]"});
  EXPECT_EQ(parse_whole(bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}), Role::client).events,
            std::vector<std::string>{"ping[Hello]"});
  EXPECT_EQ(
      parse_whole(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})).events,
      std::vector<std::string>{"pong[Hello]"});
}

TEST(MessageParser, AConversationGivesTheSameEventsAtEverySplit) {
  const std::string big(300, 'b');  // a 16-bit length
  for (const Role sender : {Role::client, Role::server}) {
    std::string in;
    in += frame(sender, Opcode::text, "fragm", false);
    in += frame(sender, Opcode::ping, "are you there");
    in += frame(sender, Opcode::continuation, "ented \xce", false);  // "κ" cut in two fragments
    in += frame(sender, Opcode::continuation, "\xba");
    in += frame(sender, Opcode::binary, big);
    in += frame(sender, Opcode::text, "");
    in += frame(sender, Opcode::pong, "");
    in += frame(sender, Opcode::binary, "", false);
    in += frame(sender, Opcode::continuation, "");
    in += frame(sender, Opcode::close, close_payload(1000, "bye"));
    const Role reader = sender == Role::client ? Role::server : Role::client;
    const Outcome whole = parse_whole(in, reader);
    const std::vector<std::string> expected = {"ping[are you there]",
                                               "text[fragmented \xce\xba]",
                                               "binary[" + big + "]",
                                               "text[]",
                                               "pong[]",
                                               "binary[]",
                                               "close 1000 [bye]"};
    EXPECT_EQ(whole.events, expected);
    EXPECT_EQ(whole.error, 0);
    expect_same_at_every_split(in, reader);
  }
}

TEST(MessageParser, A64BitLengthMessageArrivesWhole) {
  std::string payload(70000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i % 251);
  const std::string in = from_client(Opcode::binary, payload);
  ASSERT_EQ(in.substr(0, 2), bytes({0x82, 0xFF}));
  const std::vector<std::string> expected = {"binary[" + payload + "]"};
  EXPECT_EQ(parse_whole(in).events, expected);
  for (const std::size_t cut : {1u, 2u, 9u, 13u, 14u, 15u, 4096u, 69999u}) {
    EXPECT_EQ(parse({std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}).events,
              expected)
        << "split at " << cut;
  }
}

TEST(MessageParser, AWholeFrameIsReportedWithoutACopy) {
  std::string in = from_client(Opcode::binary, "zero copy");
  MessageParser parser(Role::server);
  const auto r = parser.feed({in.data(), in.size()});
  ASSERT_EQ(r.event, Event::message);
  EXPECT_EQ(parser.payload(), "zero copy");
  EXPECT_EQ(parser.payload().data(), in.data() + 6) << "a view of the bytes fed, unmasked in place";
  EXPECT_EQ(parser.storage(), 0u);
}

TEST(MessageParser, ItStopsAfterEachEventAndConsumesOnlyThatFrame) {
  std::string in = from_client(Opcode::text, "one") + from_client(Opcode::text, "two");
  MessageParser parser(Role::server);
  const auto first = parser.feed({in.data(), in.size()});
  ASSERT_EQ(first.event, Event::message);
  EXPECT_EQ(first.consumed, in.size() / 2);
  EXPECT_EQ(parser.payload(), "one");
  const auto second = parser.feed({in.data() + first.consumed, in.size() - first.consumed});
  ASSERT_EQ(second.event, Event::message);
  EXPECT_EQ(parser.payload(), "two");
  // A header not yet whole is left to the caller, not taken.
  std::string part = from_client(Opcode::binary, std::string(300, 'x')).substr(0, 5);
  const auto third = parser.feed({part.data(), part.size()});
  EXPECT_EQ(third.event, Event::need_more);
  EXPECT_EQ(third.consumed, 0u);
}

struct Refusal {
  const char* name;
  std::string bytes;
  std::uint16_t code;
  Role reader = Role::server;
};

TEST(MessageParser, EveryProtocolErrorGetsItsCloseCodeAtEverySplit) {
  const std::vector<Refusal> cases = {
      {"RSV2 set", bytes({0xA1, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"RSV3 set", bytes({0x91, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"RSV1 without compression", from_client(Opcode::text, "x", true, true), 1002},
      {"reserved opcode 3", bytes({0x83, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"reserved opcode 7", bytes({0x87, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"reserved opcode 0xB", bytes({0x8B, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"reserved opcode 0xF", bytes({0x8F, 0x80, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"unmasked client frame", frame(Role::server, Opcode::text, "Hello"), 1002},
      {"masked server frame", from_client(Opcode::text, "Hello"), 1002, Role::client},
      {"fragmented ping", from_client(Opcode::ping, "x", false), 1002},
      {"ping of 126 bytes", from_client(Opcode::ping, std::string(126, 'p')), 1002},
      {"RSV1 on a ping", from_client(Opcode::ping, "x", true, true), 1002},
      {"continuation first", from_client(Opcode::continuation, "x"), 1002},
      {"a new message inside a message",
       from_client(Opcode::text, "a", false) + from_client(Opcode::binary, "b"), 1002},
      {"64-bit length with its top bit",
       bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x37, 0xfa, 0x21, 0x3d}), 1002},
      {"1-byte close payload", from_client(Opcode::close, "\x03"), 1002},
      {"close code 999", from_client(Opcode::close, bytes({0x03, 0xE7})), 1002},
      {"close code 1005", from_client(Opcode::close, bytes({0x03, 0xED})), 1002},
      {"close code 1006", from_client(Opcode::close, bytes({0x03, 0xEE})), 1002},
      {"close code 2999", from_client(Opcode::close, bytes({0x0B, 0xB7})), 1002},
      {"close code 5000", from_client(Opcode::close, bytes({0x13, 0x88})), 1002},
      {"close reason not UTF-8", from_client(Opcode::close, bytes({0x03, 0xE8, 0xC0, 0x80})), 1007},
      {"text not UTF-8", from_client(Opcode::text, "ok \xff"), 1007},
      {"a surrogate in text", from_client(Opcode::text, "\xed\xa0\x80"), 1007},
      {"text ending inside a character", from_client(Opcode::text, "\xce"), 1007},
      {"fragments ending inside a character",
       from_client(Opcode::text, "a", false) + from_client(Opcode::continuation, "\xe2\x82"), 1007},
      {"a message over the limit", from_client(Opcode::binary, std::string(101, 'x')), 1009},
      {"fragments over the limit",
       from_client(Opcode::binary, std::string(60, 'x'), false) +
           from_client(Opcode::continuation, std::string(41, 'y')),
       1009},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    const MessageLimits limits{.max_message = 100};
    EXPECT_EQ(parse_whole(c.bytes, c.reader, limits).error, c.code);
    expect_same_at_every_split(c.bytes, c.reader, limits);
  }
}

TEST(MessageParser, TheLimitIsRefusedAtTheHeaderBeforeThePayloadArrives) {
  // 64-bit length of 2^40: no byte of payload is needed to refuse it.
  const std::string head = bytes({0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0, 0x37, 0xfa, 0x21, 0x3d});
  std::string in = head;
  MessageParser parser(Role::server);
  const auto r = parser.feed({in.data(), in.size()});
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(parser.error().code, close_code::kMessageTooBig);
  // A limit exactly met is fine.
  EXPECT_EQ(parse_whole(from_client(Opcode::binary, std::string(100, 'x')), Role::server,
                        {.max_message = 100})
                .events.size(),
            1u);
}

TEST(MessageParser, BadUtf8FailsAtTheFirstBadByteNotAtTheMessagesEnd) {
  // A 1000-byte text frame whose 4th byte is invalid: refused with only 10 bytes of it here.
  std::string in = from_client(Opcode::text, "abc\xff" + std::string(996, 'x'));
  MessageParser parser(Role::server);
  const auto r = parser.feed({in.data(), 8 + 10});
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(parser.error().code, close_code::kInvalidPayload);
  // The same across fragments: the second fragment's first byte ends it.
  std::string first = from_client(Opcode::text, "ok", false);
  std::string second = from_client(Opcode::continuation, "\x80" + std::string(500, 'x'));
  MessageParser p2(Role::server);
  const auto r1 = p2.feed({first.data(), first.size()});
  EXPECT_EQ(r1.event, Event::need_more);
  EXPECT_EQ(r1.consumed, first.size());
  const auto r2 = p2.feed({second.data(), 8 + 3});  // its header and 3 of 501 bytes
  EXPECT_EQ(r2.event, Event::error);
  EXPECT_EQ(p2.error().code, close_code::kInvalidPayload);
}

TEST(MessageParser, AFailedParserStaysFailed) {
  std::string in = frame(Role::server, Opcode::text, "unmasked");
  MessageParser parser(Role::server);
  ASSERT_EQ(parser.feed({in.data(), in.size()}).event, Event::error);
  std::string good = from_client(Opcode::text, "fine");
  const auto r = parser.feed({good.data(), good.size()});
  EXPECT_EQ(r.event, Event::error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(parser.failed());
}

TEST(MessageParser, NothingIsReadAfterAClose) {
  std::string in = from_client(Opcode::close, "") + from_client(Opcode::text, "late");
  MessageParser parser(Role::server);
  const auto r = parser.feed({in.data(), in.size()});
  ASSERT_EQ(r.event, Event::close);
  EXPECT_EQ(parser.close_code(), close_code::kNoStatus);
  EXPECT_TRUE(parser.closed());
  const auto rest = parser.feed({in.data() + r.consumed, in.size() - r.consumed});
  EXPECT_EQ(rest.event, Event::need_more);
  EXPECT_EQ(rest.consumed, in.size() - r.consumed) << "dropped";
}

TEST(MessageParser, Rsv1MarksACompressedMessageOnceNegotiated) {
  const std::string in = from_client(Opcode::text, "\xff not inflated yet", false, true) +
                         from_client(Opcode::continuation, "!");
  const Outcome out = parse_whole(in, Role::server, {}, /*compression=*/true);
  EXPECT_EQ(out.error, 0) << "UTF-8 is checked after inflating, not on compressed bytes";
  EXPECT_EQ(out.events, std::vector<std::string>{"text(z)[\xff not inflated yet!]"});
  EXPECT_EQ(parse_whole(from_client(Opcode::text, "a", false) +
                            from_client(Opcode::continuation, "b", true, true),
                        Role::server, {}, true)
                .error,
            close_code::kProtocolError)
      << "RSV1 belongs on the first frame only";
}

TEST(MessageParser, StorageIsReleasedWhenIdle) {
  std::string in = from_client(Opcode::binary, std::string(5000, 'a'), false) +
                   from_client(Opcode::continuation, std::string(5000, 'b'));
  MessageParser parser(Role::server);
  ASSERT_EQ(parser.feed({in.data(), in.size()}).event, Event::message);
  EXPECT_GE(parser.storage(), 10000u);
  parser.release_storage();
  EXPECT_EQ(parser.storage(), 0u);
}

}  // namespace
}  // namespace avant::websocket
