// tls_engine_fuzz.cpp — libFuzzer target: tls::TlsEngine fed records from a peer (chapter 04).
//
// The first byte picks a mode:
//   0  the bytes are what a client sends to a server engine (ClientHello and on);
//   1  the bytes are what a server sends back to a client engine that sent its ClientHello;
//   2  a real client and server talk in memory and the bytes tamper with their flights: each
//      3-byte step (flight, position, xor mask) corrupts one byte of one flight, in either
//      direction, during the handshake and the data that follows.
// Properties: no crash and no leak (ASan); a receive() that answers error leaves the engine
// failed with a reason, and every later receive() answers error; plaintext that arrives is
// always a prefix of what the other side sent (TLS must never deliver a corrupted byte); the
// output an engine asks to send is bounded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <avant/net/buffer.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_engine.hpp>

#include "fuzz_check.hpp"
#include "pki.hpp"

namespace {

using avant::net::Buffer;
using avant::tls::TlsContext;
using avant::tls::TlsEngine;
using avant::tls::TlsState;
using avant::tls::TlsStatus;

struct Contexts {
  avant::tls::testing::TempDir dir;
  avant::tls::testing::TestPki pki = avant::tls::testing::make_test_pki(dir.path());
  TlsContext server = TlsContext::server(
      {.certificate_chain_file = pki.server_chain, .private_key_file = pki.server_key});
  TlsContext client = TlsContext::client({.ca_file = pki.ca, .alpn = {"http/1.1"}});
};

// Made on first use; destroyed at exit, which removes the certificates' folder.
Contexts& contexts() {
  static Contexts c;
  return c;
}

constexpr std::string_view kClientSays = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
constexpr std::string_view kServerSays = "HTTP/1.1 204 No Content\r\n\r\n";

// receive() with the properties every call must keep.
TlsStatus receive(TlsEngine& engine, std::string_view bytes, Buffer& plaintext) {
  const bool failed_before = engine.state() == TlsState::failed;
  const TlsStatus status = engine.receive(bytes, plaintext);
  if (failed_before) FUZZ_CHECK(status == TlsStatus::error);
  if (status == TlsStatus::error) {
    FUZZ_CHECK(engine.state() == TlsState::failed);
    FUZZ_CHECK(!engine.error().empty());
  }
  return status;
}

void feed_one_side(TlsEngine& engine, std::string_view bytes) {
  Buffer plaintext;
  // In two pieces, cut where the data says, as a socket might deliver them.
  const std::size_t cut = bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % bytes.size();
  for (const std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    (void)receive(engine, piece, plaintext);
    std::string out;
    (void)engine.take_output(out);
    FUZZ_CHECK(out.size() < (1U << 20));
  }
  if (engine.state() == TlsState::failed) {
    Buffer more;
    FUZZ_CHECK(receive(engine, "\x17\x03\x03\x00\x01x", more) == TlsStatus::error);
  }
}

struct Tamper {
  std::string_view steps;  // 3 bytes each: flight, position, xor mask
  unsigned flight = 0;

  void apply(std::string& bytes) {
    for (std::size_t i = 0; i + 3 <= steps.size(); i += 3) {
      if (static_cast<unsigned char>(steps[i]) % 16U != flight || bytes.empty()) continue;
      const auto at = static_cast<unsigned char>(steps[i + 1]) * bytes.size() / 256U;
      bytes[at] = static_cast<char>(bytes[at] ^ steps[i + 2]);
    }
    ++flight;
  }
};

void man_in_the_middle(std::string_view steps) {
  TlsEngine client = TlsEngine::client(contexts().client, "localhost");
  TlsEngine server = TlsEngine::server(contexts().server);
  FUZZ_CHECK(client.send(kClientSays) == TlsStatus::ok);  // held until the handshake is done
  Tamper tamper{steps};
  Buffer at_server;
  Buffer at_client;
  bool answered = false;
  for (int round = 0; round < 16; ++round) {
    std::string flight;
    (void)client.take_output(flight);
    tamper.apply(flight);
    if (!flight.empty()) (void)receive(server, flight, at_server);
    if (!answered && at_server.readable_bytes() == kClientSays.size()) {
      (void)server.send(kServerSays);
      answered = true;
    }
    flight.clear();
    (void)server.take_output(flight);
    tamper.apply(flight);
    if (!flight.empty()) (void)receive(client, flight, at_client);
    if (client.pending_output() == 0 && server.pending_output() == 0) break;
  }
  FUZZ_CHECK(kClientSays.starts_with(at_server.view()));
  FUZZ_CHECK(kServerSays.starts_with(at_client.view()));
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  (void)contexts();  // the certificates, before the first input is timed
  return 0;
}

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3U) {
    case 0: {
      TlsEngine server = TlsEngine::server(contexts().server);
      feed_one_side(server, bytes);
      break;
    }
    case 1: {
      TlsEngine client = TlsEngine::client(contexts().client, "localhost");
      std::string hello;
      (void)client.take_output(hello);
      feed_one_side(client, bytes);
      break;
    }
    default:
      man_in_the_middle(bytes);
      break;
  }
  return 0;
}
