// websocket.cpp — the dispatcher behind a WebSocketServer (websocket.hpp).
#include <optional>
#include <string>
#include <utility>

#include <avant/proto/frame_codec.hpp>
#include <avant/proto/websocket.hpp>
#include <avant/reactor/log.hpp>

namespace avant::proto {

namespace {

// One message's origin: its session. An answer is one binary message.
class SessionContext final : public Context {
 public:
  SessionContext(websocket::Session& session, const Directory& directory)
      : Context(&directory), session_(session) {}
  virtual ~SessionContext() = default;  // public and virtual, as a class with virtual members
  SessionContext(const SessionContext&) = delete;
  SessionContext& operator=(const SessionContext&) = delete;
  SessionContext(SessionContext&&) = delete;
  SessionContext& operator=(SessionContext&&) = delete;

  using Context::reply;  // the typed answer: made into a package, then reply(package)
  [[nodiscard]] std::uint64_t connection_id() const noexcept override { return session_.id(); }
  void reply(const ProtoPackage& package) override {
    (void)session_.send(package.SerializeAsString(), websocket::MessageType::binary);
  }
  void close() override { session_.close(websocket::close_code::kNormal); }

 private:
  websocket::Session& session_;
};

void refuse(websocket::Session& session, std::uint16_t code, const std::string& reason,
            WebSocketCounters& counters) {
  counters.refused.fetch_add(1, std::memory_order_relaxed);
  reactor::log::warn("proto", session.peer_address().to_string() + ": closing with " +
                                  std::to_string(code) + " (" + reason + ")");
  session.close(code, reason);
}

}  // namespace

websocket::Handlers websocket_handlers(std::shared_ptr<const Dispatcher> dispatcher,
                                       WebSocketOptions options,
                                       std::shared_ptr<WebSocketCounters> counters) {
  if (!counters) counters = std::make_shared<WebSocketCounters>();
  websocket::Handlers h;
  h.message = [dispatcher = std::move(dispatcher), options, counters = std::move(counters)](
                  websocket::Session& session, std::string_view payload,
                  websocket::MessageType type) {
    if (type == websocket::MessageType::text) {
      if (options.echo_text) {
        (void)session.send(payload, type);
      } else {
        refuse(session, websocket::close_code::kUnsupportedData,
               "a text message is not a ProtoPackage", *counters);
      }
      return;
    }
    // The usual encoding read in place; any other through protobuf's parser.
    std::optional<PackageView> package = view_package(payload);
    std::optional<ProtoPackage> parsed;  // made only for an unusual encoding
    if (!package) {
      if (!parse_package(payload, parsed.emplace())) {
        return refuse(session, websocket::close_code::kInvalidPayload,
                      "a binary message of " + std::to_string(payload.size()) +
                          " bytes is not a ProtoPackage",
                      *counters);
      }
      package = PackageView{parsed->cmd(), parsed->protocol()};
    }
    SessionContext context(session, dispatcher->directory());
    switch (dispatcher->dispatch(context, *package)) {
      case Dispatcher::Outcome::handled:
        counters->packages.fetch_add(1, std::memory_order_relaxed);
        break;
      case Dispatcher::Outcome::unknown:
        counters->unknown.fetch_add(1, std::memory_order_relaxed);
        if (options.unknown == UnknownCommands::close) {
          refuse(session, websocket::close_code::kPolicyViolation,
                 "command " + std::to_string(package->cmd) + " has no handler", *counters);
        }
        break;
      case Dispatcher::Outcome::malformed:
        refuse(session, websocket::close_code::kInvalidPayload,
               "the message of command " + std::to_string(package->cmd) +
                   " does not parse as its handler's type",
               *counters);
        break;
    }
  };
  return h;
}

}  // namespace avant::proto
