// callbacks.hpp — every callback type of module tcp, one alias each.
//
// Callbacks run on the loop thread that owns the connection, with a shared reference held, so the
// connection stays alive inside the callback even if it is closed there.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace avant::net {
class Buffer;
}

namespace avant::tcp {

class TcpConnection;
using TcpConnectionPtr = std::shared_ptr<TcpConnection>;

// A connection came up (connected() is true) or went down (connected() is false).
using ConnectionCallback = std::function<void(const TcpConnectionPtr&)>;
// Bytes arrived: consume what forms complete messages from `input`, leave the rest for later.
using MessageCallback = std::function<void(const TcpConnectionPtr&, net::Buffer& input)>;
// The output buffer drained completely (all queued bytes were handed to the kernel).
using WriteCompleteCallback = std::function<void(const TcpConnectionPtr&)>;
// The output buffer crossed the high-water mark upwards; `queued` is the bytes it holds now.
using HighWaterCallback = std::function<void(const TcpConnectionPtr&, std::size_t queued)>;
// Internal: the connection closed; its owner (TcpServer) forgets it.
using CloseCallback = std::function<void(const TcpConnectionPtr&)>;

}  // namespace avant::tcp
