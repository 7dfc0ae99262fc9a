// harness.hpp — test tools from chapter 02 on: a loop on its own thread, a blocking client.
//
// LoopThread runs an EventLoop on a thread of its own so the test thread can act as the clients;
// call() runs a function on the loop thread and waits for its result (with a deadline), which is
// how a test creates, inspects and destroys loop-owned objects without breaking the threading rule.
// Client is a plain socket driven with poll(2) deadlines: a real peer, not a mock.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include <poll.h>
#include <sys/socket.h>

#include <avant/net/socket.hpp>
#include <avant/reactor/event_loop.hpp>

#include <gtest/gtest.h>

namespace avant::harness {

using namespace std::chrono_literals;
inline constexpr auto kDeadline = std::chrono::seconds(10);

// Waits until pred() holds, re-checking it whenever the thread gets the CPU back, for at most
// the deadline. For state that has no event to wait on (a counter updated on another thread).
template <class Predicate>
bool eventually(Predicate pred, std::chrono::milliseconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

class LoopThread {
 public:
  LoopThread() {
    std::promise<reactor::EventLoop*> ready;
    auto started = ready.get_future();
    thread_ = std::thread([&ready] {
      reactor::EventLoop loop;
      ready.set_value(&loop);
      loop.run();
    });
    loop_ = started.get();
  }
  ~LoopThread() {
    loop_->quit();
    thread_.join();
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  [[nodiscard]] reactor::EventLoop& loop() const { return *loop_; }

  // Runs f() on the loop thread and returns its result; fails the test after the deadline.
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    auto result = task->get_future();
    loop_->run_in_loop([task] { (*task)(); });
    if (result.wait_for(kDeadline) != std::future_status::ready) {
      throw std::runtime_error(
          "LoopThread::call: the loop did not run a task within 10 s of run_in_loop(): does "
          "queue_in_loop() wake the loop (a write to its eventfd), and does the loop run its "
          "pending tasks after every epoll_wait?");
    }
    return result.get();
  }

 private:
  std::thread thread_;
  reactor::EventLoop* loop_ = nullptr;
};

class Client {
 public:
  explicit Client(const net::SocketAddress& server)
      : socket_(net::Socket::create(server.family(), net::SocketType::tcp)) {
    const net::IoResult r = socket_.connect(server);
    if (r.status == net::IoStatus::error) throw std::runtime_error("connect failed");
    if (r.status == net::IoStatus::would_block &&
        (net::wait_ready(socket_.fd(), POLLOUT, kDeadline) & POLLOUT) == 0) {
      throw std::runtime_error("connect timed out");
    }
    if (socket_.pending_error() != 0) throw std::runtime_error("connect refused");
  }

  // Adopts a connected socket: one the test accepted, playing the server a program dials.
  explicit Client(net::Socket socket) : socket_(std::move(socket)) {}

  [[nodiscard]] int fd() const { return socket_.fd(); }
  net::Socket& socket() { return socket_; }

  // Writes everything, waiting for writability as needed. False on error or deadline.
  bool send_all(std::string_view bytes) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!bytes.empty()) {
      const net::IoResult r = socket_.write(bytes);
      if (r.ok()) {
        bytes.remove_prefix(r.bytes);
      } else if (r.status != net::IoStatus::would_block || !wait(POLLOUT, until)) {
        return false;
      }
    }
    return true;
  }

  // Reads exactly n bytes, or fewer if the peer closes or the deadline passes.
  std::string receive(std::size_t n) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    std::string chunk(64 * 1024, '\0');
    while (got.size() < n) {
      const net::IoResult r =
          socket_.read(std::span<char>(chunk.data(), std::min(chunk.size(), n - got.size())));
      if (r.ok()) {
        got.append(chunk.data(), r.bytes);
      } else if (r.status != net::IoStatus::would_block || !wait(POLLIN, until)) {
        break;
      }
    }
    return got;
  }

  // Reads until end of stream (or an error such as a reset); true if it came within the deadline.
  bool receive_until_closed(std::string* collected = nullptr) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    std::string chunk(64 * 1024, '\0');
    for (;;) {
      const net::IoResult r = socket_.read(chunk);
      if (r.ok()) {
        if (collected != nullptr) collected->append(chunk.data(), r.bytes);
      } else if (r.status == net::IoStatus::closed || r.status == net::IoStatus::error) {
        return true;
      } else if (!wait(POLLIN, until)) {
        return false;
      }
    }
  }

  // Sends `data` and reads the echo at the same time (the server echoes while it reads, so a
  // large message needs both directions moving). Returns the echo.
  std::string exchange(std::string_view data) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    std::string chunk(256 * 1024, '\0');
    while (got.size() < data.size()) {
      short want = POLLIN;
      if (!data.empty() && sent_ < data.size()) want |= POLLOUT;
      if (!wait(want, until)) break;
      if (sent_ < data.size()) {
        const net::IoResult w = socket_.write(data.substr(sent_));
        if (w.ok()) sent_ += w.bytes;
      }
      const net::IoResult r = socket_.read(chunk);
      if (r.ok()) {
        got.append(chunk.data(), r.bytes);
      } else if (r.status == net::IoStatus::closed || r.status == net::IoStatus::error) {
        break;
      }
    }
    sent_ = 0;
    return got;
  }

  // Closes with SO_LINGER 0: the kernel sends RST instead of FIN.
  void reset() {
    const linger l{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(socket_.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    socket_ = net::Socket{net::FileDescriptor{}};
  }

 private:
  bool wait(short events, std::chrono::steady_clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    return net::wait_ready(socket_.fd(), events, left) != 0;
  }

  net::Socket socket_;
  std::size_t sent_ = 0;
};

inline std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7) % 251);
  return s;
}

}  // namespace avant::harness
