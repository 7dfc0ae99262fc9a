// Integration tests of TcpConnection::switch_protocol over loopback: a connection handed from one
// protocol to another mid-stream keeps every byte already read, at every split of the input.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <avant/testing/harness.hpp>

#include <gtest/gtest.h>

#include "api.hpp"
#include "switching.hpp"

namespace avant::tcp {
namespace {

using harness::Client;
using harness::LoopThread;
using switching::LineProtocol;
using switching::SwitchLog;

// A TcpServer whose connections start with LineProtocol; keeps the newest connection's log.
class SwitchServer {
 public:
  SwitchServer() {
    server_ = loop_.call([&] {
      auto s = std::make_unique<TcpServer>(loop_.loop(), TcpServerOptions{});
      s->set_protocol([this](const TcpConnectionPtr&) {
        auto log = std::make_shared<SwitchLog>();
        {
          const std::lock_guard lock(mutex_);
          latest_ = log;
        }
        return std::make_shared<LineProtocol>(std::move(log));
      });
      s->start();
      return s;
    });
  }
  ~SwitchServer() {
    try {
      loop_.call([this] { server_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the server: " << e.what();
    }
  }
  SwitchServer(const SwitchServer&) = delete;
  SwitchServer& operator=(const SwitchServer&) = delete;
  SwitchServer(SwitchServer&&) = delete;
  SwitchServer& operator=(SwitchServer&&) = delete;

  [[nodiscard]] net::SocketAddress address() const { return server_->listen_address(); }
  [[nodiscard]] std::shared_ptr<SwitchLog> latest() {
    const std::lock_guard lock(mutex_);
    return latest_;
  }
  [[nodiscard]] std::size_t connections() const { return server_->connection_count(); }
  // The next connection's log is the next latest().
  void forget() {
    const std::lock_guard lock(mutex_);
    latest_.reset();
  }

 private:
  LoopThread loop_;
  std::unique_ptr<TcpServer> server_;
  std::mutex mutex_;
  std::shared_ptr<SwitchLog> latest_;
};

TEST(ProtocolSwitch, UnreadBytesGoToTheNextProtocolAtEverySplitOfTheInput) {
  SwitchServer server;
  const std::string payload = "hello\nSWITCH\nabc def";
  const std::string answer = "line:hello\nOK\nABC DEF";
  for (std::size_t split = 0; split <= payload.size(); ++split) {
    SCOPED_TRACE("the input split after byte " + std::to_string(split));
    std::shared_ptr<SwitchLog> log;
    {
      Client client(server.address());
      ASSERT_TRUE(harness::eventually([&] {
        log = server.latest();
        return log != nullptr;
      }));
      ASSERT_TRUE(client.send_all(std::string_view(payload).substr(0, split)));
      // The first part is read (and, up to the switch, consumed) before the second is sent.
      ASSERT_TRUE(harness::eventually([&] { return log->arrived == split; }))
          << "the server saw " << log->arrived << " bytes";
      ASSERT_TRUE(client.send_all(std::string_view(payload).substr(split)));
      EXPECT_EQ(client.receive(answer.size()), answer);
    }
    ASSERT_TRUE(harness::eventually([&] { return log->new_down == 1; }))
        << "the next protocol hears the connection go down";
    EXPECT_EQ(log->switches, 1);
    EXPECT_EQ(log->new_up, 1);
    EXPECT_EQ(log->consumed, payload.size()) << "every byte was read by one protocol or the other";
    EXPECT_EQ(log->stale_calls, 0) << "the old protocol heard nothing after the switch";
    EXPECT_EQ(log->old_down, 0);
    server.forget();  // the next client's log is a new one
  }
}

TEST(ProtocolSwitch, ASwitchFromALaterTaskHandsOverWhatArrivedMeanwhile) {
  SwitchServer server;
  Client client(server.address());
  // All in one write: the bytes after "LATER\n" sit unread until the task switches.
  ASSERT_TRUE(client.send_all("one\nLATER\nrest of it"));
  EXPECT_EQ(client.receive(std::string("line:one\nOK\nREST OF IT").size()),
            "line:one\nOK\nREST OF IT");
  const std::shared_ptr<SwitchLog> log = server.latest();
  ASSERT_NE(log, nullptr);
  // Counted by the task after switch_protocol() returned, which may be after the answer left.
  EXPECT_TRUE(harness::eventually([&] { return log->switches == 1; }));
  EXPECT_TRUE(client.send_all("more"));
  EXPECT_EQ(client.receive(4), "MORE") << "later bytes go to the new protocol directly";
  EXPECT_EQ(log->stale_calls, 0);
}

// Connections of one loop read through the thread's one read buffer (TcpConnection::read_buffer):
// what each protocol leaves unread must stay with its own connection, whatever reads come between.
TEST(ProtocolSwitch, UnreadBytesStayWithTheirConnectionWhileOthersRead) {
  SwitchServer server;
  constexpr std::size_t kClients = 3;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::shared_ptr<SwitchLog>> logs;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(server.address()));
    std::shared_ptr<SwitchLog> log;
    ASSERT_TRUE(harness::eventually([&] {
      log = server.latest();
      return log != nullptr;
    }));
    logs.push_back(log);
    server.forget();
  }
  const auto start_of = [](std::size_t i) {
    std::string start = "start-";
    start += std::to_string(i);
    start += '-';
    start.append(100, 'x');
    return start;
  };
  // A line begun on every connection in turn, each read (and left unread) before the next.
  for (std::size_t i = 0; i < kClients; ++i) {
    const std::string start = start_of(i);
    ASSERT_TRUE(clients[i]->send_all(start));
    ASSERT_TRUE(harness::eventually([&] { return logs[i]->arrived == start.size(); }))
        << "client " << i << ": the server saw " << logs[i]->arrived << " bytes";
  }
  // Then each line ends, in the other order, with a second line whole in the same write.
  for (std::size_t i = kClients; i-- > 0;) {
    std::string end = "-end-";
    end += std::to_string(i);
    end += "\nnext-";
    end += std::to_string(i);
    end += '\n';
    ASSERT_TRUE(clients[i]->send_all(end));
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    std::string want = "line:";
    want += start_of(i);
    want += "-end-";
    want += std::to_string(i);
    want += "\nline:next-";
    want += std::to_string(i);
    want += '\n';
    EXPECT_EQ(clients[i]->receive(want.size()), want) << "client " << i;
    EXPECT_EQ(logs[i]->stale_calls, 0);
  }
}

}  // namespace
}  // namespace avant::tcp
