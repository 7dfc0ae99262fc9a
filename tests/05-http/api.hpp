// api.hpp — the public API of module http that chapter 05's tests use, pinned at compile time
// (see tests/01-sockets/api.hpp for why).
#pragma once

#include <concepts>
#include <string_view>

#include <avant/http/http_server.hpp>
#include <avant/http/request_parser.hpp>

namespace avant::http::api {

template <class P>
concept SansIoRequestParser = !std::copyable<P> && requires(P p, const P cp, std::string_view in) {
  { p.feed(in) } -> std::same_as<typename P::Result>;
  { p.request() } -> std::same_as<Request&>;
  { cp.error() } -> std::same_as<const ParseError&>;
  { cp.phase() } -> std::same_as<typename P::Phase>;
  { cp.awaiting_continue() } -> std::same_as<bool>;
  { cp.upgrade() } -> std::same_as<bool>;
  p.continue_after_upgrade();
};
static_assert(SansIoRequestParser<RequestParser>, "RequestParser: see request_parser.hpp");

template <class R>
concept AnswerHandle =
    std::movable<R> && !std::copyable<R> && requires(R r, Response resp, std::string_view bytes) {
  r.send(resp);
  r.start(resp);
  { r.write(bytes) } -> std::same_as<tcp::SendStatus>;
  r.finish();
  r.on_writable([] {});
  r.upgrade(resp, tcp::ProtocolPtr{});
};
static_assert(AnswerHandle<Responder>, "Responder: see http_server.hpp");

}  // namespace avant::http::api
