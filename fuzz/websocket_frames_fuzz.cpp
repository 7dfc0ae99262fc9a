// websocket_frames_fuzz.cpp — libFuzzer target: websocket::MessageParser (chapter 06).
//
// Input: one byte that picks the parser's role (server reads masked frames, client unmasked),
// whether compression was negotiated, a small message limit, and where the bytes are cut; then
// the bytes a peer sent. Properties checked on every input, not only "no crash":
//   - feed() never reports more bytes consumed than it was given; a failed parser stays failed
//     and consumes nothing; an error carries 1002, 1007 or 1009 and a reason;
//   - every message is within max_message, every uncompressed text message and close reason is
//     valid UTF-8, every control payload is at most 125 bytes, a close code is one a peer may send;
//   - the outcome is the same fed whole, cut in two at the chosen point, and (for short inputs)
//     one byte at a time;
//   - the events, framed again as the same peer would send them, parse to the same events.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <avant/websocket/frame.hpp>
#include <avant/websocket/message_parser.hpp>
#include <avant/websocket/utf8.hpp>

#include "fuzz_check.hpp"

namespace {

using avant::websocket::FrameHeader;
using avant::websocket::MessageLimits;
using avant::websocket::MessageParser;
using avant::websocket::Opcode;
using avant::websocket::Role;
using Event = MessageParser::Event;

struct Item {
  Event event = Event::need_more;
  Opcode opcode = Opcode::binary;
  bool compressed = false;
  std::string payload;
  bool operator==(const Item&) const = default;
};

struct Outcome {
  std::vector<Item> items;
  std::uint16_t error = 0;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string s =
      std::to_string(o.items.size()) + " event(s), then error " + std::to_string(o.error) + "\n";
  for (const Item& i : o.items) {
    s += std::to_string(static_cast<int>(i.event)) + " op " +
         std::to_string(static_cast<int>(i.opcode)) + (i.compressed ? " z " : " ") +
         std::to_string(i.payload.size()) + " bytes\n";
  }
  return s;
}

struct Setup {
  Role role = Role::server;
  bool compression = false;
  MessageLimits limits{};
};

void check_item(const MessageParser& p, Event e, const MessageLimits& limits) {
  if (e == Event::message) {
    FUZZ_CHECK(p.opcode() == Opcode::text || p.opcode() == Opcode::binary);
    FUZZ_CHECK(p.payload().size() <= limits.max_message);
    if (p.opcode() == Opcode::text && !p.compressed()) {
      FUZZ_CHECK(avant::websocket::is_valid_utf8(p.payload()));
    }
    return;
  }
  FUZZ_CHECK(p.payload().size() <= avant::websocket::kMaxControlPayload);
  FUZZ_CHECK(!p.compressed());
  if (e == Event::close) {
    FUZZ_CHECK(p.closed());
    FUZZ_CHECK(p.close_code() == avant::websocket::close_code::kNoStatus ||
               avant::websocket::is_valid_close_code(p.close_code()));
    FUZZ_CHECK(avant::websocket::is_valid_utf8(p.close_reason()));
  }
}

Outcome parse(const std::vector<std::string_view>& pieces, const Setup& setup) {
  MessageParser parser(setup.role, setup.limits);
  parser.set_compression(setup.compression);
  Outcome out;
  std::string pending;
  for (const std::string_view piece : pieces) {
    pending += piece;
    for (;;) {
      const auto r = parser.feed({pending.data(), pending.size()});
      FUZZ_CHECK(r.consumed <= pending.size());
      if (r.event == Event::error) {
        const std::uint16_t code = parser.error().code;
        FUZZ_CHECK(code == 1002 || code == 1007 || code == 1009);
        FUZZ_CHECK(!parser.error().reason.empty());
        const auto again = parser.feed({pending.data(), pending.size()});
        FUZZ_CHECK(again.event == Event::error && again.consumed == 0);
        out.error = code;
        return out;
      }
      if (r.event != Event::need_more) {
        check_item(parser, r.event, setup.limits);
        out.items.push_back(
            {r.event, parser.opcode(), parser.compressed(), std::string(parser.payload())});
      }
      pending.erase(0, r.consumed);
      if (r.event == Event::need_more) break;
    }
  }
  return out;
}

// The events as the peer would send them again: each message in one frame, each control frame
// as it was (a close frame carries its code and reason).
std::string reframe(const Outcome& o, Role reader) {
  std::string out;
  for (const Item& i : o.items) {
    FrameHeader h;
    h.masked = reader == Role::server;
    h.mask = {0x12, 0x34, 0x56, 0x78};
    h.rsv1 = i.compressed;
    h.opcode = i.opcode;
    avant::websocket::append_frame(out, h, i.payload);
  }
  return out;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Setup setup;
  setup.role = (control & 1U) != 0 ? Role::client : Role::server;
  setup.compression = (control & 2U) != 0;
  if ((control & 4U) != 0) setup.limits.max_message = 64;

  const Outcome whole = parse({bytes}, setup);
  const std::size_t cut = bytes.empty() ? 0 : (control >> 3U) * bytes.size() / 32U;
  avant::fuzz::check_same_at_splits(
      bytes, cut, whole,
      [&](const std::vector<std::string_view>& pieces) { return parse(pieces, setup); }, show);

  Outcome accepted = whole;
  accepted.error = 0;
  const Outcome again = parse({reframe(accepted, setup.role)}, setup);
  FUZZ_CHECK_MSG(again == accepted, "events: " + show(accepted) + "reframed: " + show(again));
  return 0;
}
