// fuzz_check.hpp — the property checks of the fuzz targets: a failed check prints what failed,
// where, and (with FUZZ_CHECK_MSG) a value that explains it, then aborts, which libFuzzer reports
// as a crash and saves the input (crash-<sha1>), so a broken property is found like a crash.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace avant::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line,
                                      const std::string& detail) {
  std::fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
  if (!detail.empty()) std::fprintf(stderr, "  with: %s\n", detail.c_str());
  std::abort();
}

}  // namespace avant::fuzz

// NOLINTBEGIN(cppcoreguidelines-macro-usage): a check must name its own file and line
#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : ::avant::fuzz::check_failed(#cond, __FILE__, __LINE__, std::string()))
#define FUZZ_CHECK_MSG(cond, detail) \
  ((cond) ? (void)0 : ::avant::fuzz::check_failed(#cond, __FILE__, __LINE__, (detail)))
// NOLINTEND(cppcoreguidelines-macro-usage)

namespace avant::fuzz {

// The split property every parser target checks: `parse(pieces)` gives `whole` when the bytes are
// cut in two at `cut` and, for inputs up to 256 bytes, when they come one byte at a time. `show`
// prints an outcome for the failure message.
template <class Outcome, class Parse, class Show>
void check_same_at_splits(std::string_view bytes, std::size_t cut, const Outcome& whole,
                          Parse parse, Show show) {
  const Outcome split =
      parse(std::vector<std::string_view>{bytes.substr(0, cut), bytes.substr(cut)});
  FUZZ_CHECK_MSG(split == whole,
                 "whole: " + show(whole) + "cut at " + std::to_string(cut) + ": " + show(split));
  if (bytes.size() > 256) return;
  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytewise.push_back(bytes.substr(i, 1));
  const Outcome each = parse(bytewise);
  FUZZ_CHECK_MSG(each == whole, "whole: " + show(whole) + "byte by byte: " + show(each));
}

}  // namespace avant::fuzz
