// api.hpp — the public API of module tls that chapter 04's tests use, pinned at compile time
// (see tests/01-sockets/api.hpp for why).
#pragma once

#include <concepts>
#include <ostream>
#include <string>
#include <string_view>

#include <avant/net/buffer.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_engine.hpp>

namespace avant::tls {
// Lets GoogleTest print engine results and states by name in failure messages.
inline void PrintTo(TlsStatus status, std::ostream* out) {
  *out << to_string(status);
}
inline void PrintTo(TlsState state, std::ostream* out) {
  *out << to_string(state);
}
}  // namespace avant::tls

namespace avant::tls::api {

template <class E>
concept SansIoEngine =
    std::movable<E> && !std::copyable<E> &&
    requires(E e, const E ce, std::string_view bytes, net::Buffer& buffer, std::string& text) {
  { e.receive(bytes, buffer) } -> std::same_as<TlsStatus>;
  { e.send(bytes) } -> std::same_as<TlsStatus>;
  e.close();
  { e.take_output(buffer) } -> std::same_as<std::size_t>;
  { e.take_output(text) } -> std::same_as<std::size_t>;
  { ce.pending_output() } -> std::same_as<std::size_t>;
  { ce.state() } -> std::same_as<TlsState>;
  { ce.alpn() } -> std::same_as<std::string>;
  { ce.error() } -> std::same_as<const std::string&>;
};

static_assert(SansIoEngine<TlsEngine>, "TlsEngine: see tls_engine.hpp");
static_assert(std::movable<TlsContext> && !std::copyable<TlsContext>,
              "TlsContext: move-only, see tls_context.hpp");

}  // namespace avant::tls::api
