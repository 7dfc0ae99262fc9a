// datagram_service.cpp — ProtoPackages in UDP datagrams (datagram_service.hpp).
#include <optional>
#include <string>
#include <utility>

#include <google/protobuf/message_lite.h>

#include <avant/proto/frame_codec.hpp>
#include <avant/udp/datagram_service.hpp>

namespace avant::udp {

namespace {

// A datagram's origin, as chapter 07's handlers see it: replies go back to the sender.
class DatagramContext final : public proto::Context {
 public:
  DatagramContext(const proto::Dispatcher& dispatcher, UdpEndpoint& endpoint,
                  const net::SocketAddress& from)
      : Context(&dispatcher.directory()), endpoint_(endpoint), from_(from) {}
  virtual ~DatagramContext() = default;  // public and virtual, as a class with virtual members
  DatagramContext(const DatagramContext&) = delete;
  DatagramContext& operator=(const DatagramContext&) = delete;
  DatagramContext(DatagramContext&&) = delete;
  DatagramContext& operator=(DatagramContext&&) = delete;

  // A datagram has no connection: 0, which no connection id is.
  [[nodiscard]] std::uint64_t connection_id() const noexcept override { return 0; }
  void reply(const ProtoPackage& package) override {
    std::string& out = scratch();
    out.clear();
    package.AppendToString(&out);
    (void)endpoint_.send_to(out, from_);
  }
  // The package written straight from the message: the stream's frame without its 8-byte head.
  void reply(ProtoCmd cmd, const google::protobuf::MessageLite& message) override {
    std::string& out = scratch();
    out.clear();
    proto::append_frame(out, cmd, message);
    (void)endpoint_.send_to(std::string_view(out).substr(proto::kHeaderSize), from_);
  }
  // Nothing to close.
  void close() override {}

 private:
  // One per thread: the endpoint copies what it queues, so the string is free after send_to.
  static std::string& scratch() {
    thread_local std::string s;
    return s;
  }

  UdpEndpoint& endpoint_;
  const net::SocketAddress& from_;
};

}  // namespace

DatagramService::DatagramService(std::shared_ptr<const proto::Dispatcher> dispatcher)
    : dispatcher_(std::move(dispatcher)) {}

void DatagramService::serve(UdpEndpoint& endpoint) {
  endpoint.set_message_callback(
      [this, &endpoint](std::string_view datagram, const net::SocketAddress& from) {
        on_datagram(endpoint, datagram, from);
      });
}

void DatagramService::on_datagram(UdpEndpoint& endpoint, std::string_view datagram,
                                  const net::SocketAddress& from) {
  // The usual encoding read in place; any other through protobuf's parser.
  std::optional<proto::PackageView> package = proto::view_package(datagram);
  std::optional<ProtoPackage> parsed;  // made only for an unusual encoding
  if (!package) {
    if (!proto::parse_package(datagram, parsed.emplace())) {
      garbage_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    package = proto::PackageView{parsed->cmd(), parsed->protocol()};
  }
  DatagramContext context(*dispatcher_, endpoint, from);
  switch (dispatcher_->dispatch(context, *package)) {
    case proto::Dispatcher::Outcome::handled:
      packages_.fetch_add(1, std::memory_order_relaxed);
      break;
    case proto::Dispatcher::Outcome::unknown:
      unknown_.fetch_add(1, std::memory_order_relaxed);
      break;
    case proto::Dispatcher::Outcome::malformed:
      malformed_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

DatagramService::Stats DatagramService::stats() const noexcept {
  return {packages_.load(std::memory_order_relaxed), garbage_.load(std::memory_order_relaxed),
          unknown_.load(std::memory_order_relaxed), malformed_.load(std::memory_order_relaxed)};
}

void add_safe_stop(proto::Dispatcher& dispatcher, std::string app_id, std::function<void()> stop) {
  dispatcher.on<ProtoUDPSafeStopReq>(
      PROTO_CMD_UDP_SAFESTOP_REQ, [app_id = std::move(app_id), stop = std::move(stop)](
                                      proto::Context& context, const ProtoUDPSafeStopReq& request) {
        ProtoUDPSafeStopRes answer;
        answer.set_appid(app_id);
        context.reply(PROTO_CMD_UDP_SAFESTOP_RES, answer);
        if (request.appid() == app_id && stop) stop();
      });
}

}  // namespace avant::udp
