// message_parser_support.cpp — the given half of message_parser.hpp (lab 06 does not rewrite this
// file): construction, the close reason, the parser's storage and its release, and how an error is
// recorded (fail). The frame reader itself (feed, parse_header, finish_control) is in
// message_parser.cpp.
#include <initializer_list>
#include <string>
#include <utility>

#include <avant/websocket/message_parser.hpp>

namespace avant::websocket {

MessageParser::MessageParser(Role role, const MessageLimits& limits)
    : limits_(limits), role_(role) {}

std::string_view MessageParser::close_reason() const noexcept {
  return payload_.size() > 2 ? payload_.substr(2) : std::string_view{};
}

std::size_t MessageParser::storage() const noexcept {
  // A string's inline buffer (its capacity when empty) is part of the parser, not the heap.
  const std::size_t inline_capacity = std::string().capacity();
  std::size_t n = 0;
  for (const std::string* s : {&message_, &control_}) {
    if (s->capacity() > inline_capacity) n += s->capacity();
  }
  return n;
}

void MessageParser::release_storage() noexcept {
  if (in_message_ || state_ == State::payload) return;
  std::string().swap(message_);
  std::string().swap(control_);
}

MessageParser::Event MessageParser::fail(std::uint16_t code, std::string reason) {
  state_ = State::failed;
  error_ = {code, std::move(reason)};
  payload_ = {};
  return Event::error;
}

}  // namespace avant::websocket
