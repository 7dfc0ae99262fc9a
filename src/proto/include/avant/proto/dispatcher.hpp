// dispatcher.hpp — routes each ProtoPackage to the handler registered for its command.
//
//   Dispatcher d;
//   d.on<ProtoCSReqExample>(PROTO_CMD_CS_REQ_EXAMPLE,
//                           [](Context& c, const ProtoCSReqExample& req) {
//                             ProtoCSResExample res;
//                             res.set_testcontext(req.testcontext());
//                             c.reply(PROTO_CMD_CS_RES_EXAMPLE, res);
//                           });
//   d.dispatch(context, package)  -> handled | unknown | malformed
//
// A package is dispatched as a ProtoPackage or as a PackageView (frame_codec.hpp: its command
// and a view of its inner bytes, read in place from the frame), so that a stream parses only the
// inner message, straight from the bytes it read.
//
// A handler gets its typed inner message (`protocol` parsed as the type it registered) and a
// Context: the package's connection, through which it answers. It reaches any other connection
// by id with Context::send_to, through the dispatcher's Directory (directory.hpp), where the
// application registers its transports; other threads send with directory().send(). The same dispatcher serves every
// transport — a TCP stream (stream.hpp), plain or TLS, and WebSocket binary messages — because a
// transport only supplies the Context: how an answer is framed is its business.
//
// Outcomes the transport acts on: `unknown` (no handler for the command: ignored and counted, or
// the connection closed, by the transport's policy) and `malformed` (the inner message does not
// parse as the registered type: the connection is closed).
//
// Threads: register every handler before the dispatcher serves; then dispatch() is const and runs
// on many loops at once, so handlers must be safe to call concurrently (state per connection
// belongs in the transport's session, shared state behind a lock). The message a handler gets is
// reused for the next package on its thread: valid during the call, like the Context, which is
// valid during its handler's call only.
#pragma once

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <google/protobuf/message_lite.h>

#include <avant/proto/avant.pb.h>
#include <avant/proto/directory.hpp>
#include <avant/proto/frame_codec.hpp>

namespace avant::proto {

// Where a package came from, and how to answer it.
class Context {
 public:
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&&) = delete;
  Context& operator=(Context&&) = delete;

  // The connection's id (tcp/connection_id.hpp): the original's GID.
  [[nodiscard]] virtual std::uint64_t connection_id() const noexcept = 0;
  // Sends `package` on the package's own connection, framed as that transport frames it.
  virtual void reply(const ProtoPackage& package) = 0;
  // Ends the connection once what was sent has gone.
  virtual void close() = 0;

  // A package of `cmd` carrying `message`. A transport may frame it without making the package
  // (a stream writes the message's bytes straight into its batch).
  virtual void reply(ProtoCmd cmd, const google::protobuf::MessageLite& message) {
    ProtoPackage package;
    package.set_cmd(cmd);
    message.SerializeToString(package.mutable_protocol());
    reply(package);
  }

  // Sends `package` to the connection `id`, whatever its listener or transport (the
  // directory's routes): `dropped` when no route has it. Any handler, any thread.
  tcp::SendStatus send_to(std::uint64_t id, const ProtoPackage& package) const {
    return directory_ != nullptr ? directory_->send(id, package) : tcp::SendStatus::dropped;
  }
  template <class Message>
  tcp::SendStatus send_to(std::uint64_t id, ProtoCmd cmd, const Message& message) const {
    ProtoPackage package;
    package.set_cmd(cmd);
    message.SerializeToString(package.mutable_protocol());
    return send_to(id, package);
  }

 protected:
  // `directory`: the dispatcher's (Dispatcher::directory()), or null for none.
  explicit Context(const Directory* directory) noexcept : directory_(directory) {}
  ~Context() = default;

 private:
  const Directory* directory_;
};

class Dispatcher {
 public:
  enum class Outcome : std::uint8_t { handled, unknown, malformed };
  using PackageHandler = std::function<void(Context&, const ProtoPackage&)>;

  // The handler of `cmd`, given the inner message parsed as `Message`: a callable taking
  // (Context&, const Message&), or (Context&, Message&) to take from the message (swap a string
  // out of it) during its call. Replaces an earlier one.
  template <class Message, class Handler>
  void on(ProtoCmd cmd, Handler handler) {
    slot(static_cast<int>(cmd)) = [h = std::move(handler)](Context& context,
                                                           const PackageView& package) {
      // One message per thread and type, parsed again (cleared) for each package: its strings
      // keep their capacity, so a steady stream of packages parses without allocating. A
      // handler that dispatches again on its thread (nested) gets a fresh one.
      thread_local Message reused;
      thread_local bool in_use = false;
      if (in_use) {
        Message fresh;
        if (!parse_inner(fresh, package.protocol)) return false;
        h(context, fresh);
        return true;
      }
      if (!parse_inner(reused, package.protocol)) return false;
      // (A handler that throws leaves it marked: that thread then parses into fresh ones.)
      in_use = true;
      h(context, reused);
      in_use = false;
      return true;
    };
  }
  // The handler of `cmd`, given the package: its command and inner bytes, unparsed.
  void on_package(ProtoCmd cmd, PackageHandler handler);

  // Runs the handler of package.cmd with package.protocol, the inner bytes. const: many loops
  // call it at once.
  Outcome dispatch(Context& context, const PackageView& package) const;
  Outcome dispatch(Context& context, const ProtoPackage& package) const {
    return dispatch(context, PackageView{package.cmd(), package.protocol()});
  }
  [[nodiscard]] bool handles(int cmd) const { return find(cmd) != nullptr; }
  // Where Context::send_to looks ids up: the application adds a route per transport
  // (directory.hpp). Any thread.
  [[nodiscard]] Directory& directory() const noexcept { return *directory_; }

 private:
  // An entry: true when the inner message parsed and the handler ran.
  using Entry = std::function<bool(Context&, const PackageView&)>;
  // Commands 0 .. kDirect-1 (the original's all are) have their entry at direct_[cmd], found by
  // an index; any other int32 in others_. An empty std::function is no entry.
  static constexpr int kDirect = 64;

  // Parses `bytes` into `message` (cleared first): false when they are not one, or are more than
  // protobuf's int size.
  static bool parse_inner(google::protobuf::MessageLite& message, std::string_view bytes) {
    return bytes.size() <= static_cast<std::size_t>(INT_MAX) &&
           message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
  // The entry of `cmd`, to be set (made empty if it was not there).
  Entry& slot(int cmd) {
    return cmd >= 0 && cmd < kDirect ? direct_[static_cast<std::size_t>(cmd)] : others_[cmd];
  }
  // The entry of `cmd`, or null when it has none.
  [[nodiscard]] const Entry* find(int cmd) const noexcept;

  std::array<Entry, kDirect> direct_;
  std::unordered_map<int, Entry> others_;
  std::shared_ptr<Directory> directory_ = std::make_shared<Directory>();
};

// The original's echo example (docs/original-avant.md): CS_REQ_EXAMPLE answered with
// CS_RES_EXAMPLE holding the same testContext.
void add_echo_example(Dispatcher& dispatcher);

}  // namespace avant::proto
