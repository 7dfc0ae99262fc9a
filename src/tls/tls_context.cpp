#include <array>
#include <cerrno>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <avant/net/io.hpp>
#include <avant/tls/tls_context.hpp>

namespace avant::tls {

namespace {

// The session id context names this application's sessions (required once clients are verified).
constexpr std::array<unsigned char, 5> kSessionContext{'a', 'v', 'a', 'n', 't'};

[[noreturn]] void fail(const std::string& what) {
  const std::string reasons = drain_openssl_errors();
  throw TlsError("tls: " + what + (reasons.empty() ? "" : ": " + reasons));
}

// A clearer message than OpenSSL's "system lib" when the file is simply not there.
void require_readable(const std::string& path, const char* role) {
  if (path.empty()) throw TlsError(std::string("tls: no ") + role + " file given");
  if (::access(path.c_str(), R_OK) != 0) {
    throw TlsError(std::string("tls: ") + role + " " + path + ": " + net::error_text(errno));
  }
}

int version_of(TlsVersion version) {
  return version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// Server side ALPN: the first of our protocols the client also offers. No overlap: no ALPN at
// all (the client decides whether it can live without), rather than a fatal alert.
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  unsigned char chosen_length = 0;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL's unsigned char API
  const auto* server_list = reinterpret_cast<const unsigned char*>(ours->data());
  if (SSL_select_next_proto(&chosen, &chosen_length, server_list,
                            static_cast<unsigned int>(ours->size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  *out_length = chosen_length;
  return SSL_TLSEXT_ERR_OK;
}

// The server's ALPN list belongs to the SSL_CTX itself (ex_data, freed with it): engines keep their
// SSL_CTX alive after the TlsContext is gone, and OpenSSL's selection callback reads the list.
void free_alpn(void* /*parent*/, void* data, CRYPTO_EX_DATA* /*ad*/, int /*index*/, long /*argl*/,
               void* /*argp*/) {
  delete static_cast<std::string*>(data);  // NOLINT(cppcoreguidelines-owning-memory): ex_data
}

int alpn_index() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr, free_alpn);
  return index;
}

SSL_CTX* new_context(bool server, TlsVersion min_version) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) fail("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, version_of(min_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

void load_chain_and_key(SSL_CTX* ctx, const std::string& chain, const std::string& key) {
  require_readable(chain, "certificate chain");
  require_readable(key, "private key");
  if (SSL_CTX_use_certificate_chain_file(ctx, chain.c_str()) != 1) {
    fail("certificate chain " + chain);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string reasons = drain_openssl_errors();
    if (reasons.find("mismatch") != std::string::npos) {
      throw TlsError("tls: private key " + key + " does not match the certificate in " + chain +
                     " (" + reasons + ")");
    }
    throw TlsError("tls: private key " + key + (reasons.empty() ? "" : ": " + reasons));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    fail("private key " + key + " does not match the certificate in " + chain);
  }
}

}  // namespace

std::string drain_openssl_errors() {
  std::string text;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    std::array<char, 256> reason{};
    ERR_error_string_n(code, reason.data(), reason.size());
    // "error:0A000086:SSL routines::certificate verify failed" -> keep what follows the codes.
    std::string_view line(reason.data());
    const std::size_t at = line.rfind(':');
    if (at != std::string_view::npos && at + 1 < line.size()) line.remove_prefix(at + 1);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text;
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& name : protocols) {
    if (name.empty() || name.size() > 255) {
      throw TlsError("tls: ALPN protocol names are 1 to 255 bytes: '" + name + "'");
    }
    wire.push_back(static_cast<char>(name.size()));
    wire += name;
  }
  return wire;
}

TlsContext::TlsContext(SSL_CTX* ctx, bool server) noexcept : ctx_(ctx), server_(server) {}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);  // null-safe
}

TlsContext::TlsContext(TlsContext&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), server_(other.server_) {}

TlsContext& TlsContext::operator=(TlsContext&& other) noexcept {
  if (this != &other) {
    SSL_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    server_ = other.server_;
  }
  return *this;
}

TlsContext TlsContext::server(const TlsServerOptions& options) {
  std::string alpn = alpn_wire_format(options.alpn);
  TlsContext context(new_context(true, options.min_version), true);
  SSL_CTX* ctx = context.ctx_;
  if (SSL_CTX_set_cipher_list(ctx, options.tls12_ciphers.c_str()) != 1) {
    fail("TLS 1.2 cipher list '" + options.tls12_ciphers + "'");
  }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  load_chain_and_key(ctx, options.certificate_chain_file, options.private_key_file);
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext.data(), kSessionContext.size()) != 1) {
    fail("session id context");
  }
  if (!options.client_ca_file.empty()) {
    require_readable(options.client_ca_file, "client CA");
    if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1) {
      fail("client CA " + options.client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr) fail("client CA names " + options.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    const int mode = SSL_VERIFY_PEER |
                     (options.require_client_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, nullptr);
  } else if (options.require_client_certificate) {
    throw TlsError("tls: require_client_certificate needs client_ca_file");
  }
  if (!alpn.empty()) {
    auto owned = std::make_unique<std::string>(std::move(alpn));
    if (alpn_index() < 0 || SSL_CTX_set_ex_data(ctx, alpn_index(), owned.get()) != 1) {
      fail("ALPN list");
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, owned.release());  // freed with the SSL_CTX
  }
  return context;
}

TlsContext TlsContext::client(const TlsClientOptions& options) {
  TlsContext context(new_context(false, options.min_version), false);
  SSL_CTX* ctx = context.ctx_;
  if (options.verify_peer) {
    if (options.ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) fail("the system's trusted roots");
    } else {
      require_readable(options.ca_file, "CA");
      if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
        fail("CA " + options.ca_file);
      }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.certificate_chain_file.empty() || !options.private_key_file.empty()) {
    load_chain_and_key(ctx, options.certificate_chain_file, options.private_key_file);
  }
  if (!options.alpn.empty()) {
    const std::string wire = alpn_wire_format(options.alpn);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL's unsigned char API
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {  // 0 is success
      fail("ALPN list");
    }
  }
  return context;
}

}  // namespace avant::tls
