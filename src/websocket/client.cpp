// client.cpp — WebSocketClient and the protocol of each of its connections (client.hpp).
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <openssl/rand.h>

#include <avant/net/buffer.hpp>
#include <avant/net/io.hpp>
#include <avant/reactor/log.hpp>
#include <avant/websocket/client.hpp>
#include <avant/websocket/utf8.hpp>

namespace avant::websocket {

namespace {

// A fresh masking key from the calling thread's block of random bytes, refilled from OpenSSL's
// generator when used up.
MaskKey next_mask() {
  thread_local std::array<unsigned char, 1024> block{};
  thread_local std::size_t used = block.size();
  if (used == block.size()) {
    if (RAND_bytes(block.data(), static_cast<int>(block.size())) != 1) {
      throw std::runtime_error("RAND_bytes failed: no randomness for a masking key");
    }
    used = 0;
  }
  MaskKey key{};
  for (auto& b : key)
    b = block[used++];
  return key;
}

std::string masked_frame(Opcode opcode, bool rsv1, std::string_view payload) {
  FrameHeader h;
  h.fin = true;
  h.rsv1 = rsv1;
  h.opcode = opcode;
  h.masked = true;
  h.mask = next_mask();
  std::string frame;
  frame.reserve(kMaxHeaderSize + payload.size());
  append_frame(frame, h, payload);
  return frame;
}

}  // namespace

// One connection: the handshake, then frames. Made by the TcpClient's factory on the loop.
class WebSocketClient::Link final : public tcp::Protocol,
                                    public std::enable_shared_from_this<Link> {
 public:
  explicit Link(WebSocketClient& client) : client_(client) {}

  void on_up(const tcp::TcpConnectionPtr& connection) override {
    connection_ = connection.get();
    weak_ = connection;
    up_ = true;
    UpgradeRequest& r = request_;
    r = client_.options_.request;
    if (r.host.empty()) r.host = client_.options_.tcp.server.to_string();
    key_ = make_key();
    (void)connection->send(upgrade_request(r, key_));
    timer_ = arm(client_.options_.handshake_timeout, "no answer to the upgrade request in time");
  }

  void on_message(const tcp::TcpConnectionPtr& /*connection*/, net::Buffer& input) override {
    if (phase_ == Phase::handshake && !read_answer(input)) return;
    if (!parser_) {
      input.retrieve_all();  // a failed handshake: nothing more is read
      return;
    }
    while (!input.empty() && up_) {
      if (parser_->closed() || parser_->failed()) {
        input.retrieve_all();
        return;
      }
      const MessageParser::Result r = parser_->feed({input.data(), input.readable_bytes()});
      switch (r.event) {
        case MessageParser::Event::need_more:
          input.retrieve(r.consumed);
          return;
        case MessageParser::Event::message:
          deliver();
          break;
        case MessageParser::Event::ping:
          if (phase_ == Phase::open) send_control(Opcode::pong, parser_->payload());
          break;
        case MessageParser::Event::pong:
          break;
        case MessageParser::Event::close:
          peer_closed();
          break;
        case MessageParser::Event::error:
          refuse(parser_->error().code, parser_->error().reason);
          input.retrieve_all();
          return;
      }
      input.retrieve(r.consumed);
    }
  }

  void on_down(const tcp::TcpConnectionPtr& connection) override {
    if (!up_) return;
    up_ = false;
    connection->loop().cancel(timer_);
    if (!peer_close_seen_ && code_ != close_code::kAbnormal) {
      // We closed (or refused) and the server ended the connection without its close frame.
      code_ = close_code::kAbnormal;
    }
    phase_ = Phase::done;
    client_.ended(*this, code_, reason_);
  }

  tcp::SendStatus send_in_loop(std::string_view payload, MessageType type) {
    if (!up_ || phase_ != Phase::open) return tcp::SendStatus::dropped;
    const Opcode opcode = type == MessageType::text ? Opcode::text : Opcode::binary;
    if (deflater_ && payload.size() >= client_.options_.deflate_min_size) {
      std::string deflated;
      deflater_->compress(payload, deflated);
      return connection_->send(masked_frame(opcode, true, deflated));
    }
    return connection_->send(masked_frame(opcode, false, payload));
  }

  void close_in_loop(std::uint16_t code, std::string_view reason) {
    if (!up_ || phase_ != Phase::open) return;
    if (!is_valid_close_code(code)) code = close_code::kInternalError;
    send_control(Opcode::close, close_payload(code, reason.substr(0, 123)));
    phase_ = Phase::closing;
    client_.not_open(*this);
    code_ = code;
    reason_ = std::string(reason);
    rearm(client_.options_.close_timeout, "the server did not answer the close in time");
  }

  [[nodiscard]] std::size_t buffered() const {
    const auto connection = weak_.lock();
    return connection ? connection->queued_output() : 0;
  }
  [[nodiscard]] std::weak_ptr<tcp::TcpConnection> connection() const { return weak_; }

 private:
  // handshake --101--> open --close()--> closing --the server's close--> closed --FIN--> done
  //                      └── the server's close (answered) or a refused frame ──┘
  enum class Phase : std::uint8_t { handshake, open, closing, closed, done };

  // The answer's head, once whole: checked, and the connection opened or failed. False while it
  // is incomplete or when it failed.
  bool read_answer(net::Buffer& input) {
    const std::string_view bytes(input.data(), input.readable_bytes());
    const std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (bytes.size() > client_.options_.max_answer) fail("the answer's head is too long");
      return false;
    }
    if (end + 4 > client_.options_.max_answer) {
      fail("the answer's head is too long");
      return false;
    }
    const UpgradeAnswer answer = check_answer(bytes.substr(0, end + 4), key_, request_);
    input.retrieve(end + 4);
    if (!answer.ok) {
      fail("handshake: " + answer.reason);
      return false;
    }
    connection_->loop().cancel(timer_);
    parser_.emplace(Role::client, client_.options_.limits);
    if (answer.deflate) {
      const DeflateParams& p = *answer.deflate;
      parser_->set_compression(true);
      deflater_.emplace(p.client_max_window_bits, !p.client_no_context_takeover,
                        client_.options_.deflate_level);
      inflater_.emplace(15, !p.server_no_context_takeover);
    }
    phase_ = Phase::open;
    client_.subprotocol_ = answer.subprotocol;
    client_.compressed_ = answer.deflate.has_value();
    client_.opened(shared_from_this());
    return up_;
  }

  // The handshake failed: the connection goes without a close frame (there is no WebSocket yet).
  void fail(std::string reason) {
    reactor::log::warn("websocket-client", client_.options_.tcp.server.to_string() + ": " + reason);
    reason_ = std::move(reason);
    phase_ = Phase::closed;
    connection_->force_close();
  }

  void deliver() {
    std::string_view payload = parser_->payload();
    const MessageType type =
        parser_->opcode() == Opcode::text ? MessageType::text : MessageType::binary;
    std::string inflated;
    if (parser_->compressed()) {
      if (!inflater_) return refuse(close_code::kProtocolError, "a compressed message");
      switch (inflater_->inflate(payload, client_.options_.limits.max_message, inflated)) {
        case Inflater::Status::ok:
          break;
        case Inflater::Status::too_big:
          return refuse(close_code::kMessageTooBig, "a compressed message inflates past the limit");
        case Inflater::Status::corrupt:
          return refuse(close_code::kInvalidPayload, "a compressed message is not valid DEFLATE");
      }
      if (type == MessageType::text && !is_valid_utf8(inflated)) {
        return refuse(close_code::kInvalidPayload, "a text message is not valid UTF-8");
      }
      payload = inflated;
    }
    if (phase_ != Phase::open && phase_ != Phase::closing) return;
    if (client_.handlers_.message) client_.handlers_.message(client_, payload, type);
  }

  void peer_closed() {
    peer_close_seen_ = true;
    if (phase_ == Phase::open) {
      code_ = parser_->close_code();
      reason_ = std::string(parser_->close_reason());
      // Answered with its own code (none for a close without one, RFC 6455 §5.5.1).
      send_control(Opcode::close,
                   code_ == close_code::kNoStatus ? std::string() : close_payload(code_, {}));
    } else {
      code_ = parser_->close_code();
      reason_ = std::string(parser_->close_reason());
    }
    phase_ = Phase::closed;
    client_.not_open(*this);
    rearm(client_.options_.close_timeout, "the server did not end the connection in time");
  }

  // A frame the parser refused: its close code, then our FIN.
  void refuse(std::uint16_t code, std::string reason) {
    reactor::log::warn("websocket-client", client_.options_.tcp.server.to_string() +
                                               ": closing with " + std::to_string(code) + " (" +
                                               reason + ")");
    if (phase_ == Phase::open) {
      send_control(Opcode::close, close_payload(code, std::string_view(reason).substr(0, 120)));
    }
    code_ = close_code::kAbnormal;
    reason_ = std::move(reason);
    phase_ = Phase::closed;
    client_.not_open(*this);
    connection_->shutdown();
    rearm(client_.options_.close_timeout, "the server did not end the connection in time");
  }

  void send_control(Opcode opcode, std::string_view payload) {
    (void)connection_->send(masked_frame(opcode, false, payload.substr(0, kMaxControlPayload)));
  }

  reactor::TimerId arm(std::chrono::milliseconds after, std::string why) {
    return connection_->loop().run_after(
        after, [weak = weak_from_this(), why = std::move(why)]() mutable {
          const auto self = weak.lock();
          if (!self || !self->up_) return;
          reactor::log::info("websocket-client",
                             self->client_.options_.tcp.server.to_string() + ": " + why);
          if (self->reason_.empty()) self->reason_ = std::move(why);
          self->connection_->force_close();
        });
  }
  void rearm(std::chrono::milliseconds after, std::string why) {
    connection_->loop().cancel(timer_);
    timer_ = arm(after, std::move(why));
  }

  WebSocketClient& client_;
  tcp::TcpConnection* connection_ = nullptr;  // the owner, from on_up
  std::weak_ptr<tcp::TcpConnection> weak_;
  UpgradeRequest request_;
  std::string key_;
  std::optional<MessageParser> parser_;
  std::optional<Deflater> deflater_;
  std::optional<Inflater> inflater_;
  reactor::TimerId timer_{};
  std::string reason_;
  std::uint16_t code_ = close_code::kAbnormal;
  Phase phase_ = Phase::handshake;
  bool up_ = false;
  bool peer_close_seen_ = false;
};

WebSocketClient::WebSocketClient(reactor::EventLoop& loop, ClientOptions options,
                                 ClientHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)), tcp_(loop, options_.tcp) {
  tcp_.set_protocol([this](const tcp::TcpConnectionPtr&) -> tcp::ProtocolPtr {
    return std::make_shared<Link>(*this);
  });
  tcp_.on_connect_failed([this](int error) {
    if (handlers_.close) {
      handlers_.close(*this, close_code::kAbnormal, "connect: " + net::error_text(error));
    }
  });
}

WebSocketClient::~WebSocketClient() = default;

void WebSocketClient::connect() {
  tcp_.connect();
}

void WebSocketClient::opened(const std::shared_ptr<Link>& link) {
  {
    const std::lock_guard lock(mutex_);
    open_ = link;
  }
  if (handlers_.open) handlers_.open(*this);
}

void WebSocketClient::not_open(const Link& link) {
  const std::lock_guard lock(mutex_);
  if (open_.get() == &link) open_.reset();
}

void WebSocketClient::ended(const Link& link, std::uint16_t code, const std::string& reason) {
  not_open(link);
  if (handlers_.close) handlers_.close(*this, code, reason);
}

tcp::SendStatus WebSocketClient::send(std::string_view payload, MessageType type) {
  std::shared_ptr<Link> link;
  {
    const std::lock_guard lock(mutex_);
    link = open_;
  }
  if (!link) return tcp::SendStatus::dropped;
  if (tcp_.loop().is_in_loop_thread()) return link->send_in_loop(payload, type);
  const auto connection = link->connection().lock();
  if (!connection) return tcp::SendStatus::dropped;
  tcp_.loop().queue_in_loop(
      [link, bytes = std::string(payload), type] { (void)link->send_in_loop(bytes, type); });
  return connection->queued_output() >= connection->options().high_water_mark
             ? tcp::SendStatus::backpressure
             : tcp::SendStatus::ok;
}

void WebSocketClient::close(std::uint16_t code, std::string_view reason) {
  std::shared_ptr<Link> link;
  {
    const std::lock_guard lock(mutex_);
    link = open_;
  }
  if (!link) return;
  tcp_.loop().run_in_loop(
      [link, code, text = std::string(reason)] { link->close_in_loop(code, text); });
}

bool WebSocketClient::is_open() const {
  const std::lock_guard lock(mutex_);
  return open_ != nullptr;
}

std::size_t WebSocketClient::buffered() const {
  std::shared_ptr<Link> link;
  {
    const std::lock_guard lock(mutex_);
    link = open_;
  }
  return link ? link->buffered() : 0;
}

}  // namespace avant::websocket
