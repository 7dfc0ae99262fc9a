#include "pki.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace avant::tls::testing {

namespace {

struct FreeKey {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FreeCert {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct CloseFile {
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): closing the FILE* is this deleter's job
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using Key = std::unique_ptr<EVP_PKEY, FreeKey>;
using Cert = std::unique_ptr<X509, FreeCert>;

[[noreturn]] void fail(const std::string& what) {
  std::array<char, 256> reason{};
  ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
  throw std::runtime_error("test PKI: " + what + ": " + reason.data());
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) fail(std::string("extension ") + value);
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, signed by issuer/issuer_key (self-signed when
// issuer is null). `san`: subjectAltName, empty for none.
Cert new_cert(EVP_PKEY* key, const char* common_name, long serial, X509* issuer,
              EVP_PKEY* issuer_key, bool ca, const char* san) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL's unsigned char API
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    if (san[0] != '\0') add_extension(cert.get(), signer, NID_subject_alt_name, san);
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    fail(std::string("X509_sign ") + common_name);
  }
  return cert;
}

std::unique_ptr<std::FILE, CloseFile> open_for_writing(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "w"));
  if (!file) throw std::runtime_error("test PKI: cannot write " + path.string());
  return file;
}

void write_certs(const std::filesystem::path& path, std::initializer_list<X509*> certs) {
  auto file = open_for_writing(path);
  for (X509* cert : certs) {
    if (PEM_write_X509(file.get(), cert) != 1) fail("PEM_write_X509 " + path.string());
  }
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  auto file = open_for_writing(path);
  if (PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("PEM_write_PrivateKey " + path.string());
  }
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "avant-tls-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

TestPki make_test_pki(const std::filesystem::path& dir) {
  const Key ca_key = new_key();
  const Cert ca = new_cert(ca_key.get(), "Avant Test CA", 1, nullptr, nullptr, true, "");
  const Key server_key = new_key();
  const Cert server = new_cert(server_key.get(), "localhost", 2, ca.get(), ca_key.get(), false,
                               "DNS:localhost,IP:127.0.0.1");
  const Key client_key = new_key();
  const Cert client =
      new_cert(client_key.get(), "client", 3, ca.get(), ca_key.get(), false, "DNS:client");
  const Key other_key = new_key();
  const Key other_ca_key = new_key();
  const Cert other_ca =
      new_cert(other_ca_key.get(), "Other Test CA", 4, nullptr, nullptr, true, "");

  TestPki pki{.dir = dir,
              .ca = (dir / "ca.pem").string(),
              .server_chain = (dir / "server.pem").string(),
              .server_key = (dir / "server.key").string(),
              .client_cert = (dir / "client.pem").string(),
              .client_key = (dir / "client.key").string(),
              .other_key = (dir / "other.key").string(),
              .other_ca = (dir / "other-ca.pem").string()};
  write_certs(pki.ca, {ca.get()});
  write_certs(pki.server_chain, {server.get(), ca.get()});
  write_key(pki.server_key, server_key.get());
  write_certs(pki.client_cert, {client.get()});
  write_key(pki.client_key, client_key.get());
  write_key(pki.other_key, other_key.get());
  write_certs(pki.other_ca, {other_ca.get()});
  return pki;
}

}  // namespace avant::tls::testing
