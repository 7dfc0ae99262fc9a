// ipc_mesh.hpp — this process's place in an IPC mesh: a listener on its own ipc.json entry, one
// link to every other entry, ProtoPackages sent to a peer by app_id.
//
//   auto dispatcher = std::make_shared<proto::Dispatcher>();
//   proto::add_echo_example(*dispatcher);            // CS_REQ_EXAMPLE over IPC, as the original
//   IpcMesh mesh(other_loop, {.app_id = "0.0.0.1", .mesh = load_mesh("ipc.json")}, dispatcher);
//   mesh.start();
//   mesh.send("0.0.0.2", package);                   // any thread
//
//   0.0.0.1 ──dials──> 0.0.0.2 ──dials──> 0.0.0.3       the lower app_id of a pair dials the
//      └──────────────dials──────────────────┘          higher one; each pair has one link
//
// A link is a TCP connection (optionally TLS with both sides' certificates checked: the options'
// filters) carrying the stream's frames (chapter 07, `[u64 length][ProtoPackage]`), that has
// passed the handshake (handshake.hpp): the claimed app_id checked against ipc.json, within
// `handshake_timeout`, packages before it dropped and counted.
//
// One link per pair, chosen the same way on both sides: the lower app_id dials the higher one
// (with the runtime's backoff and jitter, tcp_client.hpp); the higher one only accepts. A second
// connection for a pair that has a link (the higher one dialed too, as the original does, or
// both came up at once) is closed after its handshake by both sides, which keep the one that the
// lower app_id dialed; so the result does not depend on timing.
//
// Sending: send() and broadcast() from any thread put framed packages in the peer's outbox (one
// per peer, in order); the loop hands them to the link. While the peer is down they wait there,
// up to `max_queued` packages; over that, `when_full` rejects the new one (send() says
// `rejected`) or drops the oldest (counted in the peer's stats). When the link comes up the
// outbox goes first, in order.
//
// Delivery (docs/ipc.md, "Delivery"): with heartbeats on, the peer acknowledges what it read (a
// count on its heartbeat); a package of send() is kept until then, at most `max_queued` of them
// in flight, and when the link breaks the unconfirmed ones go back to the front of the outbox for
// the next link: at least once. A handler's answer (Context::reply) is sent once and not kept.
// With `heartbeat` 0 (a mesh with the original) nothing is acknowledged or sent again.
//
// Liveness: every `heartbeat` a link that sent nothing else carries the handshake frame again,
// with the count of packages read (an Avant peer takes it as the acknowledgement; the original
// hands it to its Lua); a link from which nothing has been read for `peer_timeout` is closed
// (then dialed again). Callbacks tell when a peer is up and down.
//
// A read's writes (answers, acknowledgements, outbox frames) leave in one write after the read.
//
// Threads: construct, start() and destroy on the loop's thread; send(), broadcast(), stop(),
// stats() and peer_stats() from any thread. The callbacks and the dispatcher's handlers run on the
// loop's thread. The mesh must outlive its loop's last iteration that may touch it: destroy it on
// its loop before the loop goes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <avant/ipc/mesh_config.hpp>
#include <avant/proto/dispatcher.hpp>
#include <avant/reactor/event_loop.hpp>
#include <avant/tcp/connection_filter.hpp>
#include <avant/tcp/tcp_client.hpp>

namespace avant::ipc {

// What a full outbox does with one more package.
enum class WhenFull : std::uint8_t {
  reject,      // the new one is refused (send() says `rejected`); what waits keeps its order
  drop_oldest  // the longest-waiting one is dropped and counted; the new one waits
};

enum class Delivery : std::uint8_t {
  queued,        // in the peer's outbox: it goes out on the peer's link, in order
  rejected,      // the outbox is full (WhenFull::reject): not sent
  unknown_peer,  // no such app_id in ipc.json (or it is our own)
  stopped        // the mesh is stopping or stopped
};
[[nodiscard]] std::string_view to_string(Delivery delivery) noexcept;

struct MeshOptions {
  std::string app_id;  // ours: must be an entry of `mesh`
  MeshConfig mesh;
  std::size_t max_connections = 100;  // the original's max_ipc_conn_num: IPC connections open
  std::chrono::milliseconds handshake_timeout{5000};  // from up to handshake done, either side
  std::chrono::milliseconds heartbeat{1000};          // 0: none (for a peer that would mind)
  std::chrono::milliseconds peer_timeout{5000};       // nothing read for this long: closed
  std::size_t max_queued = 10000;                     // packages per peer's outbox
  WhenFull when_full = WhenFull::reject;
  std::uint64_t max_frame = 16u << 20;  // bytes of one frame's body; over it: the link is closed
  tcp::BackoffOptions backoff{};        // dialing: bounded exponential backoff, full jitter
  std::chrono::milliseconds connect_timeout{3000};
  // Mutual TLS: the listener's filter (e.g. tls::server_filter of a context that requires a
  // client certificate from the mesh's CA), and the dialer's for one peer (e.g.
  // tls::client_filter(context with our certificate, peer.address.ip())). Empty: plain TCP.
  tcp::FilterFactory server_filter{};
  std::function<tcp::FilterFactory(const MeshEntry& peer)> client_filter{};
  // Where the listener binds: empty means our ipc.json entry's address. Tests bind port 0 first
  // and then write the mesh with the port they got (listen_address()).
  std::optional<net::SocketAddress> listen{};
};

class IpcMesh {
 public:
  struct Stats {
    std::uint64_t links_up = 0;            // handshakes done that became the pair's link
    std::uint64_t refused = 0;             // handshakes refused (unknown, wrong or own id)
    std::uint64_t handshake_timeouts = 0;  // closed: no handshake within handshake_timeout
    std::uint64_t before_handshake = 0;    // packages dropped: they came before the handshake
    std::uint64_t duplicates = 0;          // second connections of a pair, closed
    std::uint64_t over_limit = 0;          // accepted connections closed: max_connections
    std::uint64_t silent = 0;              // links closed: nothing read for peer_timeout
    std::uint64_t bad_frames = 0;          // links closed: oversized frame, not a package
    std::uint64_t packages = 0;            // packages dispatched to a handler
    std::uint64_t unknown = 0;             // packages of a command without a handler (dropped)
    std::uint64_t heartbeats_sent = 0;
    std::uint64_t heartbeats_received = 0;
    std::uint64_t open_connections = 0;  // now: accepted and dialed, handshake done or not
  };
  struct PeerStats {
    bool up = false;                 // a link is up now
    std::uint64_t queued = 0;        // packages in the outbox now
    std::uint64_t sent = 0;          // packages of send() handed to a link (less resent ones)
    std::uint64_t acknowledged = 0;  // of those, confirmed read by the peer (acks on)
    std::uint64_t unacked = 0;       // handed to the link now, not yet confirmed
    std::uint64_t resent = 0;        // put back in the outbox: their link broke unconfirmed
    std::uint64_t rejected = 0;      // refused: outbox full (WhenFull::reject)
    std::uint64_t dropped = 0;       // dropped from a full outbox (WhenFull::drop_oldest)
    std::uint64_t received = 0;      // packages read from its links after the handshake
    std::uint64_t links = 0;         // links that came up
    std::uint64_t attempts = 0;      // connect(2) calls to it (we dial it)
    std::uint64_t failures = 0;      // of those, refused, unreachable or timed out
  };

  // Binds the listener (throws std::system_error naming the address; a mesh without our app_id
  // throws MeshConfigError); does not listen or dial yet. The dispatcher answers packages that
  // arrive on links after their handshake; the Context's connection_id() is the link's
  // connection id, and IpcMesh::peer_of(context) its peer's app_id.
  IpcMesh(reactor::EventLoop& loop, MeshOptions options,
          std::shared_ptr<const proto::Dispatcher> dispatcher);
  ~IpcMesh();  // loop thread: every connection closed at once, no callback runs
  IpcMesh(const IpcMesh&) = delete;
  IpcMesh& operator=(const IpcMesh&) = delete;
  IpcMesh(IpcMesh&&) = delete;
  IpcMesh& operator=(IpcMesh&&) = delete;

  // Loop thread, before start(). Run on the loop thread when a peer's link comes up or goes down.
  void on_peer_up(std::function<void(const std::string& app_id)> cb);
  void on_peer_down(std::function<void(const std::string& app_id)> cb);

  // Loop thread: listens, dials the peers with a higher app_id.
  void start();
  // Any thread: no more dialing or accepting; links are shut down once their output is written.
  void stop();

  // Any thread.
  Delivery send(std::string_view app_id, const ProtoPackage& package);
  Delivery send(std::string_view app_id, ProtoCmd cmd,
                const google::protobuf::MessageLite& message);
  // To every peer: how many outboxes took it.
  std::size_t broadcast(const ProtoPackage& package);

  [[nodiscard]] const std::string& app_id() const noexcept;
  [[nodiscard]] net::SocketAddress listen_address() const;
  [[nodiscard]] Stats stats() const;
  // Any thread; nullopt for an app_id that is not a peer.
  [[nodiscard]] std::optional<PeerStats> peer_stats(std::string_view app_id) const;
  // The peers whose link is up now.
  [[nodiscard]] std::vector<std::string> peers_up() const;

  // In a handler of the mesh's dispatcher: the app_id of the peer the package came from.
  [[nodiscard]] static const std::string& peer_of(const proto::Context& context);

  struct Core;  // shared with the links' sessions (ipc_mesh.cpp)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace avant::ipc
