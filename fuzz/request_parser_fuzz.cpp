// request_parser_fuzz.cpp — libFuzzer target: http::RequestParser (chapter 05).
//
// Input: one byte that picks the limits and where the bytes are cut, then the bytes a client
// sent. Properties checked on every input, not only "no crash":
//   - feed() never reports more bytes consumed than it was given; a failed parser stays failed
//     and consumes nothing; a refusal carries one of the statuses the header lists;
//   - the limits hold for every request accepted (target, field count and bytes, body);
//   - the outcome is the same fed whole, cut in two at the chosen point, and (for short inputs)
//     one byte at a time, and fed whole with the fast path for the common head off (llhttp
//     alone);
//   - every request accepted, written out again (fields, Content-Length, body), is accepted
//     again as the same request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <avant/http/request_parser.hpp>

#include "fuzz_check.hpp"

namespace {

using avant::http::ParserLimits;
using avant::http::Request;
using avant::http::RequestParser;
using Status = RequestParser::Status;

struct Outcome {
  std::vector<std::string> requests;
  int error_status = 0;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string s = std::to_string(o.requests.size()) + " request(s), then status " +
                  std::to_string(o.error_status) + "\n";
  for (const auto& r : o.requests)
    s += r + "\n";
  return s;
}

std::string describe(const Request& r) {
  std::string s = r.method + ' ' + r.target + " HTTP/" + std::to_string(r.version_major) + '.' +
                  std::to_string(r.version_minor) + (r.keep_alive ? " keep-alive" : " close") +
                  (r.expect_continue ? " expect-100\n" : "\n");
  for (const auto& [name, value] : r.headers) {
    s += name;
    s += ": ";
    s += value;
    s += '\n';
  }
  s += "body[";
  s += r.body;
  s += ']';
  return s;
}

void check_limits(const Request& r, const ParserLimits& limits) {
  FUZZ_CHECK(r.target.size() <= limits.max_target);
  FUZZ_CHECK(r.headers.size() <= limits.max_headers);
  std::size_t field_bytes = 0;
  for (const auto& [name, value] : r.headers)
    field_bytes += name.size() + value.size();
  FUZZ_CHECK(field_bytes <= limits.max_header_bytes);
  FUZZ_CHECK(r.body.size() <= limits.max_body);
}

bool known_status(int status) {
  switch (status) {
    case 400:
    case 413:
    case 414:
    case 417:
    case 431:
    case 501:
    case 505:
      return true;
    default:
      return false;
  }
}

// Feeds the pieces in order as a connection does: what was not consumed stays in front.
Outcome parse(const std::vector<std::string_view>& pieces, const ParserLimits& limits,
              std::vector<Request>* accepted = nullptr, bool fast = true) {
  RequestParser parser(limits);
  parser.set_fast_path(fast);
  Outcome out;
  std::string pending;
  for (const std::string_view piece : pieces) {
    pending += piece;
    for (;;) {
      const auto result = parser.feed(pending);
      FUZZ_CHECK(result.consumed <= pending.size());
      pending.erase(0, result.consumed);
      if (result.status == Status::error) {
        FUZZ_CHECK(known_status(parser.error().status));
        FUZZ_CHECK(!parser.error().reason.empty());
        const auto again = parser.feed(pending);
        FUZZ_CHECK(again.status == Status::error && again.consumed == 0);
        out.error_status = parser.error().status;
        return out;
      }
      if (result.status == Status::need_more) {
        FUZZ_CHECK(pending.empty());  // need_more consumed everything it was given
        break;
      }
      check_limits(parser.request(), limits);
      out.requests.push_back(describe(parser.request()));
      if (accepted != nullptr) accepted->push_back(parser.request());
      if (parser.upgrade()) parser.continue_after_upgrade();
    }
  }
  return out;
}

// The request as a client would send it again: its fields (no framing fields), then the body
// with a Content-Length.
std::string serialize(const Request& r) {
  std::string s = r.method + ' ' + r.target + " HTTP/" + std::to_string(r.version_major) + '.' +
                  std::to_string(r.version_minor) + "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (avant::http::iequals(name, "Content-Length") ||
        avant::http::iequals(name, "Transfer-Encoding"))
      continue;
    s += name;
    s += ": ";
    s += value;
    s += "\r\n";
  }
  if (!r.body.empty()) s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  s += "\r\n";
  s += r.body;
  return s;
}

// The same request, framing fields aside.
std::string describe_unframed(const Request& r) {
  Request copy = r;
  copy.headers.clear();
  for (const auto& [name, value] : r.headers) {
    if (!avant::http::iequals(name, "Content-Length") &&
        !avant::http::iequals(name, "Transfer-Encoding"))
      copy.headers.add(name, value);
  }
  return describe(copy);
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  // Small limits half of the time, so that every limit is reached by short inputs.
  const ParserLimits limits =
      (control & 1U) != 0
          ? ParserLimits{.max_target = 32, .max_header_bytes = 96, .max_headers = 4, .max_body = 16}
          : ParserLimits{};
  std::vector<Request> accepted;
  const Outcome whole = parse({bytes}, limits, &accepted);
  // The fast path for the common head (take_common_head) reads exactly as llhttp does.
  const Outcome general = parse({bytes}, limits, nullptr, false);
  FUZZ_CHECK_MSG(general == whole,
                 "with the fast path:\n" + show(whole) + "llhttp alone:\n" + show(general));

  const std::size_t cut = bytes.empty() ? 0 : (control >> 1U) * bytes.size() / 128U;
  avant::fuzz::check_same_at_splits(
      bytes, cut, whole,
      [&](const std::vector<std::string_view>& pieces) { return parse(pieces, limits); }, show);

  const ParserLimits roomy{.max_target = 1U << 20,
                           .max_header_bytes = 1U << 20,
                           .max_headers = 1U << 10,
                           .max_body = 1U << 20};
  for (const Request& r : accepted) {
    std::vector<Request> again;
    const Outcome round = parse({serialize(r)}, roomy, &again);
    FUZZ_CHECK_MSG(round.error_status == 0 && again.size() == 1, serialize(r));
    FUZZ_CHECK_MSG(describe_unframed(again[0]) == describe_unframed(r), serialize(r));
  }
  return 0;
}
