// directory.cpp — sending to a connection by id (directory.hpp).
#include <algorithm>
#include <mutex>
#include <string>

#include <avant/proto/avant.pb.h>
#include <avant/proto/directory.hpp>
#include <avant/proto/stream.hpp>
#include <avant/websocket/server.hpp>

namespace avant::proto {

Directory::RouteId Directory::add(Route route) {
  const std::unique_lock lock(mutex_);
  const RouteId id = next_++;
  routes_.emplace_back(id, std::move(route));
  return id;
}

void Directory::remove(RouteId route) {
  const std::unique_lock lock(mutex_);
  std::erase_if(routes_, [route](const auto& entry) { return entry.first == route; });
}

tcp::SendStatus Directory::send(std::uint64_t id, const ProtoPackage& package) const {
  const std::shared_lock lock(mutex_);
  for (const auto& [route_id, route] : routes_) {
    if (const auto status = route(id, package)) return *status;
  }
  return tcp::SendStatus::dropped;
}

Directory::Route stream_route(std::function<tcp::TcpConnectionPtr(std::uint64_t id)> find) {
  return [find = std::move(find)](std::uint64_t id,
                                  const ProtoPackage& package) -> std::optional<tcp::SendStatus> {
    const tcp::TcpConnectionPtr connection = find(id);
    if (!connection) return std::nullopt;
    return send(*connection, package);
  };
}

Directory::Route websocket_route(websocket::WebSocketServer& server,
                                 std::function<tcp::TcpConnectionPtr(std::uint64_t id)> find) {
  return [&server, find = std::move(find)](
             std::uint64_t id, const ProtoPackage& package) -> std::optional<tcp::SendStatus> {
    // The table says whether the connection is there; the session (on its loop) whether it is
    // WebSocket yet: a connection still speaking HTTP drops the message there.
    if (!find(id)) return std::nullopt;
    return server.send(id, package.SerializeAsString(), websocket::MessageType::binary);
  };
}

}  // namespace avant::proto
