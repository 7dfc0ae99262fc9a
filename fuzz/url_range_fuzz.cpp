// url_range_fuzz.cpp — libFuzzer target: request-target decoding and Range headers (chapter 05).
//
// Input: 8 bytes of file size, one selector byte, then the text. Properties:
//   - percent_encode then percent_decode gives the text back; a text that decodes, encoded
//     again, decodes to the same bytes;
//   - safe_relative_path never gives a path that leaves its root: no leading '/', no NUL, no
//     empty, "." or ".." segment;
//   - parse_range's partial range lies inside the file (first <= last < size).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <avant/http/static_files.hpp>
#include <avant/http/url.hpp>

#include "fuzz_check.hpp"

namespace http = avant::http;

namespace {

void check_safe_path(std::string_view text) {
  const auto path = http::safe_relative_path(text);
  if (!path) return;
  FUZZ_CHECK_MSG(path->find('\0') == std::string::npos, *path);
  if (path->empty()) return;  // the root itself
  FUZZ_CHECK_MSG(path->front() != '/', *path);
  std::string_view rest = *path;
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    FUZZ_CHECK_MSG(!segment.empty() && segment != "." && segment != "..", *path);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  std::uint64_t file_size = 0;
  std::memcpy(&file_size, data, sizeof file_size);
  if ((data[8] & 1U) != 0) file_size %= 4096;  // small files half of the time
  const std::string_view text(reinterpret_cast<const char*>(data + 9), size - 9);

  for (const bool keep_slash : {true, false}) {
    const auto decoded = http::percent_decode(http::percent_encode(text, keep_slash));
    FUZZ_CHECK(decoded && *decoded == text);
  }
  if (const auto decoded = http::percent_decode(text)) {
    FUZZ_CHECK(http::percent_decode(http::percent_encode(*decoded)) == decoded);
  }
  (void)http::percent_decode(text, /*plus_is_space=*/true);
  for (const auto& [name, value] : http::parse_query(text)) {
    (void)name;
    (void)value;
  }
  check_safe_path(text);

  const http::RangeRequest range = http::parse_range(text, file_size);
  if (range.kind == http::RangeRequest::Kind::partial) {
    FUZZ_CHECK(range.first <= range.last);
    FUZZ_CHECK(range.last < file_size);
  }
  return 0;
}
