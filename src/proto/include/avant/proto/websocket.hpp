// websocket.hpp — ProtoPackages over WebSocket: the original's WEBSOCKET_TASK.
//
//   WebSocketServer ws(pool, options, proto::websocket_handlers(dispatcher, {}));
//
// One binary message is one ProtoPackage, with no length prefix (the WebSocket frame has one;
// docs/original-avant.md, "Frames on the wire"), dispatched as on a stream; an answer is one
// binary message. A binary message that is not a ProtoPackage, or whose inner message does not
// parse as its handler's type, closes the session with 1007 (invalid payload data) and one logged
// line; an unknown command is ignored and counted, or closes with 1008 (policy violation), by
// the same UnknownCommands policy as streams. A text message is not a package: it is echoed when
// echo_text is on (a page or a tool can check the connection with text), else it closes the
// session with 1003 (unsupported data).
//
// Threads: the handlers run on the sessions' loops, as the dispatcher's do; stats() from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <avant/proto/dispatcher.hpp>
#include <avant/proto/stream.hpp>
#include <avant/websocket/server.hpp>

namespace avant::proto {

struct WebSocketOptions {
  UnknownCommands unknown = UnknownCommands::ignore;
  bool echo_text = true;
};

// What the handlers counted, shared with them (read it from any thread).
struct WebSocketCounters {
  std::atomic<std::uint64_t> packages{0};  // dispatched to a handler
  std::atomic<std::uint64_t> unknown{0};   // commands without a handler
  std::atomic<std::uint64_t> refused{0};   // sessions closed: not a package, malformed, ...
};

// Handlers for a WebSocketServer whose binary messages are ProtoPackages. `counters` may be null.
[[nodiscard]] websocket::Handlers websocket_handlers(
    std::shared_ptr<const Dispatcher> dispatcher, WebSocketOptions options,
    std::shared_ptr<WebSocketCounters> counters = nullptr);

}  // namespace avant::proto
