// TlsEngine's work: the memory BIOs, the handshake, moving records in and out, errors as values
// (tls_engine.hpp). Lab 04 rewrites this file; the rest is in tls_engine_lifecycle.cpp.
#include <algorithm>
#include <climits>
#include <string>
#include <utility>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <avant/tls/tls_engine.hpp>

namespace avant::tls {

namespace {
constexpr std::size_t kRecord = std::size_t{16} * 1024;  // the largest TLS record's plaintext
}  // namespace

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
