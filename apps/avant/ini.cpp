#include "ini.hpp"

#include <algorithm>

namespace avant::app {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

}  // namespace

std::vector<IniEntry> parse_ini(std::string_view text, const std::string& file) {
  std::vector<IniEntry> entries;
  std::string section;
  std::size_t line_no = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  while (!text.empty()) {
    ++line_no;
    const std::size_t eol = text.find('\n');
    const std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == ';' || line.front() == '#') continue;
    if (line.find('\0') != std::string_view::npos)
      throw ConfigError(file, line_no, "a NUL byte in the line");
    if (line.front() == '[') {
      if (line.back() != ']') throw ConfigError(file, line_no, "a section needs a closing ']'");
      const std::string_view name = trim(line.substr(1, line.size() - 2));
      if (!is_name(name)) {
        throw ConfigError(file, line_no, "'" + std::string(name) + "' is not a section name");
      }
      section = std::string(name);
      entries.push_back({section, std::string(), std::string(), line_no});  // the section itself
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      throw ConfigError(
          file, line_no,
          "expected 'key = value', a [section] or a comment, not '" + std::string(line) + "'");
    }
    const std::string_view key = trim(line.substr(0, eq));
    if (!is_name(key)) throw ConfigError(file, line_no, "'" + std::string(key) + "' is not a key");
    if (section.empty()) {
      throw ConfigError(file, line_no, "'" + std::string(key) + "' is outside any [section]");
    }
    entries.push_back({section, std::string(key), std::string(trim(line.substr(eq + 1))), line_no});
  }
  return entries;
}

}  // namespace avant::app
