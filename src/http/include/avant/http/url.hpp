// url.hpp — decoding a request-target: percent-decoding, query strings, safe paths.
//
// Nothing here allocates unless it returns a string; every function is pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace avant::http {

// Decodes %XX escapes. With `plus_is_space` (form/query encoding) '+' decodes to ' '. A '%' not
// followed by two hex digits makes the whole input invalid: nullopt.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view s,
                                                        bool plus_is_space = false);
// Encodes everything but unreserved characters (RFC 3986 §2.3) and, unless `keep_slash`
// is false, '/'.
[[nodiscard]] std::string percent_encode(std::string_view s, bool keep_slash = true);

// `a=1&b=two%20words&c` → {{"a","1"},{"b","two words"},{"c",""}}. Invalid escapes leave that
// pair out.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// Turns an encoded request path into a safe relative file path under some root, or nullopt:
//   "/docs/a%20b.html" → "docs/a b.html";  "/" → "";  "/a/./b//c" → "a/b/c"
// Refused (nullopt): not starting with '/', invalid escapes, a decoded NUL, an encoded '/' or
// '\' (%2F %5C: a name can not contain one), any ".." segment after decoding (%2e%2e too) —
// never resolved upwards, so no path can leave the root. "a..b" is a legal name and kept.
[[nodiscard]] std::optional<std::string> safe_relative_path(std::string_view encoded_path);

}  // namespace avant::http
