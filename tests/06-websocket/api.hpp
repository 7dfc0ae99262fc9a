// api.hpp — the public API of module websocket that chapter 06's tests use, pinned at compile
// time (see tests/01-sockets/api.hpp for why).
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>

#include <avant/websocket/frame.hpp>
#include <avant/websocket/handshake.hpp>
#include <avant/websocket/message_parser.hpp>
#include <avant/websocket/utf8.hpp>

namespace avant::websocket::api {

template <class P>
concept SansIoMessageParser = requires(P p, const P cp, std::span<char> in) {
  { p.feed(in) } -> std::same_as<typename P::Result>;
  { cp.opcode() } -> std::same_as<Opcode>;
  { cp.compressed() } -> std::same_as<bool>;
  { cp.payload() } -> std::same_as<std::string_view>;
  { cp.close_code() } -> std::same_as<std::uint16_t>;
  { cp.close_reason() } -> std::same_as<std::string_view>;
  { cp.error() } -> std::same_as<const FrameError&>;
  { cp.failed() } -> std::same_as<bool>;
  { cp.closed() } -> std::same_as<bool>;
  { cp.in_message() } -> std::same_as<bool>;
  p.set_compression(true);
  p.release_storage();
};
static_assert(SansIoMessageParser<MessageParser>, "MessageParser: see message_parser.hpp");

template <class V>
concept StreamingUtf8 = requires(V v, const V cv, std::string_view s) {
  { v.feed(s) } -> std::same_as<bool>;
  { cv.complete() } -> std::same_as<bool>;
  { cv.failed() } -> std::same_as<bool>;
  v.reset();
};
static_assert(StreamingUtf8<Utf8Validator>, "Utf8Validator: see utf8.hpp");

}  // namespace avant::websocket::api
