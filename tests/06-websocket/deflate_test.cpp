// Chapter 06 — permessage-deflate: which offers are taken and what is answered (RFC 7692 §7), the
// RFC's own compressed bytes, round trips with and without context takeover, and a zip bomb that
// is refused within its limit.
#include <string>
#include <string_view>

#include <avant/websocket/deflate.hpp>

#include <gtest/gtest.h>

namespace avant::websocket {
namespace {

constexpr DeflateOptions kOn{
    .enabled = true, .server_no_context_takeover = false, .client_no_context_takeover = false};

std::string answer(std::string_view offers, const DeflateOptions& options = kOn) {
  const auto n = negotiate_deflate(offers, options);
  return n ? n->response : "(declined)";
}

TEST(Deflate, TheFirstOfferThatCanBeHonouredIsTaken) {
  EXPECT_EQ(answer("permessage-deflate"), "permessage-deflate");
  EXPECT_EQ(answer("permessage-deflate", {.enabled = false}), "(declined)");
  // What Chromium and Firefox offer.
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  EXPECT_EQ(answer("x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10; client_no_context_takeover"),
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"12\""),
            "permessage-deflate; server_max_window_bits=12");
  // The server's own policy: no context takeover both ways, smaller windows.
  const DeflateOptions lean{.enabled = true, .client_max_window_bits = 10};
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits", lean),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "client_max_window_bits=10");
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=9", lean),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "client_max_window_bits=9");
}

TEST(Deflate, MalformedOffersAreDeclinedAndTheNextOneTried) {
  for (const char* bad : {
           "permessage-deflate; foo",  // unknown parameter
           "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
           "permessage-deflate; client_no_context_takeover=1",  // takes no value
           "permessage-deflate; server_max_window_bits",        // needs one
           "permessage-deflate; server_max_window_bits=16",
           "permessage-deflate; client_max_window_bits=7",
           "permessage-deflate; server_max_window_bits=8",  // zlib cannot deflate with 8 bits
           "permessage-deflate; server_max_window_bits=1x",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(answer(bad), "(declined)");
    EXPECT_EQ(answer(std::string(bad) + ", permessage-deflate"), "permessage-deflate");
  }
}

TEST(Deflate, TheRfcsCompressedHelloInflates) {
  // RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello" twice with context takeover; the second refers back
  // to the first.
  Inflater inflater(15, /*context_takeover=*/true);
  std::string out;
  ASSERT_EQ(inflater.inflate(std::string_view("\xf2\x48\xcd\xc9\xc9\x07\x00", 7), 1000, out),
            Inflater::Status::ok);
  EXPECT_EQ(out, "Hello");
  ASSERT_EQ(inflater.inflate(std::string_view("\xf2\x00\x11\x00\x00", 5), 1000, out),
            Inflater::Status::ok);
  EXPECT_EQ(out, "Hello");
  // §7.2.3.3: "Hello" in a stored (uncompressed) block.
  Inflater fresh(15, false);
  ASSERT_EQ(fresh.inflate(std::string_view("\x00\x05\x00\xfa\xff"
                                           "Hello\x00",
                                           11),
                          1000, out),
            Inflater::Status::ok);
  EXPECT_EQ(out, "Hello");
}

TEST(Deflate, MessagesRoundTripWithAndWithoutContextTakeover) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "message " + std::to_string(i % 37) + " of a chat; ";
  for (const bool takeover : {true, false}) {
    for (const int bits : {9, 12, 15}) {
      SCOPED_TRACE(std::to_string(bits) + (takeover ? " bits, takeover" : " bits, no takeover"));
      Deflater deflater(bits, takeover);
      Inflater inflater(bits, takeover);
      std::size_t second_size = 0;
      for (int round = 0; round < 3; ++round) {
        std::string wire;
        deflater.compress(text, wire);
        EXPECT_LT(wire.size(), text.size() / 4);
        EXPECT_NE(wire.substr(wire.size() - 4), std::string("\x00\x00\xff\xff", 4));
        std::string back;
        ASSERT_EQ(inflater.inflate(wire, text.size(), back), Inflater::Status::ok);
        ASSERT_EQ(back, text);
        if (round == 1) second_size = wire.size();
        if (round == 2 && takeover) {
          EXPECT_LE(wire.size(), second_size) << "the window carries over";
        }
      }
      std::string empty_wire;
      deflater.compress("", empty_wire);
      std::string back = "x";
      ASSERT_EQ(inflater.inflate(empty_wire, 10, back), Inflater::Status::ok);
      EXPECT_EQ(back, "");
    }
  }
}

TEST(Deflate, EmptyMessagesAreOneEmptyBlockEvenWithContextTakeover) {
  // Found by the websocket_deflate fuzz target: with context takeover, a second empty message
  // came out of zlib as nothing at all, which does not inflate.
  for (const bool takeover : {true, false}) {
    Deflater deflater(15, takeover);
    Inflater inflater(15, takeover);
    for (const std::string_view message : {"", "", "x", ""}) {
      std::string wire;
      deflater.compress(message, wire);
      if (message.empty()) {
        EXPECT_EQ(wire, std::string(1, '\0'));
      }
      std::string back = "junk";
      ASSERT_EQ(inflater.inflate(wire, 10, back), Inflater::Status::ok);
      EXPECT_EQ(back, message);
    }
  }
}

TEST(Deflate, AZipBombIsRefusedAtItsLimitWithBoundedMemory) {
  const std::string zeros(16u << 20, '\0');  // 16 MiB of zeros deflate to about 16 KiB
  Deflater deflater(15, false);
  std::string bomb;
  deflater.compress(zeros, bomb);
  ASSERT_LT(bomb.size(), 64u << 10);
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.inflate(bomb, 1u << 20, out), Inflater::Status::too_big);
  EXPECT_LE(out.size(), (1u << 20) + 1);
  EXPECT_LE(out.capacity(), 2u << 20) << "inflating stopped near the limit, not at 16 MiB";
  // The limit exactly met is fine.
  const std::string mib(1u << 20, 'a');
  std::string wire;
  deflater.compress(mib, wire);
  EXPECT_EQ(inflater.inflate(wire, 1u << 20, out), Inflater::Status::ok);
  EXPECT_EQ(out.size(), 1u << 20);
}

TEST(Deflate, DataThatIsNotDeflateIsCorrupt) {
  Inflater inflater(15, true);
  std::string out;
  EXPECT_EQ(inflater.inflate("\xff\xff\xff\xff garbage", 1000, out), Inflater::Status::corrupt);
  // The inflater is reset after a failure: a good message inflates again.
  Deflater deflater(15, true);
  std::string wire;
  deflater.compress("after", wire);
  EXPECT_EQ(inflater.inflate(wire, 1000, out), Inflater::Status::ok);
  EXPECT_EQ(out, "after");
}

TEST(Deflate, StateIsAllocatedOnFirstUseAndReleasable) {
  Deflater deflater(15, false);
  EXPECT_FALSE(deflater.holds_state());
  std::string wire;
  deflater.compress("some text", wire);
  EXPECT_TRUE(deflater.holds_state());
  deflater.release();
  EXPECT_FALSE(deflater.holds_state());
  Deflater& shared = shared_deflater(15, 6);
  EXPECT_EQ(&shared, &shared_deflater(15, 6)) << "one per thread, window and level";
  EXPECT_NE(&shared, &shared_deflater(10, 6));
  EXPECT_EQ(&shared, &shared_deflater(15, 6)) << "still the same after another was added";
  std::string back;
  wire.clear();
  shared.compress("through the shared ones", wire);
  ASSERT_EQ(shared_inflater().inflate(wire, 100, back), Inflater::Status::ok);
  EXPECT_EQ(back, "through the shared ones");
}

}  // namespace
}  // namespace avant::websocket
