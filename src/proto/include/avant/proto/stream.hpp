// stream.hpp — ProtoPackages over a TCP stream (plain or TLS): the original's STREAM_TASK.
//
//   StreamService service(dispatcher, options);
//   server.set_protocol(service.factory());     // a tcp::TcpServer or thread::ThreadedTcpServer
//
//   bytes ── FrameDecoder ── view_package ── Dispatcher ── handler ── Context::reply
//                                                                          │ framed into the
//   one write per read  <── the read's batch  <─────────────────────────────┘ read's batch
//
// Each connection gets a StreamSession (a tcp::Protocol): it reads frames as they arrive, reads
// each body as a ProtoPackage and dispatches it. The usual encoding is read in place
// (view_package: the handler's message is parsed straight from the bytes read); any other goes
// through protobuf's parser (parse_package). Answers made while the frames of one read are
// handled are framed into one batch, handed to the connection in one write when the read is done
// (a client that pipelines costs a write per read, not per package), or as soon as it holds
// 64 KiB.
//
// What closes a connection at once, with one logged line naming the peer and the reason (the
// others keep being served): a frame over options.limits.max_body (refused on its 8-byte head,
// before any of its body is kept), a body that is not a ProtoPackage, an inner message that does
// not parse as its handler's type, and, with UnknownCommands::close, a command without a handler
// (with ::ignore, the default, it is dropped and counted). Every case is counted in stats().
//
// Threads: the service is shared by every connection of a server, on every loop; stats() from any
// thread. It must outlive the server's connections (keep it beside the server).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <avant/proto/dispatcher.hpp>
#include <avant/proto/frame_codec.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_connection.hpp>

namespace avant::proto {

enum class UnknownCommands : std::uint8_t { ignore, close };

struct StreamOptions {
  FrameLimits limits{};  // max_body: the original's 10240 by default
  UnknownCommands unknown = UnknownCommands::ignore;
};

class StreamService {
 public:
  struct Stats {
    std::uint64_t packages = 0;  // dispatched to a handler
    std::uint64_t unknown = 0;   // commands without a handler
    std::uint64_t refused = 0;   // connections closed: oversized frame, not a package, malformed
  };

  StreamService(std::shared_ptr<const Dispatcher> dispatcher, StreamOptions options);

  // A StreamSession per connection.
  [[nodiscard]] tcp::ProtocolFactory factory();
  [[nodiscard]] Stats stats() const noexcept;
  [[nodiscard]] const StreamOptions& options() const noexcept { return options_; }

 private:
  friend class StreamSession;
  const std::shared_ptr<const Dispatcher> dispatcher_;
  const StreamOptions options_;
  std::atomic<std::uint64_t> packages_{0};
  std::atomic<std::uint64_t> unknown_{0};
  std::atomic<std::uint64_t> refused_{0};
};

// Frames `package` and sends it on `connection`, from any thread (TcpConnection::send): how a
// handler answers later, or another connection is reached.
tcp::SendStatus send(tcp::TcpConnection& connection, const ProtoPackage& package);

}  // namespace avant::proto
