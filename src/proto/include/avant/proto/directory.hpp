// directory.hpp — sends a ProtoPackage to any connection by its id, from any thread.
//
//   Directory& directory = dispatcher.directory();
//   directory.add(proto::stream_route([&server](std::uint64_t id) { return server.find(id); }));
//   directory.add(proto::websocket_route(ws, [&http](std::uint64_t id) { return http.find(id); }));
//   ...
//   directory.send(id, package);   // from a handler (Context::send_to) or any other thread
//
// Connection ids are unique in the process (tcp/connection_id.hpp), whatever listener accepted
// the connection, so a directory asks each transport in turn and the one that has the id sends.
// A transport is a Route: it frames the package as its connections expect (an 8-byte length on a
// stream, one binary message on WebSocket) and queues it to the connection's own loop, or answers
// "not mine". An id that no route knows (never seen, or the connection is gone) is `dropped`:
// a stale id never reaches freed memory, because every route looks the id up in its server's
// table under that table's lock and holds the connection while it queues.
//
// Threads: every member from any thread. Routes are added while the servers are set up and
// removed before the server they reach is destroyed; send() runs under a shared lock, so many
// loops send at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <utility>
#include <vector>

#include <avant/tcp/tcp_connection.hpp>

namespace avant {
class ProtoPackage;
}
namespace avant::websocket {
class WebSocketServer;
}

namespace avant::proto {

class Directory {
 public:
  // Sends to connection `id` if the route's server has it (the send's status), else nullopt.
  using Route =
      std::function<std::optional<tcp::SendStatus>(std::uint64_t id, const ProtoPackage& package)>;
  using RouteId = std::uint64_t;

  RouteId add(Route route);
  void remove(RouteId route);

  // `dropped` when no route has the id; otherwise the status of the connection's send().
  tcp::SendStatus send(std::uint64_t id, const ProtoPackage& package) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::pair<RouteId, Route>> routes_;
  RouteId next_ = 1;
};

// A stream transport: `find` is a server's find() (tcp::TcpServer, thread::ThreadedTcpServer).
[[nodiscard]] Directory::Route stream_route(
    std::function<tcp::TcpConnectionPtr(std::uint64_t id)> find);
// A WebSocket transport: a session of `server` gets the package as one binary message. `find`
// is the find() of the HttpServer whose connections upgrade to it (a session is a connection of
// that server, handed to WebSocket): an id it does not have is not this route's. The server must
// outlive the route (remove it first).
[[nodiscard]] Directory::Route websocket_route(
    websocket::WebSocketServer& server,
    std::function<tcp::TcpConnectionPtr(std::uint64_t id)> find);

}  // namespace avant::proto
