// ini.hpp — the INI syntax of main.ini, read without interpreting it (sans-IO: text in, entries
// out), so every error can name its file and line.
//
//   ; a comment            # also a comment
//   [server]               a section
//   port = 20023           key = value (spaces around both are trimmed; the value may be empty)
//   crt.pem = a b.pem      keys may contain dots; values run to the end of the line
//
// Refused (IniError with file:line): a line that is none of these, a key outside any section, a
// section or key with characters other than letters, digits, '_', '.', '-'.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace avant::app {

// A configuration mistake, located: "main.ini:12: server.port: 'x' is not a whole number".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::size_t line, const std::string& message)
      : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " +
                           message),
        file_(std::move(file)),
        line_(line) {}
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

// One `key = value` line, or (key empty) a `[section]` line, so that an empty section is seen.
struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  std::size_t line = 0;
};

// Throws ConfigError naming `file` and the line.
[[nodiscard]] std::vector<IniEntry> parse_ini(std::string_view text, const std::string& file);

}  // namespace avant::app
