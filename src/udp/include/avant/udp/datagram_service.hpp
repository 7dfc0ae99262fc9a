// datagram_service.hpp — ProtoPackages in UDP datagrams: one datagram is one package, with no
// length in front (the datagram has one), and an answer is one datagram to the sender's address
// (docs/original-avant.md, "Frames on the wire"). The dispatcher is chapter 07's: the same
// handlers serve a stream, WebSocket and UDP.
//
//   auto dispatcher = std::make_shared<proto::Dispatcher>();
//   proto::add_echo_example(*dispatcher);
//   add_safe_stop(*dispatcher, "0.0.0.1", [&] { server.stop(); });
//   DatagramService service(dispatcher);
//   UdpEndpoint endpoint(loop, address, options);
//   service.serve(endpoint);
//   endpoint.start();
//
// What is not a package is counted and dropped, and the endpoint goes on serving everyone: a
// datagram that does not parse as a ProtoPackage (`garbage`), a command without a handler
// (`unknown`), an inner message that does not parse as its handler's type (`malformed`). There is
// no connection to close.
//
// Threads: serve() on the endpoint's loop thread; the service is shared by the endpoints it
// serves (one per loop), stats() from any thread. It must outlive them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <avant/proto/dispatcher.hpp>
#include <avant/udp/udp_endpoint.hpp>

namespace avant::udp {

class DatagramService {
 public:
  struct Stats {
    std::uint64_t packages = 0;   // dispatched to a handler
    std::uint64_t garbage = 0;    // not a ProtoPackage
    std::uint64_t unknown = 0;    // no handler for the command
    std::uint64_t malformed = 0;  // the inner message is not the handler's type
  };

  explicit DatagramService(std::shared_ptr<const proto::Dispatcher> dispatcher);
  DatagramService(const DatagramService&) = delete;
  DatagramService& operator=(const DatagramService&) = delete;
  DatagramService(DatagramService&&) = delete;
  DatagramService& operator=(DatagramService&&) = delete;
  ~DatagramService() = default;

  // Loop thread of `endpoint`. Sets its message callback: each datagram is dispatched, answers go
  // back to its sender through `endpoint`.
  void serve(UdpEndpoint& endpoint);
  // Any thread.
  [[nodiscard]] Stats stats() const noexcept;

 private:
  void on_datagram(UdpEndpoint& endpoint, std::string_view datagram,
                   const net::SocketAddress& from);

  std::shared_ptr<const proto::Dispatcher> dispatcher_;
  std::atomic<std::uint64_t> packages_{0};
  std::atomic<std::uint64_t> garbage_{0};
  std::atomic<std::uint64_t> unknown_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

// The original's safe stop (docs/original-avant.md, "UDP safe stop"): PROTO_CMD_UDP_SAFESTOP_REQ
// is answered with PROTO_CMD_UDP_SAFESTOP_RES { appId = app_id }, as the original answers; then,
// when the request's appId is this process's own app_id, `stop` runs (the original answered and
// stopped nothing). A request naming another app is answered and stops nothing: a datagram that
// stops a server must at least know which one it is.
void add_safe_stop(proto::Dispatcher& dispatcher, std::string app_id, std::function<void()> stop);

}  // namespace avant::udp
