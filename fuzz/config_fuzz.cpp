// config_fuzz.cpp — libFuzzer target: the main.ini reader (apps/avant: parse_ini, parse_config).
//
// Properties: text either gives a Config or a ConfigError (no other exception) that names the
// file and a line the text has; parse_ini's entries come in line order; a Config accepted and
// written back with to_ini() (what `avant --check` prints) reads back to the same text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"
#include "ini.hpp"

namespace {

constexpr const char* kFile = "/fuzz/main.ini";

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

void check_error(const avant::app::ConfigError& e, std::string_view text) {
  FUZZ_CHECK_MSG(e.line() <= count_lines(text), e.what());
  FUZZ_CHECK_MSG(std::string_view(e.what()).starts_with(kFile), e.what());
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto entries = avant::app::parse_ini(text, kFile);
    std::size_t previous = 0;
    for (const auto& entry : entries) {
      FUZZ_CHECK(entry.line > previous && entry.line <= count_lines(text));
      previous = entry.line;
    }
  } catch (const avant::app::ConfigError& e) {
    check_error(e, text);
  }
  try {
    const avant::app::Config config = avant::app::parse_config(text, kFile);
    const std::string written = avant::app::to_ini(config);
    try {
      const std::string again = avant::app::to_ini(avant::app::parse_config(written, kFile));
      FUZZ_CHECK_MSG(again == written, written + "\n-- read back as --\n" + again);
    } catch (const avant::app::ConfigError& e) {
      FUZZ_CHECK_MSG(false, std::string(e.what()) + "\n-- in what to_ini wrote --\n" + written);
    }
  } catch (const avant::app::ConfigError& e) {
    check_error(e, text);
  }
  return 0;
}
