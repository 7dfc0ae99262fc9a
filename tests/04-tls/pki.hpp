// pki.hpp — test certificates, made at test time with OpenSSL's API (no key is committed).
//
//   ca.pem            a self-signed CA ("CN=Avant Test CA")
//   server.pem        leaf "CN=localhost" (SAN DNS:localhost, IP:127.0.0.1) signed by the CA,
//                     followed by the CA: a certificate chain as a server serves it
//   server.key        its private key
//   client.pem/.key   leaf "CN=client" signed by the CA, for client-certificate tests
//   other.key         a key that matches no certificate
//   other-ca.pem      a second, unrelated CA (a client trusting it must refuse the server)
//
// Keys are EC P-256. Certificates are valid from a minute ago for one day.
// Threads: any; each call writes its own folder.
#pragma once

#include <filesystem>
#include <string>

namespace avant::tls::testing {

struct TestPki {
  std::filesystem::path dir;
  std::string ca;
  std::string server_chain;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_key;
  std::string other_ca;
};

// Writes the files into `dir` (which must exist). Throws std::runtime_error with OpenSSL's reason
// on failure.
[[nodiscard]] TestPki make_test_pki(const std::filesystem::path& dir);

// A folder under the system's temporary folder, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace avant::tls::testing
