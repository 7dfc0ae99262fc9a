// Chapter 06 — streaming UTF-8: every boundary case of RFC 3629 accepted or refused, at its
// first bad byte, however the text is cut.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <avant/websocket/utf8.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::websocket {
namespace {

struct Text {
  const char* name;
  std::string bytes;
  std::ptrdiff_t first_bad = -1;  // index of the byte that makes it invalid; -1 valid
  bool complete = true;           // ends between characters
};

const std::vector<Text>& corpus() {
  static const std::vector<Text> texts = {
      {"empty", ""},
      {"ASCII", "Hello, world"},
      {"Greek", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},  // κόσμε
      {"U+0080", "\xc2\x80"},
      {"U+07FF", "\xdf\xbf"},
      {"U+0800", "\xe0\xa0\x80"},
      {"U+D7FF", "\xed\x9f\xbf"},
      {"U+E000", "\xee\x80\x80"},
      {"U+FFFF", "\xef\xbf\xbf"},
      {"U+10000", "\xf0\x90\x80\x80"},
      {"U+10FFFF", "\xf4\x8f\xbf\xbf"},
      {"NUL", std::string("a\0b", 3)},
      {"a lone continuation byte", "ab\x80", 2},
      {"BF", "\xbf", 0},
      {"overlong C0 80", "\xc0\x80", 0},
      {"overlong C1 BF", "\xc1\xbf", 0},
      {"overlong E0 80 80", "\xe0\x80\x80", 1},
      {"overlong E0 9F BF", "\xe0\x9f\xbf", 1},
      {"surrogate ED A0 80", "\xed\xa0\x80", 1},
      {"surrogate ED BF BF", "\xed\xbf\xbf", 1},
      {"overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", 1},
      {"past U+10FFFF", "\xf4\x90\x80\x80", 1},
      {"F5", "\xf5\x80\x80\x80", 0},
      {"FE", "a\xfe", 1},
      {"FF", "\xff", 0},
      {"a character cut by ASCII", "\xc2\x41", 1},
      {"three bytes cut by ASCII", "\xe2\x82z", 2},
      {"bad after a long ASCII run", std::string(37, 'a') + "\xff" + std::string(20, 'b'), 37},
      {"ends inside a two-byte character", "ab\xc2", -1, false},
      {"ends inside a four-byte character", "\xf0\x9f\x98", -1, false},
  };
  return texts;
}

TEST(Utf8, EveryCaseIsJudgedAtItsFirstBadByte) {
  for (const Text& t : corpus()) {
    SCOPED_TRACE(t.name);
    Utf8Validator whole;
    const bool ok = whole.feed(t.bytes);
    EXPECT_EQ(ok, t.first_bad < 0);
    if (ok) {
      EXPECT_EQ(whole.complete(), t.complete);
    }
    EXPECT_EQ(is_valid_utf8(t.bytes), t.first_bad < 0 && t.complete);
    // One byte at a time: the first false is at the first bad byte, never later.
    Utf8Validator bytewise;
    std::ptrdiff_t failed_at = -1;
    for (std::size_t i = 0; i < t.bytes.size(); ++i) {
      if (!bytewise.feed(std::string_view(t.bytes).substr(i, 1))) {
        failed_at = static_cast<std::ptrdiff_t>(i);
        break;
      }
    }
    EXPECT_EQ(failed_at, t.first_bad);
    // Cut in two anywhere: the same verdict.
    for (std::size_t cut = 0; cut <= t.bytes.size(); ++cut) {
      Utf8Validator two;
      const bool a = two.feed(std::string_view(t.bytes).substr(0, cut));
      const bool b = a && two.feed(std::string_view(t.bytes).substr(cut));
      ASSERT_EQ(b, ok) << "cut at " << cut;
      if (ok) {
        ASSERT_EQ(two.complete(), t.complete) << "cut at " << cut;
      }
    }
  }
}

TEST(Utf8, AFailedValidatorStaysFailedUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xff"));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed("plain ASCII"));
  v.reset();
  EXPECT_TRUE(v.feed("plain ASCII"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, EveryCodePointRoundTripsThroughItsEncoding) {
  // Encodes each scalar value by hand and checks the validator takes it, and refuses each
  // surrogate: the whole code space, not a sample.
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    std::string s;
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else if (c < 0x800) {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      s += static_cast<char>(0xE0 | (c >> 12));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (c >> 18));
      s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    const bool surrogate = c >= 0xD800 && c <= 0xDFFF;
    if (is_valid_utf8(s) == surrogate) FAIL() << "U+" << std::hex << static_cast<unsigned>(c);
  }
}

}  // namespace
}  // namespace avant::websocket
