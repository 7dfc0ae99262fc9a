// tls_context.hpp — the configuration every TLS connection of a listener (or a client) shares.
//
// A TlsContext wraps one OpenSSL SSL_CTX: certificate chain and private key (the original's
// crt.pem / key.pem), protocol versions, ciphers, ALPN, and how peers are verified. Everything
// that can be wrong with it is found when it is built, not at the first handshake: a missing or
// unreadable file, a PEM that does not parse, a key that does not match the certificate — each
// throws TlsError naming the file and OpenSSL's reason, so a server refuses to start.
//
// Defaults, for a server a browser or curl can talk to today:
//   - TLS 1.2 minimum (1.0 and 1.1 are refused: RFC 8996), TLS 1.3 preferred when both offer it;
//   - TLS 1.2 ciphers: ECDHE with AES-GCM or ChaCha20-Poly1305 only (forward secrecy, AEAD);
//     TLS 1.3 suites: OpenSSL's (all AEAD);
//   - renegotiation off (a client-initiated renegotiation is a cheap way to burn server CPU),
//     compression off (CRIME);
//   - ALPN "http/1.1"; a client offering no protocol we speak still gets a handshake without ALPN;
//   - OpenSSL frees a connection's read and write buffers while it is idle (about 34 KiB per
//     connection), which matters at 20000 connections.
//
// Ownership: move-only; owns the SSL_CTX. Engines made from a context keep it alive (OpenSSL
// counts references), so a context may be destroyed before its engines.
// Threads: build on any thread; a built context is read-only and shared by every loop.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace avant::tls {

// A TLS set-up or handshake failure, with OpenSSL's reasons appended.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

// TLS 1.2 cipher list of the defaults (OpenSSL names), strongest first.
inline constexpr const char* kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct TlsServerOptions {
  std::string certificate_chain_file{};  // PEM, the server's certificate first (crt.pem)
  std::string private_key_file{};        // PEM (key.pem)
  TlsVersion min_version = TlsVersion::tls1_2;
  std::vector<std::string> alpn = {"http/1.1"};  // the server's preference order; empty: none
  std::string tls12_ciphers = kDefaultTls12Ciphers;
  std::string client_ca_file{};  // non-empty: ask for client certificates, verified against it
  bool require_client_certificate = false;  // with client_ca_file: refuse clients without one
};

struct TlsClientOptions {
  std::string ca_file{};  // trusted roots (PEM); empty: the system's store
  bool verify_peer = true;
  TlsVersion min_version = TlsVersion::tls1_2;
  std::vector<std::string> alpn{};       // offered, in preference order
  std::string certificate_chain_file{};  // optional client certificate (with private_key_file)
  std::string private_key_file{};
};

class TlsContext {
 public:
  // Throw TlsError naming the file or setting and OpenSSL's reason.
  [[nodiscard]] static TlsContext server(const TlsServerOptions& options);
  [[nodiscard]] static TlsContext client(const TlsClientOptions& options);

  ~TlsContext();
  TlsContext(TlsContext&& other) noexcept;
  TlsContext& operator=(TlsContext&& other) noexcept;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  [[nodiscard]] bool is_server() const noexcept { return server_; }
  // The OpenSSL object, for what this class does not cover. Still owned here.
  [[nodiscard]] ssl_ctx_st* native() const noexcept { return ctx_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool server) noexcept;

  ssl_ctx_st* ctx_ = nullptr;  // the server's ALPN list hangs off it (ex_data), freed with it
  bool server_ = false;
};

// "http/1.1", "h2" -> "\x08http/1.1\x02h2" (RFC 7301). Throws TlsError on an empty or too long
// name.
[[nodiscard]] std::string alpn_wire_format(const std::vector<std::string>& protocols);

// OpenSSL's queued errors for this thread, "reason; reason", and clears the queue.
[[nodiscard]] std::string drain_openssl_errors();

}  // namespace avant::tls
