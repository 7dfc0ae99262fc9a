// message_parser.hpp — WebSocket frames in, messages and control frames out (sans-IO, RFC 6455).
//
//   feed(81 85 37 fa 21 3d 7f 9f 4d 51 58)      a masked "Hello" from a client (§5.7)
//     -> {consumed = 11, message}               opcode() == text, payload() == "Hello"
//   feed(01 83 ... "Hel")                       a first fragment: held, nothing to report yet
//     -> {consumed = 9, need_more}
//   feed(89 80 <key>)                           a ping between two fragments
//     -> {consumed = 6, ping}                   answer it; the message goes on
//   feed(80 82 ... "lo")                        the last fragment
//     -> {consumed = 8, message}                payload() == "Hello"
//
// It stops after each message and each control frame, so the caller answers a ping or a close
// before it reads on; feed the bytes it did not consume again with what arrives next. The result
// is the same however the bytes are split. Payloads are unmasked in place in the bytes passed, so
// a message that arrived whole in one frame is reported as a view of them without a copy;
// fragments and frames cut across reads are collected in the parser.
//
// Refused, with the close code to send and a reason to log (the parser then stays failed):
//   1002  reserved opcode, RSV2/RSV3 set, RSV1 set without compression (or on a continuation or
//         control frame), a client frame unmasked or a server frame masked, a control frame
//         fragmented or over 125 bytes, a continuation with no message begun, a new message
//         before the last one ended, a 64-bit length with its top bit set, a 1-byte close
//         payload or a close code no peer may send
//   1007  a text message or close reason that is not UTF-8, refused at its first bad byte
//   1009  a data message over max_message (refused as soon as a frame header says so)
// After a close frame the peer may send nothing more: later bytes are consumed and dropped.
//
// Threads: one thread at a time (a connection's loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <avant/websocket/frame.hpp>
#include <avant/websocket/utf8.hpp>

namespace avant::websocket {

// Which end of the connection the parser runs at: a server reads masked frames, a client
// unmasked ones.
enum class Role : std::uint8_t { server, client };

struct MessageLimits {
  // Payload bytes of one data message, all fragments together, as received (compressed bytes
  // for a compressed message; the inflater bounds what they inflate to). Over it: 1009.
  std::size_t max_message = 1u << 20;
};

struct FrameError {
  std::uint16_t code = 0;  // the close code to send: 1002, 1007 or 1009
  std::string reason;      // what was wrong, for the log (and the close frame)
};

class MessageParser {
 public:
  enum class Event : std::uint8_t { need_more, message, ping, pong, close, error };
  struct Result {
    std::size_t consumed = 0;  // bytes of the input used; the rest belongs to the next call
    Event event = Event::need_more;
  };

  explicit MessageParser(Role role, const MessageLimits& limits = {});

  // Parses until a message or a control frame is complete, the bytes run out, or an error.
  // Unmasks the payload bytes it consumes in place. After `error`, error() says why and every
  // later feed() returns the error again, consuming nothing.
  Result feed(std::span<char> bytes);

  // Accept RSV1 on a message's first frame: permessage-deflate was negotiated.
  void set_compression(bool on) noexcept { compression_ = on; }

  // After `message`: text or binary; after a control event: close, ping or pong.
  [[nodiscard]] Opcode opcode() const noexcept { return event_opcode_; }
  // After `message`: its first frame had RSV1 (the payload is still compressed).
  [[nodiscard]] bool compressed() const noexcept { return event_compressed_; }
  // After an event: the message or control payload, unmasked. A view of the bytes passed to
  // feed() or of the parser's own storage: valid until the next feed() and as long as the caller
  // keeps those bytes unchanged.
  [[nodiscard]] std::string_view payload() const noexcept { return payload_; }
  // After `close`: the peer's code (1005 when its close had none) and reason (valid UTF-8).
  [[nodiscard]] std::uint16_t close_code() const noexcept { return close_code_; }
  [[nodiscard]] std::string_view close_reason() const noexcept;

  [[nodiscard]] const FrameError& error() const noexcept { return error_; }
  [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }
  // A close frame was received.
  [[nodiscard]] bool closed() const noexcept { return state_ == State::closed; }
  // A fragmented message has begun and not ended.
  [[nodiscard]] bool in_message() const noexcept { return in_message_; }
  // Between messages, with no frame begun: a new parser would carry on the same (a session may
  // then drop this one and make another when bytes come).
  [[nodiscard]] bool at_rest() const noexcept { return !in_message_ && state_ == State::header; }
  // Bytes of heap storage the parser holds (for fragments and frames cut across reads).
  [[nodiscard]] std::size_t storage() const noexcept;
  // Frees that storage when no message is in progress (an idle connection keeps nothing).
  void release_storage() noexcept;
  [[nodiscard]] Role role() const noexcept { return role_; }
  [[nodiscard]] const MessageLimits& limits() const noexcept { return limits_; }

 private:
  enum class State : std::uint8_t { header, payload, closed, failed };

  // Reads a frame header from `in`: its size, 0 when more bytes are needed, or -1 on an error.
  [[nodiscard]] std::ptrdiff_t parse_header(std::span<const char> in);
  [[nodiscard]] Event finish_control(std::string_view payload);
  Event fail(std::uint16_t code, std::string reason);

  // Ordered by size, so the parser (one per connection) carries no padding.
  MessageLimits limits_;
  std::uint64_t frame_left_ = 0;    // payload bytes of the frame being read still to come
  std::uint64_t frame_done_ = 0;    // its payload bytes read (the mask offset)
  std::uint64_t message_size_ = 0;  // payload bytes of the message so far, this frame included
  FrameHeader frame_;               // the frame being read
  std::string_view payload_;
  std::string message_;  // a message's fragments, or a frame cut across feeds
  std::string control_;  // a control frame cut across feeds
  FrameError error_;
  std::uint16_t close_code_ = 0;
  Role role_;
  State state_ = State::header;
  bool compression_ = false;
  bool in_message_ = false;
  Opcode message_opcode_ = Opcode::binary;
  bool message_compressed_ = false;
  bool first_frame_ = false;  // the frame being read began its message
  Utf8Validator utf8_;
  Opcode event_opcode_ = Opcode::binary;
  bool event_compressed_ = false;
};

}  // namespace avant::websocket
