// message_parser.cpp — the frame reader of message_parser.hpp: frame headers and their rules,
// payloads unmasked in place, messages collected across fragments, control frames. Lab 06 rewrites
// this file; construction, the storage and fail() are given in message_parser_support.cpp.
#include <algorithm>
#include <string>

#include <avant/websocket/message_parser.hpp>

namespace avant::websocket {

std::ptrdiff_t MessageParser::parse_header(std::span<const char> in) {
  if (in.size() < 2) return 0;
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  const bool fin = (b0 & 0x80u) != 0;
  const bool rsv1 = (b0 & 0x40u) != 0;
  const std::uint8_t op = b0 & 0x0Fu;
  const bool masked = (b1 & 0x80u) != 0;
  const std::uint8_t len7 = b1 & 0x7Fu;
  const auto opcode = static_cast<Opcode>(op);

  // Everything the first two bytes decide is checked before the rest arrives, in one order, so
  // the answer does not depend on where the bytes were split. The usual frame (a whole text or
  // binary message under 126 bytes: FIN, no RSV bit, masked as the role asks, no message begun)
  // passes every one of those rules, and one test tells it.
  const bool usual = (b0 == 0x81u || b0 == 0x82u) && len7 < 126 && !in_message_ &&
                     masked == (role_ == Role::server);
  if (!usual) {
    if ((b0 & 0x30u) != 0) return fail(close_code::kProtocolError, "RSV2 or RSV3 set"), -1;
    if (!is_known_opcode(op)) {
      return fail(close_code::kProtocolError, "reserved opcode " + std::to_string(op)), -1;
    }
    if (is_control(opcode)) {
      if (!fin) return fail(close_code::kProtocolError, "fragmented control frame"), -1;
      if (len7 > kMaxControlPayload) {
        return fail(close_code::kProtocolError, "control frame over 125 bytes"), -1;
      }
      if (rsv1) return fail(close_code::kProtocolError, "RSV1 set on a control frame"), -1;
    }
    if (masked != (role_ == Role::server)) {
      return fail(close_code::kProtocolError, role_ == Role::server ? "unmasked frame from a client"
                                                                    : "masked frame from a server"),
             -1;
    }
    if (opcode == Opcode::continuation) {
      if (!in_message_) return fail(close_code::kProtocolError, "continuation with no message"), -1;
      if (rsv1) return fail(close_code::kProtocolError, "RSV1 set on a continuation frame"), -1;
    } else if (!is_control(opcode)) {
      if (in_message_) {
        return fail(close_code::kProtocolError, "new message before the last one ended"), -1;
      }
      if (rsv1 && !compression_) {
        return fail(close_code::kProtocolError, "RSV1 set without a negotiated extension"), -1;
      }
    }
  }

  std::size_t need = 2;
  if (len7 == 126) need += 2;
  if (len7 == 127) need += 8;
  if (masked) need += 4;
  if (in.size() < need) return 0;

  std::uint64_t length = len7;
  std::size_t at = 2;
  if (len7 >= 126) {
    const std::size_t bytes = len7 == 126 ? 2 : 8;
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      length = (length << 8) | static_cast<std::uint8_t>(in[at + i]);
    at += bytes;
    if ((length >> 63) != 0) {
      return fail(close_code::kProtocolError, "64-bit length with its top bit set"), -1;
    }
  }
  if (!is_control(opcode)) {
    const std::uint64_t before = opcode == Opcode::continuation ? message_size_ : 0;
    if (length > limits_.max_message || before > limits_.max_message - length) {
      return fail(close_code::kMessageTooBig,
                  "message over " + std::to_string(limits_.max_message) + " bytes"),
             -1;
    }
  }

  frame_.fin = fin;
  frame_.rsv1 = rsv1;
  frame_.opcode = opcode;
  frame_.masked = masked;
  frame_.length = length;
  if (masked) std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), 4, frame_.mask.begin());
  frame_left_ = length;
  frame_done_ = 0;
  if (!is_control(opcode)) {
    first_frame_ = opcode != Opcode::continuation;
    if (first_frame_) {
      in_message_ = true;
      message_opcode_ = opcode;
      message_compressed_ = rsv1;
      message_size_ = 0;
      utf8_.reset();
      message_.clear();
    }
    message_size_ += length;
  }
  return static_cast<std::ptrdiff_t>(need);
}

MessageParser::Event MessageParser::finish_control(std::string_view payload) {
  event_opcode_ = frame_.opcode;
  event_compressed_ = false;
  payload_ = payload;
  if (frame_.opcode == Opcode::ping) return Event::ping;
  if (frame_.opcode == Opcode::pong) return Event::pong;
  if (payload.empty()) {
    close_code_ = close_code::kNoStatus;
  } else {
    if (payload.size() == 1) return fail(close_code::kProtocolError, "1-byte close payload");
    close_code_ = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                             static_cast<std::uint8_t>(payload[1]));
    if (!is_valid_close_code(close_code_)) {
      return fail(close_code::kProtocolError,
                  "close code " + std::to_string(close_code_) + " is not allowed");
    }
    if (!is_valid_utf8(payload.substr(2))) {
      return fail(close_code::kInvalidPayload, "close reason is not UTF-8");
    }
  }
  state_ = State::closed;
  return Event::close;
}

MessageParser::Result MessageParser::feed(std::span<char> bytes) {
  if (state_ == State::failed) return {0, Event::error};
  if (state_ == State::closed) return {bytes.size(), Event::need_more};
  std::size_t pos = 0;
  while (true) {
    if (state_ == State::header) {
      const std::ptrdiff_t n = parse_header(bytes.subspan(pos));
      if (n < 0) return {pos, Event::error};
      if (n == 0) return {pos, Event::need_more};
      pos += static_cast<std::size_t>(n);
      state_ = State::payload;
    }

    char* const p = bytes.data() + pos;
    const auto avail =
        static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size() - pos, frame_left_));
    const bool whole = frame_done_ == 0 && avail == frame_left_;
    if (frame_.masked) apply_mask(p, avail, frame_.mask, frame_done_);
    const std::string_view piece(p, avail);

    if (is_control(frame_.opcode)) {
      pos += avail;
      frame_left_ -= avail;
      frame_done_ += avail;
      if (whole) {
        state_ = State::header;
        return {pos, finish_control(piece)};
      }
      if (frame_done_ == avail) control_.clear();
      control_ += piece;
      if (frame_left_ > 0) return {pos, Event::need_more};
      state_ = State::header;
      return {pos, finish_control(control_)};
    }

    // A text message is checked as its bytes arrive: the first bad byte fails it. (A compressed
    // one is checked after inflating, by whoever inflates it.)
    if (message_opcode_ == Opcode::text && !message_compressed_ && !utf8_.feed(piece)) {
      return {pos, fail(close_code::kInvalidPayload, "text message is not UTF-8")};
    }
    pos += avail;
    frame_left_ -= avail;
    frame_done_ += avail;
    const bool zero_copy = whole && first_frame_ && frame_.fin;
    if (!zero_copy) message_ += piece;
    if (frame_left_ > 0) return {pos, Event::need_more};
    state_ = State::header;
    if (!frame_.fin) continue;

    if (message_opcode_ == Opcode::text && !message_compressed_ && !utf8_.complete()) {
      return {pos, fail(close_code::kInvalidPayload, "text message ends inside a character")};
    }
    in_message_ = false;
    event_opcode_ = message_opcode_;
    event_compressed_ = message_compressed_;
    payload_ = zero_copy ? piece : std::string_view(message_);
    return {pos, Event::message};
  }
}

}  // namespace avant::websocket
