// tls_engine.hpp — one TLS connection as a sans-IO engine: bytes in, bytes out, no socket.
//
//            receive(ciphertext) ──> [ rbio ] ──> SSL ──> plaintext (appended to a Buffer)
//   peer <──                                      │
//            take_output()       <── [ wbio ] <── SSL <── send(plaintext)
//
// Two memory BIOs stand where a socket would be: the caller moves ciphertext between them and
// whatever transport it has (a TcpConnection, or another engine in a test). The engine never
// blocks and never does I/O, so every TLS behaviour — handshake, fragmentation, close_notify, a
// corrupted record, a refused renegotiation — is testable by wiring two engines in memory, and one
// code path serves every transport of the framework.
//
// After each receive() or send(), take_output() collects what the engine wants sent: handshake
// records, application records, alerts, close_notify. receive() decrypts everything OpenSSL holds
// (not one record per call): plaintext left inside OpenSSL when a read budget ends is the stall
// the original Avant had under level-triggered epoll.
//
// Plaintext sent before the handshake has finished waits in the engine and is encrypted as soon as
// the handshake completes.
//
// Errors are values: receive() and send() answer TlsStatus::error, error() says why (OpenSSL's
// reasons), and take_output() may still hold an alert for the peer.
//
// Ownership: move-only; owns its SSL and both BIOs; keeps its context's SSL_CTX alive.
// Threads: one thread at a time (the loop that owns the connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <avant/net/buffer.hpp>
#include <avant/tls/tls_context.hpp>

struct ssl_st;  // OpenSSL's SSL
struct bio_st;  // OpenSSL's BIO

namespace avant::tls {

enum class [[nodiscard]] TlsStatus : std::uint8_t{
    ok,      // progressing or established; nothing wrong
    closed,  // the peer sent close_notify: no more plaintext will come
    error,   // the connection is unusable: see error(); send take_output() (an alert), then close
};

enum class TlsState : std::uint8_t { handshaking, established, closed, failed };

[[nodiscard]] std::string_view to_string(TlsStatus status) noexcept;
[[nodiscard]] std::string_view to_string(TlsState state) noexcept;

class TlsEngine {
 public:
  // A server engine: waits for the peer's ClientHello.
  [[nodiscard]] static TlsEngine server(const TlsContext& context);
  // A client engine for `server_name`: sent as SNI and checked against the certificate when the
  // context verifies peers (an IP literal is checked as an IP address, and sent without SNI); a
  // verifying context needs a name (TlsError without one). The ClientHello is in take_output()
  // at once.
  [[nodiscard]] static TlsEngine client(const TlsContext& context, std::string_view server_name);

  ~TlsEngine();
  TlsEngine(TlsEngine&& other) noexcept;
  TlsEngine& operator=(TlsEngine&& other) noexcept;
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  // Ciphertext from the peer, all of it taken. Advances the handshake and appends every byte of
  // plaintext now available to `plaintext` (error, with nothing appended past its max_size, if it
  // cannot hold it).
  TlsStatus receive(std::string_view ciphertext, net::Buffer& plaintext);
  // Plaintext for the peer: encrypted now, or held until the handshake completes.
  TlsStatus send(std::string_view plaintext);
  // Queues close_notify (our side will send no more). Idempotent.
  void close();

  // Ciphertext waiting to be sent to the peer.
  [[nodiscard]] std::size_t pending_output() const noexcept;
  // Appends the waiting ciphertext to `out` and returns how much. What does not fit under a
  // Buffer's max_size stays here for the next call.
  std::size_t take_output(net::Buffer& out);
  std::size_t take_output(std::string& out);

  [[nodiscard]] TlsState state() const noexcept { return state_; }
  [[nodiscard]] bool handshake_done() const noexcept {
    return state_ == TlsState::established || state_ == TlsState::closed;
  }
  // Plaintext held until the handshake completes.
  [[nodiscard]] std::size_t held_plaintext() const noexcept { return held_.size(); }
  // After the handshake: the negotiated protocol ("http/1.1"; empty without ALPN), the version
  // ("TLSv1.3") and cipher suite names.
  [[nodiscard]] std::string alpn() const;
  [[nodiscard]] std::string version() const;
  [[nodiscard]] std::string cipher() const;
  // The subject of the peer's certificate ("CN=client"), empty if it sent none.
  [[nodiscard]] std::string peer_subject() const;
  // Why the engine failed (TlsState::failed).
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] bool is_server() const noexcept { return server_; }

  // The OpenSSL object, for what this class does not cover (tests use it to renegotiate).
  [[nodiscard]] ssl_st* native() const noexcept { return ssl_; }

 private:
  TlsEngine(ssl_st* ssl, bio_st* rbio, bio_st* wbio, bool server) noexcept;
  static TlsEngine make(const TlsContext& context, bool server);
  TlsStatus advance();
  TlsStatus read_all(net::Buffer& plaintext);
  TlsStatus write_all(std::string_view plaintext);
  TlsStatus fail(std::string what);

  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // owned by ssl_ (SSL_set_bio)
  bio_st* wbio_ = nullptr;  // owned by ssl_
  bool server_ = false;
  TlsState state_ = TlsState::handshaking;
  bool sent_close_ = false;
  std::string held_;  // plaintext sent before the handshake completed
  std::string error_;
};

}  // namespace avant::tls
