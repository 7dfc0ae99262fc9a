// Lab 06 — the frame reader of MessageParser: frame headers and their rules, payloads unmasked in
// place, messages collected across fragments, control frames. Contract, with the refusals and
// their close codes: src/websocket/include/avant/websocket/message_parser.hpp (its members are
// listed there too). Given, in src/websocket/message_parser_support.cpp: the constructor,
// close_reason(), storage(), release_storage() and fail(code, reason), which records an error
// and returns Event::error. Also given: frame.hpp (your frame.cpp) and utf8.hpp (Utf8Validator,
// is_valid_utf8). Tests: ctest -L ch06 (06.MessageParser*, then every server test).
#include <stdexcept>
#include <string>

#include <avant/websocket/message_parser.hpp>

namespace avant::websocket {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(06): ") + what);
}
}  // namespace

std::ptrdiff_t MessageParser::parse_header(std::span<const char> in) {
  static_cast<void>(in);
  // Everything the first two bytes decide is checked before the rest arrives, in one order, so
  // the answer does not depend on where the bytes were split.
  todo(
      "MessageParser::parse_header: under 2 bytes -> 0; from bytes 0 and 1, in one order: RSV2/3, "
      "a reserved opcode, a control frame not FIN / over 125 / with RSV1, the mask bit against "
      "role_, a continuation with no message or with RSV1, a new message inside one, RSV1 without "
      "compression_ (each fail() with 1002, return -1); then the whole header (2 + 0/2/8 + 0/4 "
      "bytes) or 0; a 64-bit length with its top bit set -> 1002; a data message over max_message "
      "-> 1009 (mind the overflow); store frame_, frame_left_, frame_done_; a data frame that "
      "begins a message starts it (in_message_, message_opcode_, message_compressed_, "
      "message_size_, utf8_, message_); return the header's size");
}

MessageParser::Event MessageParser::finish_control(std::string_view payload) {
  static_cast<void>(payload);
  todo(
      "MessageParser::finish_control: event_opcode_, event_compressed_ and payload_; ping and pong "
      "are reported as they are; a close: empty -> code 1005; one byte -> 1002; a code that "
      "is_valid_close_code() refuses -> 1002; a reason that is not UTF-8 -> 1007; then state "
      "closed, Event::close");
}

MessageParser::Result MessageParser::feed(std::span<char> bytes) {
  static_cast<void>(bytes);
  // A text message is checked as its bytes arrive: the first bad byte fails it. (A compressed
  // one is checked after inflating, by whoever inflates it.)
  todo(
      "MessageParser::feed: failed -> {0, error}; closed -> consume all, need_more; loop: a header "
      "(parse_header: -1 -> error, 0 -> need_more); the payload bytes that are here (at most "
      "frame_left_), unmasked in place at offset frame_done_; a control frame whole in the input "
      "-> finish_control() on a view of it, cut -> collected in control_; a data frame -> "
      "UTF-8 for uncompressed text (1007), collected in message_ unless the message is one frame "
      "whole in the input (then payload_ views the input); a frame not complete -> need_more; "
      "after a FIN frame: text that ends inside a character -> 1007, else the message");
}

}  // namespace avant::websocket
