// tls_filter.hpp — TLS under any TcpConnection: a TlsEngine behind the tcp::ConnectionFilter
// interface.
//
//   TcpServerOptions options;
//   options.filter = tls::server_filter(context);   // every accepted connection speaks TLS
//
// The connection does the rest (connection_filter.hpp): the application's callbacks see
// plaintext, "up" comes after the handshake, a stalled handshake is closed after
// ConnectionOptions::handshake_timeout, shutdown() sends close_notify before FIN, and send(),
// backpressure and the idle timeout work as on plain TCP: queued output is counted in bytes on
// the wire (records), and bytes sent before the handshake completes are counted while they wait.
//
// Threads: a filter belongs to its connection's loop; the factories may be called from any thread
// (the context is shared read-only).
#pragma once

#include <memory>
#include <string>

#include <avant/tcp/connection_filter.hpp>
#include <avant/tcp/tcp_connection.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_engine.hpp>

namespace avant::tls {

class TlsFilter final : public tcp::ConnectionFilter {
 public:
  explicit TlsFilter(TlsEngine engine) : engine_(std::move(engine)) {}

  Status receive(std::string_view wire, net::Buffer& app) override;
  Status send(std::string_view app) override;
  void close() override { engine_.close(); }
  std::size_t take_output(std::string& wire) override { return engine_.take_output(wire); }
  [[nodiscard]] bool ready() const override { return engine_.handshake_done(); }
  [[nodiscard]] std::string error() const override { return engine_.error(); }

  // The negotiated session: alpn(), version(), cipher(), peer_subject().
  [[nodiscard]] const TlsEngine& engine() const noexcept { return engine_; }

 private:
  TlsEngine engine_;
};

// For TcpServerOptions::filter: a server engine per accepted connection.
[[nodiscard]] tcp::FilterFactory server_filter(std::shared_ptr<const TlsContext> context);
// For an outgoing connection to `server_name` (SNI and certificate name).
[[nodiscard]] tcp::FilterFactory client_filter(std::shared_ptr<const TlsContext> context,
                                               std::string server_name);

// The TLS session of a connection, or null if it has no TLS filter. Loop thread.
[[nodiscard]] const TlsEngine* tls_session(const tcp::TcpConnection& connection) noexcept;

}  // namespace avant::tls
