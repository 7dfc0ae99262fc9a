// The given half of tls_engine.hpp: names, construction and moves, the server and client
// factories (SNI, certificate name), and what the engine reports of its session. Lab 04 does not
// replace this file; the engine's work is in tls_engine.cpp.
#include <string>
#include <utility>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avant/tls/tls_engine.hpp>

namespace avant::tls {

namespace {

bool is_ip_literal(const std::string& name) {
  unsigned char address[16];  // NOLINT(cppcoreguidelines-avoid-c-arrays): inet_pton's buffer
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// SNI. (SSL_set_tlsext_host_name is a macro with a C cast in it.)
bool set_server_name(SSL* ssl, std::string name) {
  // OpenSSL's ctrl takes a void* (it only reads, and copies the name): give it our own copy.
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name.data()) == 1;
}

}  // namespace

std::string_view to_string(TlsStatus status) noexcept {
  switch (status) {
    case TlsStatus::ok:
      return "ok";
    case TlsStatus::closed:
      return "closed";
    case TlsStatus::error:
      return "error";
  }
  return "unknown";
}

std::string_view to_string(TlsState state) noexcept {
  switch (state) {
    case TlsState::handshaking:
      return "handshaking";
    case TlsState::established:
      return "established";
    case TlsState::closed:
      return "closed";
    case TlsState::failed:
      return "failed";
  }
  return "unknown";
}

TlsEngine::TlsEngine(ssl_st* ssl, bio_st* rbio, bio_st* wbio, bool server) noexcept
    : ssl_(ssl), rbio_(rbio), wbio_(wbio), server_(server) {}

TlsEngine::~TlsEngine() {
  SSL_free(ssl_);  // frees both BIOs; null-safe
}

TlsEngine::TlsEngine(TlsEngine&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      rbio_(std::exchange(other.rbio_, nullptr)),
      wbio_(std::exchange(other.wbio_, nullptr)),
      server_(other.server_),
      state_(other.state_),
      sent_close_(other.sent_close_),
      held_(std::move(other.held_)),
      error_(std::move(other.error_)) {}

TlsEngine& TlsEngine::operator=(TlsEngine&& other) noexcept {
  if (this != &other) {
    SSL_free(ssl_);
    ssl_ = std::exchange(other.ssl_, nullptr);
    rbio_ = std::exchange(other.rbio_, nullptr);
    wbio_ = std::exchange(other.wbio_, nullptr);
    server_ = other.server_;
    state_ = other.state_;
    sent_close_ = other.sent_close_;
    held_ = std::move(other.held_);
    error_ = std::move(other.error_);
  }
  return *this;
}

TlsEngine TlsEngine::server(const TlsContext& context) {
  if (!context.is_server()) throw TlsError("tls: a server engine needs a server context");
  return make(context, true);
}

TlsEngine TlsEngine::client(const TlsContext& context, std::string_view server_name) {
  if (context.is_server()) throw TlsError("tls: a client engine needs a client context");
  TlsEngine engine = make(context, false);
  SSL* ssl = engine.ssl_;
  if (server_name.empty() && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
    // A verified certificate for *some* name proves nothing: refuse rather than accept any host.
    throw TlsError("tls: a client that verifies its peer needs the server's name");
  }
  if (!server_name.empty()) {
    const std::string name(server_name);
    const bool named = is_ip_literal(name)
                           ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                           : set_server_name(ssl, name) && SSL_set1_host(ssl, name.c_str()) == 1;
    if (!named) throw TlsError("tls: server name '" + name + "': " + drain_openssl_errors());
  }
  if (engine.advance() != TlsStatus::ok) throw TlsError(engine.error());  // the ClientHello
  return engine;
}

std::string TlsEngine::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL's unsigned char API
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), length);
}

std::string TlsEngine::version() const {
  return handshake_done() ? SSL_get_version(ssl_) : "";
}

std::string TlsEngine::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return handshake_done() && name != nullptr ? name : "";
}

std::string TlsEngine::peer_subject() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return {};
  std::string subject;
  BIO* text = BIO_new(BIO_s_mem());
  if (text != nullptr &&
      X509_NAME_print_ex(text, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(text, &data);
    if (length > 0) subject.assign(data, static_cast<std::size_t>(length));
  }
  BIO_free(text);
  X509_free(certificate);
  return subject;
}

}  // namespace avant::tls
