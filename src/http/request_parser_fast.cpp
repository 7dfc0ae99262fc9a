// request_parser_fast.cpp — the given fast path of request_parser.hpp (lab 05 does not rewrite
// this file): the common request head parsed in one pass, without llhttp.
//
// Most requests a server sees are alike: GET or HEAD of an origin-form target, HTTP/1.1, a few
// plain fields, no body. llhttp is a general state machine that calls back for every piece; for
// such a head one loop over a character table does the same work in a fifth of the instructions
// (docs/performance.md). The fast path takes a request only when it is sure that llhttp, with the
// checks of this class, would accept it and read it the same way; for anything else it takes
// nothing and llhttp parses the bytes, refusals included. So it can only be faster, never more
// lenient: what it accepts is a strict subset of what the general path accepts (the fuzzer
// fuzz/request_parser_fuzz.cpp compares the two on every input, and tests/05-http/parser_test.cpp
// runs every test request both ways).
//
//   taken:     GET /a?b=1 HTTP/1.1\r\n Host: h\r\n Accept: */*\r\n \r\n    (all of it in `bytes`)
//   declined:  POST ..., HTTP/1.0, a Content-Length, Transfer-Encoding, Connection other than
//              keep-alive, Upgrade, Expect, an empty value, a byte outside the tables below, a
//              head cut by the end of `bytes`, a limit reached (llhttp refuses it with its status)
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include <avant/http/request_parser.hpp>

namespace avant::http {

namespace {

enum : std::uint8_t {
  kToken = 1,   // tchar (RFC 9110 §5.6.2): a field name
  kTarget = 2,  // a byte of an origin-form target llhttp's strict URL states accept
  kValue = 4,   // a field value's byte: VCHAR, SP or HTAB (no obs-text: llhttp decides those)
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] |= kToken | kTarget;
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<std::size_t>(c)] |= kToken | kTarget;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[static_cast<std::size_t>(c)] |= kToken | kTarget;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] |= kToken;
  // RFC 3986's unreserved, sub-delims, ':', '@', '/', '?' and '%' (not checked as an escape
  // here; url.hpp decodes the target later, as it does for llhttp's).
  for (const char c : std::string_view("-._~!$&'()*+,;=:@/?%"))
    t[static_cast<unsigned char>(c)] |= kTarget;
  for (int c = 0x20; c <= 0x7e; ++c)
    t[static_cast<std::size_t>(c)] |= kValue;
  t['\t'] |= kValue;
  return t;
}

constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

bool is(char c, std::uint8_t cls) noexcept {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

// `name` equals `lower`, a lower-case name, ignoring case. (c | 0x20 maps only 'A'-'Z' onto
// letters, and only CR, which no name or value holds, onto '-'; so a word or'ed with 0x20 in
// every byte compares as the bytes would.) Inline: `lower` is a literal, the loop unrolls.
[[gnu::always_inline]] inline bool named(std::string_view name, std::string_view lower) noexcept {
  if (name.size() != lower.size()) return false;
  const std::size_t n = name.size();
  const auto word = [](const char* at) {
    std::uint32_t w = 0;
    std::memcpy(&w, at, sizeof w);
    return w;
  };
  constexpr std::uint32_t kCase = 0x20202020U;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if ((word(name.data() + i) | kCase) != word(lower.data() + i)) return false;
  }
  // The last 1-3 bytes, in a word that overlaps the one before (names here are 4 bytes or more).
  return i == n || (word(name.data() + n - 4) | kCase) == word(lower.data() + n - 4);
}

// `s` holds the bytes of `v` (inline: called for the method and the target of every request).
[[gnu::always_inline]] inline bool same(const std::string& s, std::string_view v) noexcept {
  return s.size() == v.size() && detail::same_bytes(s.data(), v.data(), v.size());
}

constexpr std::string_view kVersion = " HTTP/1.1\r\n";

}  // namespace

std::size_t RequestParser::take_common_head(std::string_view bytes) {
  // Only between two requests with nothing pending: llhttp is at the start of a message, no CR
  // was skipped before it, and the last request did not end the connection (llhttp refuses any
  // request after that one).
  if (!fast_path_ || phase_ != Phase::idle || cr_pending_ || bare_cr_ || !request_.keep_alive)
    return 0;
  const char* p = bytes.data();
  // A head ends with an LF: the scan stops at the last one, which no class below holds, so the
  // loops over a class need no bound of their own (every loop stops on it at the latest).
  // When the bytes do not end with one (a partial request or body behind this one), the last LF
  // is looked for in the first kWindow bytes only: a head is rarely longer, a longer one is
  // llhttp's, and each request of a pipeline does not scan what follows it again.
  const char* end = p + bytes.size();
  if (bytes.empty() || end[-1] != '\n') {
    constexpr std::size_t kWindow = 8192;
    // memrchr: GNU, declared by <cstring>.
    const void* lf = memrchr(p, '\n', std::min(bytes.size(), kWindow));
    if (lf == nullptr) return 0;
    end = static_cast<const char*>(lf) + 1;
  }
  const auto size = static_cast<std::size_t>(end - p);
  std::string_view method;
  if (size >= 5 && std::memcmp(p, "GET /", 5) == 0) {
    method = "GET";
  } else if (size >= 6 && std::memcmp(p, "HEAD /", 6) == 0) {
    method = "HEAD";
  } else {
    return 0;
  }
  p += method.size() + 1;
  const char* const target = p;
  while (is(*p, kTarget))
    ++p;
  const auto target_size = static_cast<std::size_t>(p - target);
  if (target_size > limits_.max_target || static_cast<std::size_t>(end - p) < kVersion.size() ||
      std::memcmp(p, kVersion.data(), kVersion.size()) != 0)
    return 0;
  p += kVersion.size();

  // The fields go straight into the request; on a decline llhttp's on_message_begin clears it
  // again (llhttp begins a message on these bytes), so nothing of a half-read head survives.
  Request& r = request_;
  r.headers.clear();
  // What count_header_bytes() counts on llhttp's path: each name, and each value from its first
  // non-blank byte to the CR (trailing blanks included: llhttp's value span keeps them).
  std::size_t header_bytes = 0;
  unsigned hosts = 0;
  for (;;) {
    if (p == end) return 0;  // cut: the rest has not arrived
    if (*p == '\r') {        // (then p + 1 < end: the last byte is an LF)
      if (p[1] != '\n') return 0;
      p += 2;
      break;
    }
    const char* const name_begin = p;
    while (is(*p, kToken))
      ++p;
    if (p == name_begin || *p != ':') return 0;
    const std::string_view name(name_begin, static_cast<std::size_t>(p - name_begin));
    ++p;
    while (*p == ' ' || *p == '\t')
      ++p;
    const char* const value_begin = p;
    while (is(*p, kValue))
      ++p;
    if (*p != '\r' || p[1] != '\n') return 0;
    header_bytes += name.size() + static_cast<std::size_t>(p - value_begin);
    const char* value_end = p;
    while (value_end > value_begin && (value_end[-1] == ' ' || value_end[-1] == '\t'))
      --value_end;
    if (value_end == value_begin) return 0;
    const std::string_view value(value_begin, static_cast<std::size_t>(value_end - value_begin));
    p += 2;
    if (header_bytes > limits_.max_header_bytes || r.headers.size() >= limits_.max_headers)
      return 0;
    // The fields llhttp or check_head() give a meaning to, by length first.
    switch (name.size()) {
      case 4:
        hosts += named(name, "host") ? 1U : 0U;
        break;
      case 6:
        if (named(name, "expect")) return 0;
        break;
      case 7:
        if (named(name, "upgrade")) return 0;
        break;
      case 10:
        if (named(name, "connection") && !named(value, "keep-alive")) return 0;
        break;
      case 14:
        if (named(name, "content-length")) return 0;
        break;
      case 16:
        if (named(name, "proxy-connection")) return 0;
        break;
      case 17:
        if (named(name, "transfer-encoding")) return 0;
        break;
      default:
        break;
    }
    r.headers.add(name, value);
  }
  if (hosts != 1) return 0;  // no Host, or two: llhttp's path refuses with the reason
  // What Request::clear() would leave, without its cost: a keep-alive connection asks for the
  // same method and often the same target again.
  if (!same(r.method, method)) r.method.assign(method);
  if (const std::string_view t(target, target_size); !same(r.target, t)) r.target.assign(t);
  r.version_major = 1;
  r.version_minor = 1;
  r.body.clear();
  r.keep_alive = true;
  r.expect_continue = false;
  r.upgrade = false;
  r.params.clear();
  last_significant_ = '\n';
  ++fast_heads_;
  return static_cast<std::size_t>(p - bytes.data());
}

}  // namespace avant::http
