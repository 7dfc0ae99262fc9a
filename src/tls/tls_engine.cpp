#include <algorithm>
#include <climits>
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

constexpr std::size_t kRecord = std::size_t{16} * 1024;  // the largest TLS record's plaintext

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

TlsEngine TlsEngine::make(const TlsContext& context, bool server) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context.native());
  if (ssl == nullptr) throw TlsError("tls: SSL_new: " + drain_openssl_errors());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl);
    throw TlsError("tls: BIO_new: " + drain_openssl_errors());
  }
  // An empty input BIO means "more is coming", not end of stream: the transport reports its end.
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(ssl, rbio, wbio);
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return {ssl, rbio, wbio, server};
}

TlsEngine TlsEngine::server(const TlsContext& context) {
  if (!context.is_server()) throw TlsError("tls: a server engine needs a server context");
  return make(context, true);
}

TlsEngine TlsEngine::client(const TlsContext& context, std::string_view server_name) {
  if (context.is_server()) throw TlsError("tls: a client engine needs a client context");
  TlsEngine engine = make(context, false);
  SSL* ssl = engine.ssl_;
  if (!server_name.empty()) {
    const std::string name(server_name);
    const bool named = is_ip_literal(name)
                           ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                           : set_server_name(ssl, name) && SSL_set1_host(ssl, name.c_str()) == 1;
    if (!named) throw TlsError("tls: server name '" + name + "': " + drain_openssl_errors());
  }
  static_cast<void>(engine.advance());  // the ClientHello, into the output
  return engine;
}

TlsStatus TlsEngine::receive(std::string_view ciphertext, net::Buffer& plaintext) {
  if (state_ == TlsState::failed) return TlsStatus::error;
  if (state_ == TlsState::closed) return TlsStatus::closed;  // nothing comes after close_notify
  while (!ciphertext.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(ciphertext.size(), INT_MAX));
    const int n = BIO_write(rbio_, ciphertext.data(), chunk);
    if (n <= 0) return fail("buffering received bytes");
    ciphertext.remove_prefix(static_cast<std::size_t>(n));
  }
  if (state_ == TlsState::handshaking) {
    const TlsStatus status = advance();
    if (status != TlsStatus::ok || state_ == TlsState::handshaking) return status;
  }
  return read_all(plaintext);
}

TlsStatus TlsEngine::send(std::string_view plaintext) {
  if (state_ == TlsState::failed) return TlsStatus::error;
  if (sent_close_) {
    error_ = "tls: send after close()";
    return TlsStatus::error;
  }
  if (state_ == TlsState::handshaking) {
    held_.append(plaintext);
    return TlsStatus::ok;
  }
  return write_all(plaintext);
}

void TlsEngine::close() {
  if (sent_close_ || ssl_ == nullptr || state_ == TlsState::failed) return;
  sent_close_ = true;
  held_.clear();
  if (state_ == TlsState::handshaking) return;  // nothing to protect yet: the transport closes
  ERR_clear_error();
  // Queues close_notify; 0 ("the peer's has not arrived yet") is the usual answer and fine.
  static_cast<void>(SSL_shutdown(ssl_));
  ERR_clear_error();
}

std::size_t TlsEngine::pending_output() const noexcept {
  return wbio_ == nullptr ? 0 : BIO_ctrl_pending(wbio_);
}

std::size_t TlsEngine::take_output(net::Buffer& out) {
  const std::size_t room = out.max_size() - std::min(out.max_size(), out.readable_bytes());
  const std::size_t n = std::min(pending_output(), room);
  if (n == 0 || !out.ensure_writable(n)) return 0;
  const int got =
      BIO_read(wbio_, out.begin_write(), static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
  if (got <= 0) return 0;
  out.has_written(static_cast<std::size_t>(got));
  return static_cast<std::size_t>(got);
}

std::size_t TlsEngine::take_output(std::string& out) {
  const std::size_t n = std::min<std::size_t>(pending_output(), INT_MAX);
  if (n == 0) return 0;
  const std::size_t before = out.size();
  out.resize(before + n);
  const int got = BIO_read(wbio_, out.data() + before, static_cast<int>(n));
  out.resize(before + static_cast<std::size_t>(std::max(got, 0)));
  return static_cast<std::size_t>(std::max(got, 0));
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

TlsStatus TlsEngine::advance() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    state_ = TlsState::established;
    if (held_.empty()) return TlsStatus::ok;
    const std::string held = std::exchange(held_, {});
    return write_all(held);
  }
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return TlsStatus::ok;
  return fail("handshake failed");
}

TlsStatus TlsEngine::read_all(net::Buffer& plaintext) {
  for (;;) {
    const std::size_t room = std::min(
        kRecord, plaintext.max_size() - std::min(plaintext.max_size(), plaintext.readable_bytes()));
    if (room == 0) {
      if (SSL_pending(ssl_) == 0 && BIO_ctrl_pending(rbio_) == 0) return TlsStatus::ok;
      return fail("received plaintext over the input limit");
    }
    if (!plaintext.ensure_writable(room)) return fail("received plaintext over the input limit");
    ERR_clear_error();
    std::size_t got = 0;
    const int r = SSL_read_ex(ssl_, plaintext.begin_write(), room, &got);
    if (r == 1) {
      plaintext.has_written(got);
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return TlsStatus::ok;
    if (e == SSL_ERROR_ZERO_RETURN) {
      state_ = TlsState::closed;
      return TlsStatus::closed;
    }
    return fail("receive");
  }
}

TlsStatus TlsEngine::write_all(std::string_view plaintext) {
  while (!plaintext.empty()) {
    ERR_clear_error();
    std::size_t written = 0;
    // A memory BIO takes everything, so each call writes whole records until all is written.
    if (SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) != 1) return fail("send");
    plaintext.remove_prefix(written);
  }
  return TlsStatus::ok;
}

TlsStatus TlsEngine::fail(std::string what) {
  std::string reasons = drain_openssl_errors();
  const long verify = ssl_ == nullptr ? X509_V_OK : SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK && reasons.find("certificate verify failed") != std::string::npos) {
    reasons += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
  }
  error_ = "tls: " + std::move(what) + (reasons.empty() ? "" : ": " + reasons);
  state_ = TlsState::failed;
  return TlsStatus::error;
}

}  // namespace avant::tls
