// switching.hpp — two protocols for the protocol-switch tests (chapter 02 plain, chapter 04 TLS).
//
//   LineProtocol:  "hello\n" -> "line:hello\n"; "SWITCH\n" -> "OK\n", then the connection goes to
//                  UpperProtocol from inside on_message; "LATER\n" -> "OK\n", then the same from a
//                  task queued on the loop (a switch outside on_message).
//   UpperProtocol: echoes every byte in upper case.
//
// Both write what they see into one SwitchLog per connection, which the test thread reads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <memory>
#include <string>

#include <avant/net/buffer.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::tcp::switching {

struct SwitchLog {
  std::atomic<std::size_t> consumed{0};  // application bytes consumed, by both protocols
  std::atomic<std::size_t> arrived{0};   // application bytes that reached a protocol so far
  std::atomic<int> stale_calls{0};       // a protocol called when it was no longer the current
  std::atomic<int> old_down{0};          // LineProtocol heard "down" (it must not, after a switch)
  std::atomic<int> new_up{0};
  std::atomic<int> new_down{0};
  std::atomic<int> switches{0};  // switch_protocol() answered true

  void saw(const net::Buffer& input) { arrived = consumed + input.readable_bytes(); }
};

class UpperProtocol final : public Protocol {
 public:
  explicit UpperProtocol(std::shared_ptr<SwitchLog> log) : log_(std::move(log)) {}

  void on_up(const TcpConnectionPtr& /*connection*/) override { ++log_->new_up; }
  void on_message(const TcpConnectionPtr& connection, net::Buffer& input) override {
    if (&connection->protocol() != this) ++log_->stale_calls;
    log_->saw(input);
    std::string upper(input.view());
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    log_->consumed += input.readable_bytes();
    input.retrieve_all();
    static_cast<void>(connection->send(std::move(upper)));
  }
  void on_down(const TcpConnectionPtr& /*connection*/) override { ++log_->new_down; }

 private:
  std::shared_ptr<SwitchLog> log_;
};

class LineProtocol final : public Protocol {
 public:
  explicit LineProtocol(std::shared_ptr<SwitchLog> log) : log_(std::move(log)) {}

  void on_message(const TcpConnectionPtr& connection, net::Buffer& input) override {
    if (&connection->protocol() != this) ++log_->stale_calls;
    log_->saw(input);
    if (switching_) return;  // the bytes after "LATER\n" wait for the task's switch
    for (;;) {
      const std::size_t end = input.view().find('\n');
      if (end == std::string_view::npos) return;
      const std::string line(input.view().substr(0, end));
      input.retrieve(end + 1);
      log_->consumed += end + 1;
      if (line == "SWITCH" || line == "LATER") {
        static_cast<void>(connection->send("OK\n"));
        switching_ = true;
        if (line == "SWITCH") {
          if (connection->switch_protocol(std::make_shared<UpperProtocol>(log_))) ++log_->switches;
        } else {
          connection->loop().queue_in_loop([connection, log = log_] {
            if (connection->switch_protocol(std::make_shared<UpperProtocol>(log))) ++log->switches;
          });
        }
        return;  // what follows is not ours: the next protocol reads it
      }
      static_cast<void>(connection->send("line:" + line + "\n"));
    }
  }
  void on_down(const TcpConnectionPtr& /*connection*/) override { ++log_->old_down; }

 private:
  std::shared_ptr<SwitchLog> log_;
  bool switching_ = false;
};

}  // namespace avant::tcp::switching
