// Lab 04 — TlsEngine's work: the memory BIOs, the handshake, records in and out, errors as values.
// The given half (construction, moves, server()/client(), the session's names) is in
// src/tls/tls_engine_lifecycle.cpp. Contract: src/tls/include/avant/tls/tls_engine.hpp.
// Tests: ctest -L ch04.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <avant/tls/tls_engine.hpp>

namespace avant::tls {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(04): ") + what);
}
}  // namespace

TlsEngine TlsEngine::make(const TlsContext& context, bool server) {
  static_cast<void>(context);
  static_cast<void>(server);
  todo(
      "TlsEngine::make: SSL_new from the context; two BIO_s_mem() BIOs (free everything and throw "
      "TlsError if one is missing); an empty read BIO means 'more later' (BIO_set_mem_eof_return "
      "-1); SSL_set_bio; accept state for a server, connect state for a client");
}

TlsStatus TlsEngine::receive(std::string_view ciphertext, net::Buffer& plaintext) {
  static_cast<void>(ciphertext);
  static_cast<void>(plaintext);
  todo(
      "TlsEngine::receive: failed -> error, closed -> closed; BIO_write all of it into rbio_; "
      "while handshaking advance(); then read_all() into `plaintext`");
}

TlsStatus TlsEngine::send(std::string_view plaintext) {
  static_cast<void>(plaintext);
  todo(
      "TlsEngine::send: failed -> error; after close() -> error (say so in error_); while "
      "handshaking hold it in held_; else write_all()");
}

void TlsEngine::close() {
  todo(
      "TlsEngine::close: once; drop what is held; after the handshake SSL_shutdown queues "
      "close_notify (0 is a fine answer)");
}

std::size_t TlsEngine::pending_output() const noexcept {
  // noexcept: a TODO cannot be thrown from here, so the lab says it loudly and stops.
  std::fputs("TODO(04): TlsEngine::pending_output: the bytes waiting in wbio_ (BIO_ctrl_pending)\n",
             stderr);
  std::abort();
}

std::size_t TlsEngine::take_output(net::Buffer& out) {
  static_cast<void>(out);
  todo(
      "TlsEngine::take_output(Buffer): BIO_read wbio_ straight into out's writable space, no more "
      "than out's max_size allows; return how much");
}

std::size_t TlsEngine::take_output(std::string& out) {
  static_cast<void>(out);
  todo("TlsEngine::take_output(string): append everything waiting in wbio_; return how much");
}

TlsStatus TlsEngine::advance() {
  todo(
      "TlsEngine::advance: SSL_do_handshake; 1 -> established, then write what was held; "
      "WANT_READ/WANT_WRITE -> ok (waiting for the peer); anything else -> fail()");
}

TlsStatus TlsEngine::read_all(net::Buffer& plaintext) {
  static_cast<void>(plaintext);
  todo(
      "TlsEngine::read_all: SSL_read_ex into the buffer, 16 KiB at a time, until WANT_READ (ok): "
      "everything OpenSSL holds, not one record; ZERO_RETURN -> closed; a full buffer with more "
      "to come -> fail(); other errors -> fail()");
}

TlsStatus TlsEngine::write_all(std::string_view plaintext) {
  static_cast<void>(plaintext);
  todo("TlsEngine::write_all: SSL_write_ex until all is written (a memory BIO takes everything)");
}

TlsStatus TlsEngine::fail(std::string what) {
  static_cast<void>(what);
  todo(
      "TlsEngine::fail: error_ = 'tls: ' + what + ': ' + OpenSSL's reasons "
      "(drain_openssl_errors(), plus the certificate verify result when that failed); state "
      "failed; return error");
}

}  // namespace avant::tls
