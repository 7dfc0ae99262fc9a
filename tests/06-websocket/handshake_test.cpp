// Chapter 06 — the opening handshake: the RFC's accept key, what a server must refuse and with
// which status, the Origin allow-list and subprotocol choice.
#include <string>

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

}  // namespace
}  // namespace avant::websocket
