// client.cpp — the stream, WebSocket and UDP transports of the client, and its blocking form
// (client.hpp).
#include <algorithm>
#include <cerrno>
#include <future>
#include <string_view>
#include <system_error>
#include <utility>

#include <arpa/inet.h>
#include <netdb.h>

#include <avant/client/client.hpp>
#include <avant/net/buffer.hpp>
#include <avant/net/io.hpp>
#include <avant/proto/frame_codec.hpp>
#include <avant/tcp/protocol.hpp>
#include <avant/tcp/tcp_client.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>
#include <avant/udp/udp_endpoint.hpp>
#include <avant/websocket/client.hpp>

namespace avant::client {

net::SocketAddress resolve(const std::string& host, std::uint16_t port) {
  // An address is taken as it is; a name is looked up (blocking: once, when connecting).
  const std::string literal = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (const auto parsed = net::SocketAddress::parse(literal + ":" + std::to_string(port));
      parsed.ok()) {
    return parsed.address;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    throw ClientError("resolve '" + host + "': " + ::gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        ::inet_ntop(a->ai_family, where, text, sizeof text) == nullptr) {
      continue;
    }
    const std::string ip = a->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : text;
    if (const auto parsed = net::SocketAddress::parse(ip + ":" + std::to_string(port));
        parsed.ok()) {
      return parsed.address;
    }
  }
  throw ClientError("resolve '" + host + "': no IPv4 or IPv6 address");
}

namespace {

tcp::FilterFactory tls_filter(const Endpoint& e) {
  if (!e.tls) return {};
  try {
    auto context = std::make_shared<const tls::TlsContext>(
        tls::TlsContext::client({.ca_file = e.ca_file,
                                 .verify_peer = e.verify,
                                 .min_version = tls::TlsVersion::tls1_2,
                                 .alpn = {},
                                 .certificate_chain_file = {},
                                 .private_key_file = {}}));
    return tls::client_filter(std::move(context), e.server_name.empty() ? e.host : e.server_name);
  } catch (const tls::TlsError& error) {
    throw ClientError(error.what());
  }
}

}  // namespace

class Client::Transport {
 public:
  Transport(Client& owner, Endpoint endpoint, Handlers handlers)
      : owner_(owner), endpoint_(std::move(endpoint)), handlers_(std::move(handlers)) {}
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  Transport(Transport&&) = delete;
  Transport& operator=(Transport&&) = delete;

  virtual void connect() = 0;
  virtual tcp::SendStatus send(const ProtoPackage& package) = 0;
  virtual void close() = 0;
  [[nodiscard]] const Endpoint& endpoint() const noexcept { return endpoint_; }

 protected:
  void up() {
    if (handlers_.up) handlers_.up(owner_);
  }
  void package(const ProtoPackage& p) {
    if (handlers_.package) handlers_.package(owner_, p);
  }
  // Once per connection attempt.
  void down(const std::string& reason) {
    if (reported_down_) return;
    reported_down_ = true;
    if (handlers_.down) handlers_.down(owner_, reason);
  }

 private:
  Client& owner_;
  const Endpoint endpoint_;
  const Handlers handlers_;
  bool reported_down_ = false;  // loop thread
};

namespace {

// Packages in 8-byte-length frames, on a TcpClient (TLS through its filter).
class StreamTransport final : public Client::Transport {
 public:
  StreamTransport(reactor::EventLoop& loop, Client& owner, Endpoint endpoint,
                  Client::Handlers handlers)
      : Transport(owner, std::move(endpoint), std::move(handlers)),
        life_(std::make_shared<StreamTransport*>(this)),
        tcp_(std::make_unique<tcp::TcpClient>(loop, options(this->endpoint()))) {
    tcp_->set_protocol([life = life_](const tcp::TcpConnectionPtr&) -> tcp::ProtocolPtr {
      return std::make_shared<Link>(life);
    });
    tcp_->on_connect_failed([this](int error) {
      down("connect to " + this->endpoint().host + ":" + std::to_string(this->endpoint().port) +
           ": " + std::error_code(error, std::generic_category()).message());
    });
  }
  ~StreamTransport() override {
    tcp_.reset();  // ends a connection that is up: its down runs now, while this is whole
    *life_ = nullptr;
  }
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;
  StreamTransport(StreamTransport&&) = delete;
  StreamTransport& operator=(StreamTransport&&) = delete;

  void connect() override { tcp_->connect(); }
  tcp::SendStatus send(const ProtoPackage& package) override {
    const tcp::TcpConnectionPtr connection = this->connection();
    if (!connection) return tcp::SendStatus::dropped;
    std::string frame;
    proto::append_frame(frame, package);
    return connection->send(std::move(frame));
  }
  void close() override {
    if (const tcp::TcpConnectionPtr connection = this->connection()) connection->shutdown();
  }

 private:
  // One connection's reader. It reaches the transport through `life`, which is cleared when the
  // transport goes: a connection that outlives it reports nothing.
  class Link final : public tcp::Protocol {
   public:
    explicit Link(std::shared_ptr<StreamTransport*> life)
        : life_(std::move(life)), decoder_(proto::FrameLimits{(*life_)->endpoint().max_frame}) {}
    ~Link() override {
      // Closed before it was up: the TLS handshake failed (its reason is in the log).
      if (!was_up_ && *life_ != nullptr)
        (*life_)->down("the connection closed during its handshake");
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    Link(Link&&) = delete;
    Link& operator=(Link&&) = delete;

    void on_up(const tcp::TcpConnectionPtr& connection) override {
      was_up_ = true;
      if (StreamTransport* t = *life_) {
        t->set_connection(connection);
        t->up();
      }
    }
    void on_message(const tcp::TcpConnectionPtr& connection, net::Buffer& input) override {
      while (!input.empty() && *life_ != nullptr) {
        const auto r = decoder_.feed({input.data(), input.readable_bytes()});
        if (r.event == proto::FrameDecoder::Event::error) {
          return refuse(connection, input, decoder_.error());
        }
        if (r.event == proto::FrameDecoder::Event::need_more) {
          input.retrieve(r.consumed);
          return;
        }
        ProtoPackage package;
        if (!proto::parse_package(decoder_.body(), package)) {
          return refuse(connection, input,
                        "a frame of " + std::to_string(decoder_.body().size()) +
                            " bytes is not a ProtoPackage");
        }
        input.retrieve(r.consumed);
        (*life_)->package(package);
      }
    }
    void on_down(const tcp::TcpConnectionPtr& /*connection*/) override {
      if (StreamTransport* t = *life_) {
        t->set_connection(nullptr);
        t->down(refused_.empty() ? "closed" : refused_);
      }
    }

   private:
    void refuse(const tcp::TcpConnectionPtr& connection, net::Buffer& input, std::string why) {
      refused_ = "closed: " + std::move(why);
      input.retrieve_all();
      connection->force_close();
    }

    std::shared_ptr<StreamTransport*> life_;
    proto::FrameDecoder decoder_;
    std::string refused_;  // why this side ended the connection
    bool was_up_ = false;
  };

  static tcp::TcpClientOptions options(const Endpoint& e) {
    tcp::TcpClientOptions o;
    o.server = resolve(e.host, e.port);
    o.connect_timeout = e.connect_timeout;
    o.backoff.retry = false;
    o.filter = tls_filter(e);
    return o;
  }

  // The connection from its "up" (with TLS: after the handshake) to its "down": what send() uses.
  // Not TcpClient::connection(), which is set only after the "up" handler ran: an "up" handler
  // that sends at once must find it.
  void set_connection(tcp::TcpConnectionPtr connection) {
    const std::lock_guard lock(mutex_);
    connection_ = std::move(connection);
  }
  [[nodiscard]] tcp::TcpConnectionPtr connection() const {
    const std::lock_guard lock(mutex_);
    return connection_;
  }

  std::shared_ptr<StreamTransport*> life_;  // the links' way back (cleared by the destructor)
  mutable std::mutex mutex_;
  tcp::TcpConnectionPtr connection_;     // mutex_
  std::unique_ptr<tcp::TcpClient> tcp_;  // last: destroyed first (explicitly, above)
};

// Packages as binary WebSocket messages, on a WebSocketClient (wss through its TLS filter).
class WebSocketTransport final : public Client::Transport {
 public:
  WebSocketTransport(reactor::EventLoop& loop, Client& owner, Endpoint endpoint,
                     Client::Handlers handlers)
      : Transport(owner, std::move(endpoint), std::move(handlers)),
        ws_(std::make_unique<websocket::WebSocketClient>(
            loop, options(this->endpoint()),
            websocket::ClientHandlers{
                .open = [this](websocket::WebSocketClient&) { up(); },
                .message =
                    [this](websocket::WebSocketClient& ws, std::string_view payload,
                           websocket::MessageType type) {
                      ProtoPackage p;
                      if (type != websocket::MessageType::binary ||
                          !proto::parse_package(payload, p)) {
                        ws.close(websocket::close_code::kInvalidPayload, "not a ProtoPackage");
                        return;
                      }
                      package(p);
                    },
                .close =
                    [this](websocket::WebSocketClient&, std::uint16_t code,
                           const std::string& reason) {
                      down("closed with " + std::to_string(code) +
                           (reason.empty() ? std::string() : " (" + reason + ")"));
                    }})) {}
  ~WebSocketTransport() override { ws_.reset(); }  // its close handler runs while this is whole
  WebSocketTransport(const WebSocketTransport&) = delete;
  WebSocketTransport& operator=(const WebSocketTransport&) = delete;
  WebSocketTransport(WebSocketTransport&&) = delete;
  WebSocketTransport& operator=(WebSocketTransport&&) = delete;

  void connect() override { ws_->connect(); }
  tcp::SendStatus send(const ProtoPackage& package) override {
    return ws_->send(package.SerializeAsString(), websocket::MessageType::binary);
  }
  void close() override { ws_->close(); }

 private:
  static websocket::ClientOptions options(const Endpoint& e) {
    websocket::ClientOptions o;
    o.tcp.server = resolve(e.host, e.port);
    o.tcp.connect_timeout = e.connect_timeout;
    o.tcp.filter = tls_filter(e);
    o.request.host = e.host + ":" + std::to_string(e.port);
    o.request.path = e.path;
    o.limits.max_message = e.max_frame;
    return o;
  }

  std::unique_ptr<websocket::WebSocketClient> ws_;
};

// One datagram per package, on a UdpEndpoint connected to the server (chapter 08).
class UdpTransport final : public Client::Transport {
 public:
  UdpTransport(reactor::EventLoop& loop, Client& owner, Endpoint endpoint,
               Client::Handlers handlers)
      : Transport(owner, std::move(endpoint), std::move(handlers)),
        loop_(loop),
        server_(resolve(this->endpoint().host, this->endpoint().port)),
        life_(std::make_shared<UdpTransport*>(this)) {}
  // Loop thread (the Client's rule).
  ~UdpTransport() override {
    *life_ = nullptr;  // tasks still queued find nothing
    udp_.reset();
  }
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;
  UdpTransport(UdpTransport&&) = delete;
  UdpTransport& operator=(UdpTransport&&) = delete;

  void connect() override {
    loop_.run_in_loop([life = life_] {
      if (*life != nullptr) (*life)->open();
    });
  }
  // Handed to the loop, which sends it at once: `ok`; a datagram may still be lost on the way.
  tcp::SendStatus send(const ProtoPackage& package) override {
    loop_.run_in_loop([life = life_, bytes = package.SerializeAsString()] {
      UdpTransport* self = *life;
      if (self != nullptr && self->udp_) (void)self->udp_->send(bytes);
    });
    return tcp::SendStatus::ok;
  }
  void close() override {
    loop_.run_in_loop([life = life_] {
      if (*life != nullptr) (*life)->shut("closed");
    });
  }

 private:
  // Loop thread.
  void open() {
    if (udp_) return;
    try {
      udp::UdpOptions options;
      options.max_datagram = static_cast<std::size_t>(
          std::min<std::uint64_t>(endpoint().max_frame, std::uint64_t{65535}));
      options.batch = 4;
      const net::SocketAddress any =
          server_.is_ipv6() ? net::SocketAddress::ipv6_any(0) : net::SocketAddress::ipv4_any(0);
      udp_ = std::make_unique<udp::UdpEndpoint>(loop_, any, options);
      udp_->set_message_callback([this](std::string_view datagram, const net::SocketAddress&) {
        ProtoPackage p;
        if (proto::parse_package(datagram, p)) package(p);  // anything else is dropped
      });
      udp_->set_error_callback([this](int error, const char* what) {
        // Not from inside the endpoint's own callback: it is destroyed after it returns.
        loop_.queue_in_loop([life = life_, reason = std::string(what) + " " + server_.to_string() +
                                                    ": " + net::error_text(error)] {
          if (*life != nullptr) (*life)->shut(reason);
        });
      });
      udp_->connect(server_);
      udp_->start();
    } catch (const std::exception& e) {
      udp_.reset();
      down(std::string("udp ") + server_.to_string() + ": " + e.what());
      return;
    }
    up();
  }
  void shut(const std::string& reason) {
    udp_.reset();
    down(reason);
  }

  reactor::EventLoop& loop_;
  const net::SocketAddress server_;
  std::shared_ptr<UdpTransport*> life_;  // the queued tasks' way back (cleared by the destructor)
  std::unique_ptr<udp::UdpEndpoint> udp_;
};

}  // namespace

Client::Client(reactor::EventLoop& loop, Endpoint endpoint, Handlers handlers) {
  if (endpoint.udp) {
    transport_ =
        std::make_unique<UdpTransport>(loop, *this, std::move(endpoint), std::move(handlers));
  } else if (endpoint.websocket) {
    transport_ =
        std::make_unique<WebSocketTransport>(loop, *this, std::move(endpoint), std::move(handlers));
  } else {
    transport_ =
        std::make_unique<StreamTransport>(loop, *this, std::move(endpoint), std::move(handlers));
  }
}

Client::~Client() = default;

void Client::connect() {
  transport_->connect();
}
tcp::SendStatus Client::send(const ProtoPackage& package) {
  return transport_->send(package);
}
void Client::close() {
  transport_->close();
}
const Endpoint& Client::endpoint() const noexcept {
  return transport_->endpoint();
}

// --- BlockingClient ---

BlockingClient::BlockingClient(Endpoint endpoint) : loop_(&thread_.start()) {
  std::promise<void> made;
  auto result = made.get_future();
  loop_->run_in_loop([&] {
    try {
      client_ =
          std::make_unique<Client>(*loop_, std::move(endpoint),
                                   Client::Handlers{.up =
                                                        [this](Client&) {
                                                          const std::lock_guard lock(mutex_);
                                                          up_ = true;
                                                          changed_.notify_all();
                                                        },
                                                    .package =
                                                        [this](Client&, const ProtoPackage& p) {
                                                          const std::lock_guard lock(mutex_);
                                                          received_.push_back(p);
                                                          changed_.notify_all();
                                                        },
                                                    .down =
                                                        [this](Client&, const std::string& reason) {
                                                          const std::lock_guard lock(mutex_);
                                                          up_ = false;
                                                          down_ = true;
                                                          reason_ = reason;
                                                          changed_.notify_all();
                                                        }});
      client_->connect();
      made.set_value();
    } catch (...) {
      made.set_exception(std::current_exception());
    }
  });
  try {
    result.get();  // a host that does not resolve, unreadable TLS roots
  } catch (...) {
    shut();
    throw;
  }
  std::unique_lock lock(mutex_);
  // The TCP connect has its own timeout; the handshakes (TLS, WebSocket) are bounded here.
  const auto deadline = std::chrono::steady_clock::now() + client_->endpoint().connect_timeout * 2;
  const bool settled = changed_.wait_until(lock, deadline, [this] { return up_ || down_; });
  if (!settled || !up_) {
    const std::string why = settled ? reason_ : "no connection within the connect timeout";
    lock.unlock();
    shut();  // the destructor does not run for a constructor that throws
    throw ClientError(why);
  }
}

BlockingClient::~BlockingClient() {
  shut();
}

void BlockingClient::shut() noexcept {
  if (loop_ == nullptr) return;
  // The client is made and destroyed on its loop (its rule): wait for the destruction there.
  std::promise<void> done;
  loop_->run_in_loop([this, &done] {
    client_.reset();
    done.set_value();
  });
  done.get_future().wait();
  thread_.stop();
  loop_ = nullptr;
}

void BlockingClient::send(const ProtoPackage& package) {
  if (client_->send(package) == tcp::SendStatus::dropped) {
    throw ClientError("not sent: the connection is down (" + down_reason() + ")");
  }
}

std::optional<ProtoPackage> BlockingClient::receive(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return !received_.empty() || down_; });
  if (received_.empty()) {
    if (down_) throw ClientError("the connection is down (" + reason_ + ")");
    return std::nullopt;
  }
  ProtoPackage p = std::move(received_.front());
  received_.pop_front();
  return p;
}

ProtoPackage BlockingClient::call(const ProtoPackage& package, std::chrono::milliseconds timeout) {
  send(package);
  auto answer = receive(timeout);
  if (!answer) throw ClientError("no answer within " + std::to_string(timeout.count()) + " ms");
  return std::move(*answer);
}

void BlockingClient::close() {
  client_->close();
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, client_->endpoint().connect_timeout, [this] { return down_; });
}

bool BlockingClient::is_up() const {
  const std::lock_guard lock(mutex_);
  return up_;
}

std::string BlockingClient::down_reason() const {
  const std::lock_guard lock(mutex_);
  return down_ ? reason_ : std::string();
}

}  // namespace avant::client
