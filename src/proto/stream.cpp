// stream.cpp — the session of one stream connection (stream.hpp).
#include <optional>
#include <string>
#include <utility>

#include <google/protobuf/message_lite.h>

#include <avant/net/buffer.hpp>
#include <avant/proto/stream.hpp>
#include <avant/reactor/log.hpp>

namespace avant::proto {

namespace {

// The read's batch: one session's read is handled at a time on a loop, so one per thread. A
// Buffer, so that a frame is written in its free room (a string's resize would zero it first).
net::Buffer& batch_scratch() {
  thread_local net::Buffer b;
  return b;
}

// A batch this big is handed to the connection at once, mid-read (a read of small requests with
// large answers does not pile them all up here); its storage is given back when it is done.
constexpr std::size_t kKeptBatch = 64u << 10;

// The package a frame not in the usual encoding is parsed into (view_package reads the others in
// place), one per thread like the batch: cleared and parsed again, its `protocol` string keeps its
// capacity. Handlers get a view of it for their call only.
ProtoPackage& package_scratch() {
  thread_local ProtoPackage p;
  return p;
}

}  // namespace

// One connection: frames in, packages to the dispatcher, answers out. It is its own Context.
class StreamSession final : public tcp::Protocol, private Context {
 public:
  explicit StreamSession(StreamService& service)
      : Context(&service.dispatcher_->directory()),
        service_(service),
        decoder_(service.options_.limits) {}

  void on_up(const tcp::TcpConnectionPtr& connection) override { connection_ = connection.get(); }

  void on_message(const tcp::TcpConnectionPtr& /*connection*/, net::Buffer& input) override {
    batching_ = true;
    read_frames(input);
    batching_ = false;
    flush_counts();
    flush();
  }

  void on_down(const tcp::TcpConnectionPtr& /*connection*/) override { connection_ = nullptr; }

 private:
  void read_frames(net::Buffer& input) {
    while (!input.empty() && !closing_) {
      const FrameDecoder::Result r = decoder_.feed({input.data(), input.readable_bytes()});
      if (r.event == FrameDecoder::Event::need_more) {
        input.retrieve(r.consumed);
        break;
      }
      if (r.event == FrameDecoder::Event::error) {
        input.retrieve_all();
        return refuse(decoder_.error());
      }
      // The body is a view of the input when the frame came whole: handled before it goes. The
      // usual encoding is read in place, the inner bytes a view of the body; any other goes
      // through protobuf's parser, into a package of this thread's.
      std::optional<PackageView> package = view_package(decoder_.body());
      if (!package) {
        ProtoPackage& parsed = package_scratch();
        if (!parse_package(decoder_.body(), parsed)) {
          input.retrieve_all();
          return refuse("a frame of " + std::to_string(decoder_.body().size()) +
                        " bytes is not a ProtoPackage");
        }
        package = PackageView{parsed.cmd(), parsed.protocol()};
      }
      input.retrieve(r.consumed);
      switch (service_.dispatcher_->dispatch(*this, *package)) {
        case Dispatcher::Outcome::handled:
          ++handled_;  // added to the service's count once per read (flush_counts)
          break;
        case Dispatcher::Outcome::unknown:
          service_.unknown_.fetch_add(1, std::memory_order_relaxed);
          if (service_.options_.unknown == UnknownCommands::close) {
            input.retrieve_all();
            return refuse("command " + std::to_string(package->cmd) + " has no handler");
          }
          break;
        case Dispatcher::Outcome::malformed:
          input.retrieve_all();
          return refuse("the message of command " + std::to_string(package->cmd) +
                        " does not parse as its handler's type");
      }
    }
    if (decoder_.at_rest()) decoder_.release_storage();
  }

  // One logged line; the answers made so far are handed to the connection, then it ends at once
  // (a peer that sent garbage gets no more reading, and no time to hold the connection open).
  void refuse(const std::string& reason) {
    flush_counts();
    service_.refused_.fetch_add(1, std::memory_order_relaxed);
    reactor::log::warn("proto",
                       connection_->peer_address().to_string() + ": closing (" + reason + ")");
    closing_ = true;
    flush();
    connection_->force_close();
  }

  void flush() {
    net::Buffer& batch = batch_scratch();
    if (batch.empty()) return;
    if (connection_ != nullptr) (void)connection_->send(batch.view());
    batch.retrieve_all();
    if (batch.capacity() > 2 * kKeptBatch) batch.shrink(kKeptBatch);
  }

  // --- Context ---
  [[nodiscard]] std::uint64_t connection_id() const noexcept override {
    return connection_ != nullptr ? connection_->id() : 0;
  }
  void reply(const ProtoPackage& package) override {
    if (connection_ == nullptr || closing_) return;
    if (batching_) {
      std::string frame;
      append_frame(frame, package);
      net::Buffer& batch = batch_scratch();
      if (batch.append(frame)) {
        if (batch.readable_bytes() >= kKeptBatch) flush();
        return;
      }
      flush();  // over the batch's max_size: what is there goes first, then this one
      (void)connection_->send(std::move(frame));
      return;
    }
    (void)send(*connection_, package);
  }
  // The typed answer is framed straight into the batch, without a package in between.
  void reply(ProtoCmd cmd, const google::protobuf::MessageLite& message) override {
    if (connection_ == nullptr || closing_) return;
    if (batching_) {
      net::Buffer& batch = batch_scratch();
      if (append_frame(batch, cmd, message)) {
        if (batch.readable_bytes() >= kKeptBatch) flush();
        return;
      }
      flush();  // over the batch's max_size: what is there goes first, then this one
    }
    std::string frame;
    append_frame(frame, cmd, message);
    (void)connection_->send(std::move(frame));
  }

  // One shared count per read, not per package: the service's counters are read-modify-writes
  // on a cache line every loop touches.
  void flush_counts() {
    if (handled_ == 0) return;
    service_.packages_.fetch_add(handled_, std::memory_order_relaxed);
    handled_ = 0;
  }
  void close() override {
    if (connection_ == nullptr || closing_) return;
    closing_ = true;
    flush();
    connection_->shutdown();
  }

  StreamService& service_;                    // outlives the server's connections (stream.hpp)
  tcp::TcpConnection* connection_ = nullptr;  // the owner (it holds this session), while up
  FrameDecoder decoder_;
  std::uint64_t handled_ = 0;  // packages handled in this read, not yet in the service's count
  bool batching_ = false;      // inside on_message: answers go to the read's batch
  bool closing_ = false;       // refused or closed: nothing more is read or answered
};

StreamService::StreamService(std::shared_ptr<const Dispatcher> dispatcher, StreamOptions options)
    : dispatcher_(std::move(dispatcher)), options_(options) {}

tcp::ProtocolFactory StreamService::factory() {
  return [this](const tcp::TcpConnectionPtr&) -> tcp::ProtocolPtr {
    return std::make_shared<StreamSession>(*this);
  };
}

StreamService::Stats StreamService::stats() const noexcept {
  return {packages_.load(std::memory_order_relaxed), unknown_.load(std::memory_order_relaxed),
          refused_.load(std::memory_order_relaxed)};
}

tcp::SendStatus send(tcp::TcpConnection& connection, const ProtoPackage& package) {
  std::string frame;
  append_frame(frame, package);
  return connection.send(std::move(frame));
}

}  // namespace avant::proto
