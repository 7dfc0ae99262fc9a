// Chapter 06 — the opening handshake: the RFC's accept key, what a server must refuse and with
// which status, the Origin allow-list and subprotocol choice; the client's side: a fresh key, the
// request, and what it must refuse in the answer.
#include <string>
#include <utility>
#include <vector>

#include <avant/http/request.hpp>
#include <avant/websocket/handshake.hpp>

#include <gtest/gtest.h>

#include "api.hpp"

namespace avant::websocket {
namespace {

http::Request upgrade_request() {
  http::Request r;
  r.method = "GET";
  r.target = "/chat";
  r.headers.add("Host", "server.example.com");
  r.headers.add("Upgrade", "websocket");
  r.headers.add("Connection", "Upgrade");
  r.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  r.headers.add("Sec-WebSocket-Version", "13");
  return r;
}

TEST(Handshake, TheRfcsAcceptKey) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, AnUpgradeIsAcceptedWith101AndItsHeaders) {
  const Handshake h = check_upgrade(upgrade_request(), {});
  ASSERT_EQ(h.status, 101) << h.reason;
  const http::Response r = handshake_response(h);
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.headers.get("Upgrade"), "websocket");
  EXPECT_EQ(r.headers.get("Connection"), "Upgrade");
  EXPECT_EQ(r.headers.get("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_FALSE(r.headers.has("Sec-WebSocket-Protocol"));
}

TEST(Handshake, TokensAreMatchedWithoutCaseAndInLists) {
  http::Request r = upgrade_request();
  r.headers.set("Upgrade", "WebSocket");
  r.headers.set("Connection", "keep-alive, upgrade");  // what Firefox sends
  EXPECT_EQ(check_upgrade(r, {}).status, 101);
}

TEST(Handshake, WhatAServerMustRefuse) {
  struct Case {
    const char* name;
    void (*change)(http::Request&);
    int status;
  };
  const Case cases[] = {
      {"POST", [](http::Request& r) { r.method = "POST"; }, 400},
      {"HTTP/1.0", [](http::Request& r) { r.version_minor = 0; }, 400},
      {"no Upgrade", [](http::Request& r) { r.headers.remove("Upgrade"); }, 400},
      {"Upgrade: h2c", [](http::Request& r) { r.headers.set("Upgrade", "h2c"); }, 400},
      {"no Connection: upgrade", [](http::Request& r) { r.headers.set("Connection", "close"); },
       400},
      {"no key", [](http::Request& r) { r.headers.remove("Sec-WebSocket-Key"); }, 400},
      {"two keys",
       [](http::Request& r) { r.headers.add("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="); },
       400},
      {"a short key", [](http::Request& r) { r.headers.set("Sec-WebSocket-Key", "c2hvcnQ="); },
       400},
      {"a key not in base64",
       [](http::Request& r) { r.headers.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ*=="); },
       400},
      {"version 8", [](http::Request& r) { r.headers.set("Sec-WebSocket-Version", "8"); }, 426},
      {"no version", [](http::Request& r) { r.headers.remove("Sec-WebSocket-Version"); }, 426},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Request r = upgrade_request();
    c.change(r);
    const Handshake h = check_upgrade(r, {});
    EXPECT_EQ(h.status, c.status);
    EXPECT_FALSE(h.reason.empty());
    const http::Response answer = handshake_response(h);
    EXPECT_EQ(answer.status, c.status);
    EXPECT_EQ(answer.headers.has("Sec-WebSocket-Version"), c.status == 426)
        << "426 names the version this server speaks";
  }
}

TEST(Handshake, AnOriginAllowListRefusesOtherPagesWith403) {
  const HandshakeOptions options{.origins = {"https://example.org"}, .subprotocols = {}};
  http::Request r = upgrade_request();
  EXPECT_EQ(check_upgrade(r, options).status, 403) << "no Origin at all";
  r.headers.set("Origin", "https://evil.example");
  EXPECT_EQ(check_upgrade(r, options).status, 403);
  r.headers.set("Origin", "HTTPS://Example.org");
  EXPECT_EQ(check_upgrade(r, options).status, 101);
  r.headers.set("Origin", "https://evil.example");
  EXPECT_EQ(check_upgrade(r, {}).status, 101) << "without a list any origin may connect";
}

TEST(Handshake, TheServersFirstSubprotocolTheClientOffersIsChosen) {
  http::Request r = upgrade_request();
  r.headers.add("Sec-WebSocket-Protocol", "chat, superchat");
  r.headers.add("Sec-WebSocket-Protocol", "avant.v1");
  HandshakeOptions options{.origins = {}, .subprotocols = {"avant.v1", "superchat"}};
  Handshake h = check_upgrade(r, options);
  EXPECT_EQ(h.subprotocol, "avant.v1");
  EXPECT_EQ(handshake_response(h).headers.get("Sec-WebSocket-Protocol"), "avant.v1");
  options.subprotocols = {"mqtt"};
  h = check_upgrade(r, options);
  EXPECT_EQ(h.status, 101) << "no common subprotocol is not an error (RFC 6455 §4.2.2)";
  EXPECT_EQ(h.subprotocol, "");
}

// --- the client's side ---

UpgradeRequest request_to(std::string host, std::vector<std::string> subprotocols = {},
                          bool offer_deflate = false) {
  UpgradeRequest r;
  r.host = std::move(host);
  r.subprotocols = std::move(subprotocols);
  r.offer_deflate = offer_deflate;
  return r;
}

TEST(ClientHandshake, AFreshKeyEachTimeThatAServerAccepts) {
  const std::string a = make_key();
  const std::string b = make_key();
  EXPECT_TRUE(is_valid_key(a)) << a;
  EXPECT_TRUE(is_valid_key(b)) << b;
  EXPECT_NE(a, b);
}

TEST(ClientHandshake, TheRequestCarriesWhatWasAskedFor) {
  UpgradeRequest r;
  r.host = "example.org:8080";
  r.path = "/chat?room=1";
  r.origin = "https://example.org";
  r.subprotocols = {"chat.v2", "chat"};
  r.offer_deflate = true;
  const std::string bytes = upgrade_request(r, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(bytes.rfind("GET /chat?room=1 HTTP/1.1\r\nHost: example.org:8080\r\n", 0), 0u);
  for (const char* line :
       {"Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        "Origin: https://example.org", "Sec-WebSocket-Protocol: chat.v2, chat",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}) {
    EXPECT_NE(bytes.find(std::string("\r\n") + line + "\r\n"), std::string::npos) << line;
  }
  EXPECT_TRUE(bytes.ends_with("\r\n\r\n"));
  // Without the optional parts, no empty fields.
  const std::string plain = upgrade_request(request_to("h"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(plain.find("Origin"), std::string::npos);
  EXPECT_EQ(plain.find("Protocol"), std::string::npos);
  EXPECT_EQ(plain.find("Extensions"), std::string::npos);
}

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string answer(std::string_view extra = {}, std::string_view status = "101 Switching Protocols",
                   std::string_view accept = kAccept) {
  return "HTTP/1.1 " + std::string(status) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         std::string(accept) + "\r\n" + std::string(extra) + "\r\n";
}

TEST(ClientHandshake, TheRfcsAnswerIsAccepted) {
  UpgradeRequest r = request_to("server.example.com", {"chat"});
  r.path = "/chat";
  const UpgradeAnswer a = check_answer(answer("Sec-WebSocket-Protocol: chat\r\n"), kKey, r);
  EXPECT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.status, 101);
  EXPECT_EQ(a.subprotocol, "chat");
  EXPECT_FALSE(a.deflate);
  // Field names and the tokens compare without case; other fields are fine.
  const std::string lower =
      "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: x\r\n\r\n";
  EXPECT_TRUE(check_answer(lower, kKey, r).ok);
}

TEST(ClientHandshake, WhatAClientMustRefuse) {
  const UpgradeRequest r = request_to("h", {"chat"});
  struct Case {
    std::string head;
    std::string_view why;
  };
  const Case cases[] = {
      {answer({}, "200 OK"), "instead of 101"},
      {answer({}, "101 Switching Protocols", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "Accept"},
      {answer("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "Accept"},
      {"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(kAccept) +
           "\r\n\r\n",
       "Upgrade"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + std::string(kAccept) +
           "\r\n\r\n",
       "Connection"},
      {answer("Sec-WebSocket-Protocol: other\r\n"), "subprotocol"},
      {answer("Sec-WebSocket-Extensions: permessage-deflate\r\n"), "extension"},
      {answer("X-Folded: a\r\n  continued\r\n"), "malformed"},
      {answer("No colon here\r\n"), "malformed"},
      {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n", "malformed"},  // no empty line
      {"SSH-2.0-OpenSSH\r\n\r\n", "status line"},
      {"HTTP/1.1 1O1 OK\r\n\r\n", "status line"},
  };
  for (const Case& c : cases) {
    const UpgradeAnswer a = check_answer(c.head, kKey, r);
    EXPECT_FALSE(a.ok) << c.head;
    EXPECT_NE(a.reason.find(c.why), std::string::npos) << c.head << " -> " << a.reason;
  }
  EXPECT_EQ(check_answer(answer({}, "403 Forbidden"), kKey, r).status, 403);
}

TEST(ClientHandshake, TheDeflateAnswerSetsTheParameters) {
  const UpgradeRequest r = request_to("h", {}, true);
  const UpgradeAnswer none = check_answer(answer(), kKey, r);
  ASSERT_TRUE(none.ok) << none.reason;
  EXPECT_FALSE(none.deflate) << "a server may decline the offer";

  const UpgradeAnswer a = check_answer(
      answer("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
             "client_max_window_bits=10; server_max_window_bits=12\r\n"),
      kKey, r);
  ASSERT_TRUE(a.ok) << a.reason;
  ASSERT_TRUE(a.deflate);
  EXPECT_TRUE(a.deflate->server_no_context_takeover);
  EXPECT_FALSE(a.deflate->client_no_context_takeover);
  EXPECT_EQ(a.deflate->client_max_window_bits, 10);
  EXPECT_EQ(a.deflate->server_max_window_bits, 12);

  for (const char* bad :
       {"permessage-deflate; client_max_window_bits",    // no value
        "permessage-deflate; client_max_window_bits=8",  // zlib cannot
        "permessage-deflate; server_max_window_bits=16", "permessage-deflate; mystery",
        "permessage-deflate, permessage-deflate", "x-webkit-deflate-frame"}) {
    const DeflateAnswer d = read_deflate_answer(bad);
    EXPECT_FALSE(d.ok) << bad;
    EXPECT_FALSE(
        check_answer(answer("Sec-WebSocket-Extensions: " + std::string(bad) + "\r\n"), kKey, r).ok)
        << bad;
  }
}

}  // namespace
}  // namespace avant::websocket
