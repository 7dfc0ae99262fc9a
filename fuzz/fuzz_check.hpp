// fuzz_check.hpp — the property checks of the fuzz targets: a failed check prints what failed,
// where, and (with FUZZ_CHECK_MSG) a value that explains it, then aborts, which libFuzzer reports
// as a crash and saves the input (crash-<sha1>), so a broken property is found like a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

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
