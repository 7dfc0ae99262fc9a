// ws_client.hpp — a blocking WebSocket client for chapter 06's tests: it writes frames as given
// (masked or not, fragmented, broken on purpose) and reads the server's frames with the
// chapter's own MessageParser in the client role. Every read has the harness's deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include <avant/net/io.hpp>
#include <avant/testing/harness.hpp>
#include <avant/websocket/deflate.hpp>
#include <avant/websocket/frame.hpp>
#include <avant/websocket/message_parser.hpp>

namespace avant::websocket::testing {

// One thing the server sent: a message, a ping, a pong or a close.
struct Received {
  MessageParser::Event event = MessageParser::Event::need_more;
  Opcode opcode = Opcode::binary;
  std::string payload;
  std::uint16_t code = 0;   // of a close
  std::string reason;       // of a close
  bool compressed = false;  // it came with RSV1 (inflated into payload)
};

inline std::string upgrade_request(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         std::string(extra) + "\r\n";
}

// A client frame: masked with a fixed key unless `masked` is false.
inline std::string client_frame(Opcode opcode, std::string_view payload, bool fin = true,
                                bool masked = true, bool rsv1 = false) {
  FrameHeader h;
  h.fin = fin;
  h.rsv1 = rsv1;
  h.opcode = opcode;
  h.masked = masked;
  h.mask = {0x37, 0xfa, 0x21, 0x3d};
  h.length = payload.size();
  std::string out;
  append_frame(out, h, payload);
  return out;
}

class WsClient {
 public:
  explicit WsClient(const net::SocketAddress& server,
                    MessageLimits limits = {.max_message = 64u << 20})
      : client_(server), parser_(Role::client, limits) {}

  // Sends the upgrade request (with `after` in the same write) and reads the answer's head.
  // The status, or 0 when no head came.
  int handshake(std::string_view path = "/", std::string_view extra = {},
                std::string_view after = {}) {
    if (!client_.send_all(upgrade_request(path, extra) + std::string(after))) return 0;
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return 0;
    }
    head_ = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    if (head_.size() < 12 || head_.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
    return std::stoi(head_.substr(9, 3));
  }
  [[nodiscard]] const std::string& head() const { return head_; }
  // A field of the answer's head ("" when absent); names compared as sent.
  [[nodiscard]] std::string field(std::string_view name) const {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const std::size_t at = head_.find(key);
    if (at == std::string::npos) return {};
    const std::size_t from = at + key.size();
    return head_.substr(from, head_.find("\r\n", from) - from);
  }

  // permessage-deflate was agreed: compressed messages are read (and inflated).
  void accept_compression() { parser_.set_compression(true); }

  bool send(std::string_view bytes) { return client_.send_all(bytes); }
  bool send_text(std::string_view text) { return send(client_frame(Opcode::text, text)); }
  bool send_binary(std::string_view data) { return send(client_frame(Opcode::binary, data)); }
  bool send_close(std::uint16_t code, std::string_view reason = {}) {
    return send(client_frame(Opcode::close, close_payload(code, reason)));
  }

  // The next frame or message from the server; nullopt when the connection ends or the deadline
  // passes first (error() says which).
  std::optional<Received> next() {
    for (;;) {
      if (!buffer_.empty()) {
        const auto r = parser_.feed({buffer_.data(), buffer_.size()});
        if (r.event == MessageParser::Event::error) {
          error_ = "the server sent a bad frame: " + parser_.error().reason;
          return std::nullopt;
        }
        if (r.event != MessageParser::Event::need_more) {
          Received got;
          got.event = r.event;
          got.opcode = parser_.opcode();
          got.payload = std::string(parser_.payload());
          if (r.event == MessageParser::Event::message && parser_.compressed()) {
            got.compressed = true;
            std::string inflated;
            if (Inflater(15, false).inflate(got.payload, 64u << 20, inflated) !=
                Inflater::Status::ok) {
              error_ = "the server sent a message that does not inflate";
              return std::nullopt;
            }
            got.payload = std::move(inflated);
          }
          if (r.event == MessageParser::Event::close) {
            got.code = parser_.close_code();
            got.reason = std::string(parser_.close_reason());
          }
          buffer_.erase(0, r.consumed);
          return got;
        }
        buffer_.erase(0, r.consumed);
      }
      if (!fill()) return std::nullopt;
    }
  }
  // The next message, skipping pings and pongs; nullopt on a close or the end.
  std::optional<std::string> message() {
    for (;;) {
      auto r = next();
      if (!r) return std::nullopt;
      if (r->event == MessageParser::Event::message) return std::move(r->payload);
      if (r->event == MessageParser::Event::close) {
        error_ = "closed with " + std::to_string(r->code);
        return std::nullopt;
      }
    }
  }
  // Reads until the server's close frame: its code, or 0 when none came.
  std::uint16_t close_code() {
    for (;;) {
      const auto r = next();
      if (!r) return 0;
      if (r->event == MessageParser::Event::close) return r->code;
    }
  }
  // Whether the server ends the TCP connection within the deadline (anything sent is dropped).
  bool ends() {
    buffer_.clear();
    while (fill())
      buffer_.clear();
    return closed_;
  }
  // Sends our FIN (the TCP end of a close handshake, after the server's).
  void hang_up() { (void)::shutdown(client_.fd(), SHUT_WR); }
  [[nodiscard]] const std::string& error() const { return error_; }
  harness::Client& raw() { return client_; }

 private:
  bool fill() {
    const auto until = std::chrono::steady_clock::now() + harness::kDeadline;
    char chunk[64 * 1024];
    for (;;) {
      const net::IoResult r = client_.socket().read(std::span<char>(chunk, sizeof chunk));
      if (r.ok()) {
        buffer_.append(chunk, r.bytes);
        return true;
      }
      if (r.status == net::IoStatus::closed || r.status == net::IoStatus::error) {
        closed_ = true;
        error_ = "the connection ended";
        return false;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || net::wait_ready(client_.fd(), POLLIN, left) == 0) {
        error_ = "nothing came within the deadline";
        return false;
      }
    }
  }

  harness::Client client_;
  MessageParser parser_;
  std::string buffer_;
  std::string head_;
  std::string error_;
  bool closed_ = false;
};

}  // namespace avant::websocket::testing
