// api.hpp — the public API of modules reactor and tcp that chapter 02's tests use, pinned at
// compile time (see tests/01-sockets/api.hpp for why).
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include <avant/reactor/channel.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/tcp_connection.hpp>
#include <avant/tcp/tcp_server.hpp>

namespace avant::tcp {
// Lets GoogleTest print send results by name in failure messages.
inline void PrintTo(SendStatus status, std::ostream* out) {
  *out << to_string(status);
}
}  // namespace avant::tcp

namespace avant::reactor::api {

template <class L>
concept Loop = !std::copyable<L> && requires(L loop, const L cloop, std::function<void()> task,
                                             Duration d, TimePoint t, TimerId id, Channel& ch) {
  loop.run();
  loop.quit();
  loop.run_in_loop(task);
  loop.queue_in_loop(task);
  { cloop.queued_tasks() } -> std::same_as<std::size_t>;
  { loop.run_at(t, task) } -> std::same_as<TimerId>;
  { loop.run_after(d, task) } -> std::same_as<TimerId>;
  { loop.run_every(d, task) } -> std::same_as<TimerId>;
  loop.cancel(id);
  { cloop.is_in_loop_thread() } -> std::same_as<bool>;
  cloop.assert_in_loop_thread();
  { L::of_current_thread() } -> std::same_as<L*>;
  { cloop.iterations() } -> std::same_as<std::uint64_t>;
  { cloop.channel_count() } -> std::same_as<std::size_t>;
  { cloop.timer_count() } -> std::same_as<std::size_t>;
  loop.update_channel(ch);
  loop.remove_channel(ch);
};

template <class C>
concept ChannelApi = requires(C c, const C cc, std::function<void()> cb) {
  c.on_read(cb);
  c.on_write(cb);
  c.on_close(cb);
  c.on_error(cb);
  c.enable_reading();
  c.disable_reading();
  c.enable_writing();
  c.disable_writing();
  c.disable_all();
  c.remove();
  c.handle_event();
  { cc.fd() } -> std::same_as<int>;
  { cc.is_reading() } -> std::same_as<bool>;
  { cc.is_writing() } -> std::same_as<bool>;
};

static_assert(Loop<EventLoop>, "EventLoop: see event_loop.hpp");
static_assert(ChannelApi<Channel>, "Channel: see channel.hpp");

}  // namespace avant::reactor::api

namespace avant::tcp::api {

template <class C>
concept Connection = requires(C c, const C cc, std::string_view bytes, std::string s) {
  { c.send(bytes) } -> std::same_as<SendStatus>;
  { c.send(std::move(s)) } -> std::same_as<SendStatus>;
  c.shutdown();
  c.force_close();
  c.set_reading(true);
  { cc.connected() } -> std::same_as<bool>;
  { cc.state() } -> std::same_as<typename C::State>;
  { cc.queued_output() } -> std::same_as<std::size_t>;
  { cc.is_reading() } -> std::same_as<bool>;
  { cc.bytes_read() } -> std::same_as<std::uint64_t>;
  { cc.bytes_written() } -> std::same_as<std::uint64_t>;
  { cc.peer_address() } -> std::convertible_to<net::SocketAddress>;
};

template <class S>
concept Server = requires(S s, const S cs, ConnectionCallback cc, MessageCallback mc,
                          HighWaterCallback hc, WriteCompleteCallback wc) {
  s.on_connection(cc);
  s.on_message(mc);
  s.on_high_water(hc);
  s.on_write_complete(wc);
  s.start();
  { cs.listen_address() } -> std::convertible_to<net::SocketAddress>;
  { cs.connection_count() } -> std::same_as<std::size_t>;
  { cs.stats() } -> std::same_as<typename S::Stats>;
};

static_assert(Connection<TcpConnection>, "TcpConnection: see tcp_connection.hpp");
static_assert(Server<TcpServer>, "TcpServer: see tcp_server.hpp");

}  // namespace avant::tcp::api
