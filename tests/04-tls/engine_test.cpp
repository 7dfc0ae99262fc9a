// Unit tests of the sans-IO TLS engine: a client engine wired to a server engine in memory, with
// certificates made at test time. No socket anywhere.
#include <initializer_list>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include <avant/testing/harness.hpp>
#include <avant/testing/steps.hpp>

#include <gtest/gtest.h>

#include "api.hpp"
#include "pki.hpp"

namespace avant::tls {
namespace {

using testing::TempDir;
using testing::TestPki;

class Pair : public ::testing::Test {
 protected:
  Pair() : pki_(testing::make_test_pki(dir_.path())) {}

  [[nodiscard]] TlsServerOptions server_options() const {
    return TlsServerOptions{.certificate_chain_file = pki_.server_chain,
                            .private_key_file = pki_.server_key};
  }
  [[nodiscard]] TlsClientOptions client_options() const {
    return TlsClientOptions{.ca_file = pki_.ca, .alpn = {"http/1.1"}};
  }

  // Moves every pending ciphertext byte across, both ways, until neither side has any; each
  // side's plaintext goes to its buffer. Returns the last non-ok status seen, or ok.
  struct Result {
    TlsStatus client = TlsStatus::ok;
    TlsStatus server = TlsStatus::ok;
  };
  static Result pump(TlsEngine& client, TlsEngine& server, net::Buffer& client_in,
                     net::Buffer& server_in, std::size_t fragment = 1 << 20) {
    Result result;
    for (int round = 0; round < 100; ++round) {
      std::string to_server;
      std::string to_client;
      static_cast<void>(client.take_output(to_server));
      static_cast<void>(server.take_output(to_client));
      if (to_server.empty() && to_client.empty()) return result;
      for (std::size_t at = 0; at < to_server.size(); at += fragment) {
        const TlsStatus s =
            server.receive(std::string_view(to_server).substr(at, fragment), server_in);
        if (s != TlsStatus::ok) result.server = s;
      }
      for (std::size_t at = 0; at < to_client.size(); at += fragment) {
        const TlsStatus s =
            client.receive(std::string_view(to_client).substr(at, fragment), client_in);
        if (s != TlsStatus::ok) result.client = s;
      }
    }
    ADD_FAILURE() << "the engines were still talking after 100 rounds";
    return result;
  }

  TempDir dir_;
  TestPki pki_;
  net::Buffer client_in_;
  net::Buffer server_in_;
};

TEST_F(Pair, HandshakeNegotiatesTls13AndAlpnAndShowsTheCertificate) {
  avant::testing::Steps steps;
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  steps.expect_eq("the ClientHello is ready at once", true, client.pending_output() > 0);
  const Result r = pump(client, server, client_in_, server_in_);
  steps.expect_eq("client status", TlsStatus::ok, r.client);
  steps.expect_eq("server status", TlsStatus::ok, r.server);
  steps.expect_eq("client state", TlsState::established, client.state());
  steps.expect_eq("server state", TlsState::established, server.state());
  steps.expect_eq("version", std::string("TLSv1.3"), client.version());
  steps.expect_eq("server's ALPN", std::string("http/1.1"), server.alpn());
  steps.expect_eq("client's ALPN", std::string("http/1.1"), client.alpn());
  steps.expect_eq("the server's certificate", std::string("CN=localhost"), client.peer_subject());
  EXPECT_FALSE(client.cipher().empty());
}

TEST_F(Pair, DataInEverySizeAndEveryFragmentationArrivesIntact) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);
  ASSERT_TRUE(server.handshake_done());

  // Every size from 1 to 2048 bytes, then sizes around record boundaries up to 64 KiB; the
  // ciphertext of each is cut into fragments of a size that changes with every message.
  std::vector<std::size_t> sizes;
  for (std::size_t n = 1; n <= 2048; ++n)
    sizes.push_back(n);
  for (const std::size_t n : std::initializer_list<std::size_t>{4095, 4096, 4097, 16383, 16384,
                                                                16385, 16401, 32768, 49159, 65536})
    sizes.push_back(n);
  for (std::size_t n : sizes) {
    const std::size_t fragment = 1 + (n * 7919) % 17000;
    const std::string up = harness::pattern(n, 1);
    const std::string down = harness::pattern(n, 2);
    ASSERT_EQ(client.send(up), TlsStatus::ok);
    ASSERT_EQ(server.send(down), TlsStatus::ok);
    const Result r = pump(client, server, client_in_, server_in_, fragment);
    ASSERT_EQ(r.client, TlsStatus::ok) << client.error();
    ASSERT_EQ(r.server, TlsStatus::ok) << server.error();
    ASSERT_EQ(server_in_.retrieve_all_as_string(), up) << n << " bytes, fragments of " << fragment;
    ASSERT_EQ(client_in_.retrieve_all_as_string(), down)
        << n << " bytes, fragments of " << fragment;
  }
}

TEST_F(Pair, PlaintextSentBeforeTheHandshakeIsHeldThenDelivered) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(client.send("early bytes"), TlsStatus::ok);
  EXPECT_EQ(client.held_plaintext(), 11U);
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);
  EXPECT_EQ(client.held_plaintext(), 0U);
  EXPECT_EQ(server_in_.retrieve_all_as_string(), "early bytes");
}

TEST_F(Pair, CloseNotifyEndsEachDirection) {
  avant::testing::Steps steps;
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);

  steps.add("the client sends a last message and close_notify");
  ASSERT_EQ(client.send("bye"), TlsStatus::ok);
  client.close();
  client.close();  // idempotent
  steps.expect_eq("send after close", TlsStatus::error, client.send("more"));
  Result r = pump(client, server, client_in_, server_in_);
  steps.expect_eq("the server sees the end", TlsStatus::closed, r.server);
  steps.expect_eq("after the last message", std::string("bye"),
                  server_in_.retrieve_all_as_string());
  steps.expect_eq("server state", TlsState::closed, server.state());

  steps.add("the server answers, then closes too");
  ASSERT_EQ(server.send("ack"), TlsStatus::ok);
  server.close();
  r = pump(client, server, client_in_, server_in_);
  steps.expect_eq("the client sees the end", TlsStatus::closed, r.client);
  steps.expect_eq("the answer", std::string("ack"), client_in_.retrieve_all_as_string());
}

TEST_F(Pair, ACorruptedRecordIsAnErrorValueWithAnAlertForThePeer) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);
  ASSERT_EQ(client.send(harness::pattern(1000, 3)), TlsStatus::ok);
  std::string record;
  static_cast<void>(client.take_output(record));
  record[record.size() / 2] = static_cast<char>(record[record.size() / 2] ^ 0x01);
  EXPECT_EQ(server.receive(record, server_in_), TlsStatus::error);
  EXPECT_EQ(server.state(), TlsState::failed);
  EXPECT_NE(server.error().find("bad record mac"), std::string::npos) << server.error();
  EXPECT_EQ(server_in_.readable_bytes(), 0U) << "nothing of a forged record is delivered";
  EXPECT_GT(server.pending_output(), 0U) << "an alert for the peer";
  EXPECT_EQ(server.send("x"), TlsStatus::error) << "a failed engine stays failed";
}

TEST_F(Pair, RenegotiationIsRefused) {
  TlsServerOptions options = server_options();
  const TlsContext server_ctx = TlsContext::server(options);
  const TlsContext client_ctx = TlsContext::client(client_options());
  // Renegotiation exists only up to TLS 1.2.
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client_ctx.native(), TLS1_2_VERSION), 1);
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);
  ASSERT_EQ(client.version(), "TLSv1.2");

  // Our contexts refuse renegotiation on both sides; this client is made to ask anyway.
  SSL_clear_options(client.native(), SSL_OP_NO_RENEGOTIATION);
  ASSERT_EQ(SSL_renegotiate(client.native()), 1);
  static_cast<void>(SSL_do_handshake(client.native()));  // the new ClientHello
  // The server answers with a no_renegotiation alert instead of a handshake; OpenSSL's client
  // then gives the connection up (a fatal alert back), which ends the server's side too.
  const Result r = pump(client, server, client_in_, server_in_);
  EXPECT_EQ(r.client, TlsStatus::error);
  EXPECT_NE(client.error().find("no renegotiation"), std::string::npos) << client.error();
  EXPECT_EQ(SSL_renegotiate_pending(client.native()), 1) << "the renegotiation never completed";
  EXPECT_NE(server.state(), TlsState::handshaking) << "the server never renegotiated";
}

TEST_F(Pair, PlainTextToATlsServerIsAnError) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  EXPECT_EQ(server.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n", server_in_), TlsStatus::error);
  EXPECT_EQ(server.state(), TlsState::failed);
  EXPECT_FALSE(server.error().empty());
}

TEST_F(Pair, AClientOfferingOnlyTls10IsRefused) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  SSL_CTX_set_security_level(client_ctx.native(), 0);  // let the client offer TLS 1.0 at all
  ASSERT_EQ(SSL_CTX_set_min_proto_version(client_ctx.native(), TLS1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client_ctx.native(), TLS1_VERSION), 1);
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  const Result r = pump(client, server, client_in_, server_in_);
  EXPECT_EQ(r.server, TlsStatus::error);
  EXPECT_NE(server.error().find("unsupported protocol"), std::string::npos) << server.error();
  EXPECT_EQ(client.state(), TlsState::failed);
}

TEST_F(Pair, AServerTheClientDoesNotTrustIsRefused) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  TlsClientOptions options = client_options();
  options.ca_file = pki_.other_ca;
  const TlsContext client_ctx = TlsContext::client(options);
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  const Result r = pump(client, server, client_in_, server_in_);
  EXPECT_EQ(r.client, TlsStatus::error);
  EXPECT_NE(client.error().find("certificate verify failed"), std::string::npos) << client.error();
}

TEST_F(Pair, AServerNamedOtherwiseIsRefused) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "example.org");
  const Result r = pump(client, server, client_in_, server_in_);
  EXPECT_EQ(r.client, TlsStatus::error);
  EXPECT_NE(client.error().find("hostname mismatch"), std::string::npos) << client.error();
  // An IP literal is checked against the certificate's IP addresses.
  TlsEngine server2 = TlsEngine::server(server_ctx);
  TlsEngine by_ip = TlsEngine::client(client_ctx, "127.0.0.1");
  EXPECT_EQ(pump(by_ip, server2, client_in_, server_in_).client, TlsStatus::ok) << by_ip.error();
}

TEST_F(Pair, ClientCertificatesAreVerifiedWhenAsked) {
  TlsServerOptions options = server_options();
  options.client_ca_file = pki_.ca;
  options.require_client_certificate = true;
  const TlsContext server_ctx = TlsContext::server(options);
  {
    TlsClientOptions with = client_options();
    with.certificate_chain_file = pki_.client_cert;
    with.private_key_file = pki_.client_key;
    const TlsContext client_ctx = TlsContext::client(with);
    TlsEngine server = TlsEngine::server(server_ctx);
    TlsEngine client = TlsEngine::client(client_ctx, "localhost");
    const Result r = pump(client, server, client_in_, server_in_);
    ASSERT_EQ(r.server, TlsStatus::ok) << server.error();
    EXPECT_EQ(server.peer_subject(), "CN=client");
  }
  {
    const TlsContext client_ctx = TlsContext::client(client_options());
    TlsEngine server = TlsEngine::server(server_ctx);
    TlsEngine client = TlsEngine::client(client_ctx, "localhost");
    const Result r = pump(client, server, client_in_, server_in_);
    EXPECT_EQ(r.server, TlsStatus::error);
    EXPECT_NE(server.error().find("certificate"), std::string::npos) << server.error();
  }
}

TEST_F(Pair, NoCommonAlpnProtocolStillHandshakesWithoutAlpn) {
  const TlsContext server_ctx = TlsContext::server(server_options());
  TlsClientOptions options = client_options();
  options.alpn = {"h2"};
  const TlsContext client_ctx = TlsContext::client(options);
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).client, TlsStatus::ok);
  EXPECT_EQ(client.alpn(), "");
}

TEST_F(Pair, AMovedContextKeepsWorking) {
  TlsContext first = TlsContext::server(server_options());
  const TlsContext server_ctx = std::move(first);
  const TlsContext client_ctx = TlsContext::client(client_options());
  TlsEngine server = TlsEngine::server(server_ctx);
  TlsEngine moved_client = TlsEngine::client(client_ctx, "localhost");
  TlsEngine client = std::move(moved_client);
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok);
  EXPECT_EQ(server.alpn(), "http/1.1");
}

TEST_F(Pair, AnEngineOutlivesItsContext) {
  // The engines keep OpenSSL's context alive, and with it the ALPN list the server selects from.
  TlsEngine server = TlsEngine::server(TlsContext::server(server_options()));
  TlsEngine client = TlsEngine::client(TlsContext::client(client_options()), "localhost");
  ASSERT_EQ(pump(client, server, client_in_, server_in_).server, TlsStatus::ok) << server.error();
  EXPECT_EQ(server.alpn(), "http/1.1");
}

TEST_F(Pair, AVerifyingClientNeedsTheServerName) {
  const TlsContext client_ctx = TlsContext::client(client_options());
  EXPECT_THROW(static_cast<void>(TlsEngine::client(client_ctx, "")), TlsError);
  const TlsContext trusting = TlsContext::client({.verify_peer = false});
  EXPECT_NO_THROW(static_cast<void>(TlsEngine::client(trusting, "")));
}

TEST_F(Pair, ContextErrorsNameTheFileAndTheReason) {
  TlsServerOptions missing = server_options();
  missing.certificate_chain_file = (dir_.path() / "nope.pem").string();
  try {
    static_cast<void>(TlsContext::server(missing));
    FAIL() << "a missing certificate was accepted";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.pem"), std::string::npos) << e.what();
  }
  TlsServerOptions mismatched = server_options();
  mismatched.private_key_file = pki_.other_key;
  try {
    static_cast<void>(TlsContext::server(mismatched));
    FAIL() << "a key that does not match the certificate was accepted";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("other.key"), std::string::npos) << e.what();
  }
  TlsServerOptions not_a_certificate = server_options();
  not_a_certificate.certificate_chain_file = pki_.server_key;  // a key, not a certificate
  EXPECT_THROW(static_cast<void>(TlsContext::server(not_a_certificate)), TlsError);
}

}  // namespace
}  // namespace avant::tls
