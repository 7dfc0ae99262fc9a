// Chapter 09 — IPC meshes on loops of this process, on 127.0.0.1: three of them form a mesh and
// answer each other's requests; plain sockets play peers that check the handshake's bytes, lie
// about their app_id, stay silent, speak before the handshake or dial a pair a second time; a
// peer that goes away is dialed again with backoff (attempts counted over a window: no busy loop)
// and gets what was queued for it, in order; a full outbox rejects or drops the oldest, as told.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <poll.h>

// Before Avant's headers, which only declare protobuf's MessageLite (clang-tidy's
// bugprone-forward-declaration-namespace otherwise takes GoogleTest's proto2::MessageLite for a
// misplaced declaration of it).
#include <google/protobuf/message_lite.h>

#include <avant/ipc/handshake.hpp>
#include <avant/ipc/ipc_mesh.hpp>
#include <avant/ipc/mesh_config.hpp>
#include <avant/net/socket.hpp>
#include <avant/proto/avant.pb.h>
#include <avant/proto/dispatcher.hpp>
#include <avant/proto/frame_codec.hpp>
#include <avant/testing/harness.hpp>
#include <avant/tls/tls_context.hpp>
#include <avant/tls/tls_filter.hpp>

#include <gtest/gtest.h>

#include "pki.hpp"

namespace avant::ipc {
namespace {

using namespace std::chrono_literals;
using harness::eventually;
using net::SocketAddress;

// What a node's handlers saw: "req <peer> <text>" and "res <peer> <text>", in arrival order.
class Record {
 public:
  void add(std::string line) {
    const std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  [[nodiscard]] std::vector<std::string> lines() const {
    const std::lock_guard lock(mutex_);
    return lines_;
  }
  [[nodiscard]] std::size_t count(const std::string& prefix) const {
    const std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(lines_.begin(), lines_.end(),
                      [&](const std::string& l) { return l.rfind(prefix, 0) == 0; }));
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Short timers, so that the tests see timeouts and reconnects happen.
void quick(MeshOptions& o) {
  o.handshake_timeout = 400ms;
  o.heartbeat = 100ms;
  o.peer_timeout = 1000ms;
  o.backoff.initial = 20ms;
  o.backoff.max = 200ms;
  o.connect_timeout = 1000ms;
}

// One process's mesh on a loop of its own. Its handlers answer CS_REQ_EXAMPLE as the original
// (CS_RES_EXAMPLE, same testContext) and record both kinds.
class Node {
 public:
  Node(std::string app_id, MeshConfig mesh, std::uint16_t port = 0,
       const std::function<void(MeshOptions&)>& tweak = {}) {
    auto dispatcher = std::make_shared<proto::Dispatcher>();
    dispatcher->on<ProtoCSReqExample>(
        PROTO_CMD_CS_REQ_EXAMPLE, [this](proto::Context& c, const ProtoCSReqExample& req) {
          record_->add("req " + IpcMesh::peer_of(c) + " " + req.testcontext());
          ProtoCSResExample res;
          res.set_testcontext(req.testcontext());
          c.reply(PROTO_CMD_CS_RES_EXAMPLE, res);
        });
    dispatcher->on<ProtoCSResExample>(
        PROTO_CMD_CS_RES_EXAMPLE, [this](proto::Context& c, const ProtoCSResExample& res) {
          record_->add("res " + IpcMesh::peer_of(c) + " " + res.testcontext());
        });
    MeshOptions o;
    o.app_id = std::move(app_id);
    o.mesh = std::move(mesh);
    o.listen = SocketAddress::ipv4_loopback(port);
    quick(o);
    if (tweak) tweak(o);
    mesh_ = loop_.call([&] {
      auto m = std::make_unique<IpcMesh>(loop_.loop(), std::move(o), dispatcher);
      m->on_peer_up([this](const std::string& id) { record_->add("up " + id); });
      m->on_peer_down([this](const std::string& id) { record_->add("down " + id); });
      m->start();
      return m;
    });
    address_ = mesh_->listen_address();
  }
  ~Node() {
    try {
      loop_.call([this] { mesh_.reset(); });
    } catch (const std::exception& e) {
      ADD_FAILURE() << "destroying the mesh: " << e.what();
    }
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node(Node&&) = delete;
  Node& operator=(Node&&) = delete;

  IpcMesh& mesh() { return *mesh_; }
  [[nodiscard]] const SocketAddress& address() const { return address_; }
  [[nodiscard]] const Record& record() const { return *record_; }
  // The record, for reading after the node is gone.
  [[nodiscard]] std::shared_ptr<const Record> keep_record() const { return record_; }
  [[nodiscard]] bool up_with(std::size_t peers) const { return mesh_->peers_up().size() == peers; }

 private:
  std::shared_ptr<Record> record_ = std::make_shared<Record>();
  harness::LoopThread loop_;
  std::unique_ptr<IpcMesh> mesh_;
  SocketAddress address_;
};

// A mesh of these app ids and 127.0.0.1 ports (1 where the port is not known yet: only the
// entries a node dials need a real one).
MeshConfig mesh_of(const std::vector<std::pair<std::string, std::uint16_t>>& entries) {
  MeshConfig m;
  for (const auto& [id, port] : entries) {
    m.entries.push_back(MeshEntry{id, SocketAddress::ipv4_loopback(port == 0 ? 1 : port)});
  }
  return m;
}

ProtoPackage request(const std::string& text) {
  ProtoCSReqExample req;
  req.set_testcontext(text);
  ProtoPackage p;
  p.set_cmd(PROTO_CMD_CS_REQ_EXAMPLE);
  p.set_protocol(req.SerializeAsString());
  return p;
}

std::string frame_of(const ProtoPackage& p) {
  std::string f;
  proto::append_frame(f, p);
  return f;
}

// A plain socket's side of a connection (send_all, receive, receive_until_closed, reset), dialed
// by the test or accepted from a mesh that dials.
using Raw = harness::Client;

// A listening socket that plays a peer a mesh dials.
class RawListener {
 public:
  RawListener() : socket_(net::Socket::create(AF_INET, net::SocketType::tcp)) {
    socket_.bind(SocketAddress::ipv4_loopback(0));
    socket_.listen();
    port_ = socket_.local_address().port();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The next connection, within the deadline (throws otherwise).
  Raw accept() {
    if ((net::wait_ready(socket_.fd(), POLLIN, harness::kDeadline) & POLLIN) == 0) {
      throw std::runtime_error("nobody dialed within the deadline");
    }
    net::AcceptResult r = socket_.accept();
    if (r.status != net::IoStatus::ok) throw std::runtime_error("accept failed");
    return Raw(std::move(r.socket));
  }

 private:
  net::Socket socket_;
  std::uint16_t port_ = 0;
};

TEST(IpcMesh, ThreeProcessesFormAMeshAndAnswerEachOther) {
  // The highest first: each node dials only higher ones, whose ports are known by then.
  Node c("0.0.0.3", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}, {"0.0.0.3", 0}}));
  Node b("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}, {"0.0.0.3", c.address().port()}}));
  Node a(
      "0.0.0.1",
      mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", b.address().port()}, {"0.0.0.3", c.address().port()}}));
  ASSERT_TRUE(eventually([&] { return a.up_with(2) && b.up_with(2) && c.up_with(2); }));

  Node* nodes[] = {&a, &b, &c};
  for (Node* from : nodes) {
    for (Node* to : nodes) {
      if (from == to) continue;
      EXPECT_EQ(from->mesh().send(to->mesh().app_id(), request("from " + from->mesh().app_id())),
                Delivery::queued);
    }
  }
  for (Node* n : nodes) {
    ASSERT_TRUE(eventually([&] { return n->record().count("res ") == 2; }))
        << n->mesh().app_id() << " got " << n->record().count("res ") << " answers";
  }
  const auto lines = a.record().lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "req 0.0.0.2 from 0.0.0.2"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "res 0.0.0.3 from 0.0.0.1"), lines.end());

  EXPECT_EQ(b.mesh().broadcast(request("to all")), 2u);
  ASSERT_TRUE(eventually([&] { return b.record().count("res ") == 4; }));
  for (Node* n : nodes) {
    const IpcMesh::Stats s = n->mesh().stats();
    EXPECT_EQ(s.links_up, 2u) << n->mesh().app_id();
    EXPECT_EQ(s.open_connections, 2u) << n->mesh().app_id();  // one per pair
    EXPECT_EQ(s.duplicates + s.refused + s.bad_frames + s.unknown, 0u) << n->mesh().app_id();
  }
  EXPECT_EQ(a.mesh().send("0.0.0.9", request("x")), Delivery::unknown_peer);
  EXPECT_EQ(a.mesh().send("0.0.0.1", request("x")), Delivery::unknown_peer);  // ourselves
}

TEST(IpcMesh, TheHandshakeBytesAreTheOriginalsBothWays) {
  // 0.0.0.1 dials the raw listener playing 0.0.0.2; the raw socket dials it playing 0.0.0.0.
  RawListener higher;
  // A handshake timeout longer than the test: the connection it dials waits for the raw side.
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}, {"0.0.0.2", higher.port()}}), 0,
         [](MeshOptions& o) { o.handshake_timeout = 20s; });

  // The accepting side speaks first: its 21 bytes as soon as it accepts.
  Raw lower = Raw(n.address());
  EXPECT_EQ(lower.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(lower.send_all(Handshake::frame("0.0.0.0")));
  // After it, the original's echo example over IPC: 23 bytes in, 25 out.
  ASSERT_TRUE(lower.send_all(frame_of(request("hello-avant"))));
  const std::string answer = lower.receive(25);
  EXPECT_EQ(answer, std::string("\0\0\0\0\0\0\0\x11\x08\x01\x12\x0d\x0a\x0bhello-avant", 25));

  // The connecting side waits, then answers with its own 21 bytes.
  Raw dialed = higher.accept();
  ASSERT_TRUE(dialed.send_all(Handshake::frame("0.0.0.2")));
  EXPECT_EQ(dialed.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(eventually([&] { return n.up_with(2); }));
  EXPECT_EQ(n.mesh().stats().links_up, 2u);
}

TEST(IpcMesh, AnUnknownOrWrongAppIdIsRefusedAndTheMeshGoesOn) {
  RawListener higher;
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}, {"0.0.0.2", higher.port()}}), 0,
         [](MeshOptions& o) { o.handshake_timeout = 20s; });

  Raw liar = Raw(n.address());
  EXPECT_EQ(liar.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(liar.send_all(Handshake::frame("9.9.9.9")));  // not in ipc.json
  ASSERT_TRUE(liar.send_all(frame_of(request("served?"))));
  std::string after;
  EXPECT_TRUE(liar.receive_until_closed(&after));
  EXPECT_TRUE(after.empty()) << "a refused peer was answered";

  Raw self = Raw(n.address());
  EXPECT_EQ(self.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(self.send_all(Handshake::frame("0.0.0.1")));  // our own id
  EXPECT_TRUE(self.receive_until_closed());

  // The entry dialed must say it is the one dialed.
  Raw impostor = higher.accept();
  ASSERT_TRUE(impostor.send_all(Handshake::frame("0.0.0.0")));
  EXPECT_TRUE(impostor.receive_until_closed());
  EXPECT_EQ(n.mesh().stats().refused, 3u);
  EXPECT_TRUE(n.up_with(0));
  EXPECT_TRUE(n.record().lines().empty());

  // It dials again (backoff), and an honest peer gets its link.
  Raw honest = higher.accept();
  ASSERT_TRUE(honest.send_all(Handshake::frame("0.0.0.2")));
  EXPECT_EQ(honest.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(eventually([&] { return n.up_with(1); }));
}

TEST(IpcMesh, ASilentConnectionIsClosedAtTheHandshakeTimeout) {
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}}));
  Raw silent = Raw(n.address());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(silent.receive_until_closed());
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(
      waited,
      350ms);  // the handshake timeout is 400 ms (a coarse check: timers may fire early by a tick)
  EXPECT_EQ(n.mesh().stats().handshake_timeouts, 1u);
  EXPECT_EQ(n.mesh().stats().open_connections, 0u);
}

TEST(IpcMesh, PackagesBeforeTheHandshakeAreDroppedAndCounted) {
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}}));
  Raw peer = Raw(n.address());
  EXPECT_EQ(peer.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(peer.send_all(frame_of(request("early 1")) + frame_of(request("early 2")) +
                            Handshake::frame("0.0.0.0") + frame_of(request("on time"))));
  const std::string answer = peer.receive(21);  // 8 + 6 + "on time"
  EXPECT_NE(answer.find("on time"), std::string::npos);
  EXPECT_EQ(n.mesh().stats().before_handshake, 2u);
  EXPECT_EQ(n.record().lines(), (std::vector<std::string>{"up 0.0.0.0", "req 0.0.0.0 on time"}));
}

TEST(IpcMesh, ASecondConnectionOfAPairIsClosedAndTheLowersDialKept) {
  Node b("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}}));
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", b.address().port()}}));
  ASSERT_TRUE(eventually([&] { return a.up_with(1) && b.up_with(1); }));

  // The higher one dials too, as the original does: both keep the link the lower dialed.
  Raw second = Raw(a.address());
  EXPECT_EQ(second.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_TRUE(second.send_all(Handshake::frame("0.0.0.2")));
  EXPECT_TRUE(second.receive_until_closed());
  EXPECT_EQ(a.mesh().stats().duplicates, 1u);
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->links, 1u);
  EXPECT_TRUE(a.up_with(1));

  // The link is the same one, and serves.
  EXPECT_EQ(a.mesh().send("0.0.0.2", request("still here")), Delivery::queued);
  ASSERT_TRUE(eventually([&] { return a.record().count("res 0.0.0.2 still here") == 1; }));
  EXPECT_EQ(a.record().count("down "), 0u);
  EXPECT_EQ(b.record().count("down "), 0u);
}

TEST(IpcMesh, MaxConnectionsIsEnforcedOnAcceptedConnections) {
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}}), 0,
         [](MeshOptions& o) { o.max_connections = 1; });
  Raw first = Raw(n.address());
  EXPECT_EQ(first.receive(21), Handshake::frame("0.0.0.1"));
  Raw second = Raw(n.address());
  EXPECT_TRUE(second.receive_until_closed());
  EXPECT_EQ(n.mesh().stats().over_limit, 1u);
}

TEST(IpcMesh, ARestartedPeerIsDialedWithBackoffAndGetsWhatWasQueuedInOrder) {
  auto b = std::make_unique<Node>("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}}));
  const std::uint16_t port = b->address().port();
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", port}}));
  ASSERT_TRUE(eventually([&] { return a.up_with(1); }));
  b.reset();  // the process is gone
  ASSERT_TRUE(eventually([&] { return a.up_with(0); }));

  constexpr int kQueued = 200;
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_EQ(a.mesh().send("0.0.0.2", request("n" + std::to_string(i))), Delivery::queued);
  }
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->queued, static_cast<std::uint64_t>(kQueued));

  // While it is down the mesh dials it with backoff (20 ms doubling to 200 ms, full jitter):
  // about 10 attempts a second, where a busy loop would make thousands.
  const std::uint64_t before = a.mesh().peer_stats("0.0.0.2")->attempts;
  std::this_thread::sleep_for(1500ms);  // a measuring window, not a wait for a condition
  const std::uint64_t attempts = a.mesh().peer_stats("0.0.0.2")->attempts - before;
  EXPECT_GE(attempts, 3u);
  EXPECT_LE(attempts, 60u);

  b = std::make_unique<Node>("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}}), port);
  ASSERT_TRUE(eventually([&] { return b->record().count("req ") == kQueued; }))
      << b->record().count("req ") << " of " << kQueued;
  std::vector<std::string> expected{"up 0.0.0.1"};
  for (int i = 0; i < kQueued; ++i)
    expected.push_back("req 0.0.0.1 n" + std::to_string(i));
  EXPECT_EQ(b->record().lines(), expected);
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->queued, 0u);
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->sent, static_cast<std::uint64_t>(kQueued));
}

TEST(IpcMesh, AFullOutboxRejectsTheNewOneOrDropsTheOldestAsTold) {
  RawListener down;  // 0.0.0.2's port, nobody answering yet
  Node reject("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", down.port()}}), 0,
              [](MeshOptions& o) { o.max_queued = 5; });
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(reject.mesh().send("0.0.0.2", request("r" + std::to_string(i))),
              i < 5 ? Delivery::queued : Delivery::rejected);
  }
  EXPECT_EQ(reject.mesh().peer_stats("0.0.0.2")->rejected, 3u);

  RawListener later;
  Node drop("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.3", later.port()}}), 0, [](MeshOptions& o) {
    o.max_queued = 5;
    o.when_full = WhenFull::drop_oldest;
  });
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(drop.mesh().send("0.0.0.3", request("d" + std::to_string(i))), Delivery::queued);
  }
  EXPECT_EQ(drop.mesh().peer_stats("0.0.0.3")->dropped, 3u);
  // The peer comes up: the five newest, in order.
  Raw peer = later.accept();
  ASSERT_TRUE(peer.send_all(Handshake::frame("0.0.0.3")));
  EXPECT_EQ(peer.receive(21), Handshake::frame("0.0.0.1"));
  std::string expected;
  for (int i = 3; i < 8; ++i)
    expected += frame_of(request("d" + std::to_string(i)));
  EXPECT_EQ(peer.receive(expected.size()), expected);
}

TEST(IpcMesh, HeartbeatsKeepAnIdleLinkUpAndASilentOneIsClosed) {
  Node b("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}, {"0.0.0.3", 0}}));
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", b.address().port()}, {"0.0.0.3", 0}}));
  ASSERT_TRUE(eventually([&] { return a.up_with(1) && b.up_with(1); }));
  // Idle for well over the peer timeout (1 s): the heartbeats (every 100 ms) keep it.
  ASSERT_TRUE(eventually([&] { return a.mesh().stats().heartbeats_received >= 20; }));
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->links, 1u);
  EXPECT_EQ(a.mesh().stats().silent + b.mesh().stats().silent, 0u);

  // A peer that does its handshake and then says nothing more is closed after the timeout.
  Raw quiet = Raw(b.address());
  EXPECT_EQ(quiet.receive(21), Handshake::frame("0.0.0.2"));
  ASSERT_TRUE(quiet.send_all(Handshake::frame("0.0.0.3")));
  ASSERT_TRUE(quiet.receive_until_closed());
  EXPECT_EQ(b.mesh().stats().silent, 1u);
  EXPECT_TRUE(eventually([&] { return b.record().count("down 0.0.0.3") == 1; }));
}

}  // namespace
}  // namespace avant::ipc

namespace avant::ipc {
namespace {

TEST(IpcMesh, WhatALinkDidNotConfirmIsSentAgainOnTheNextOne) {
  RawListener b;
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", b.port()}}), 0,
         [](MeshOptions& o) { o.handshake_timeout = 20s; });
  Raw first = b.accept();
  ASSERT_TRUE(first.send_all(Handshake::frame("0.0.0.2")));
  EXPECT_EQ(first.receive(21), Handshake::frame("0.0.0.1"));
  std::string all;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(a.mesh().send("0.0.0.2", request("m" + std::to_string(i))), Delivery::queued);
    all += frame_of(request("m" + std::to_string(i)));
  }
  // It reads all ten, confirms four (its heartbeat's count), and the connection breaks.
  EXPECT_EQ(first.receive(all.size()), all);
  ASSERT_TRUE(first.send_all(Handshake::frame("0.0.0.2", 4)));
  ASSERT_TRUE(eventually([&] { return a.mesh().peer_stats("0.0.0.2")->acknowledged == 4; }));
  EXPECT_EQ(a.mesh().peer_stats("0.0.0.2")->unacked, 6u);
  first.reset();  // the connection breaks

  // The next link gets the six it did not confirm, in order, before anything newer.
  Raw second = b.accept();
  ASSERT_TRUE(second.send_all(Handshake::frame("0.0.0.2")));
  EXPECT_EQ(second.receive(21), Handshake::frame("0.0.0.1"));
  ASSERT_EQ(a.mesh().send("0.0.0.2", request("m10")), Delivery::queued);
  std::string expected;
  for (int i = 4; i <= 10; ++i)
    expected += frame_of(request("m" + std::to_string(i)));
  EXPECT_EQ(second.receive(expected.size()), expected);
  const IpcMesh::PeerStats s = *a.mesh().peer_stats("0.0.0.2");
  EXPECT_EQ(s.resent, 6u);
  EXPECT_EQ(s.sent, 11u);
  // A count beyond what was sent is a broken peer: the link is closed.
  ASSERT_TRUE(second.send_all(Handshake::frame("0.0.0.2", 12)));
  EXPECT_TRUE(second.receive_until_closed());
}

TEST(IpcMesh, APeerKilledMidStreamLosesNothingTheApiTookAfterItsRestart) {
  auto b = std::make_unique<Node>("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}}));
  const std::uint16_t port = b->address().port();
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", port}}));
  ASSERT_TRUE(eventually([&] { return a.up_with(1); }));

  constexpr int kTotal = 3000;
  int taken = 0;
  std::shared_ptr<const Record> first = b->keep_record();  // what the first b read
  for (; taken < kTotal; ++taken) {
    ASSERT_EQ(a.mesh().send("0.0.0.2", request("n" + std::to_string(taken))), Delivery::queued);
    // b goes away in the middle: some packages read, some in flight, the rest still queued.
    if (taken == kTotal / 2) b.reset();
  }
  b = std::make_unique<Node>("0.0.0.2", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", 0}}), port);
  ASSERT_TRUE(eventually([&] { return a.mesh().peer_stats("0.0.0.2")->acknowledged >= 1; }));
  ASSERT_TRUE(eventually([&] {
    const auto s = a.mesh().peer_stats("0.0.0.2");
    return s->queued == 0 && s->unacked == 0;
  })) << "still queued "
      << a.mesh().peer_stats("0.0.0.2")->queued;

  // Every package reached one b or the other (at least once); the second b got its share in
  // the order sent, starting where the first one's confirmations stopped.
  std::vector<bool> seen(kTotal, false);
  int last = -1;
  bool ordered = true;
  const auto mark = [&](const std::vector<std::string>& lines, bool check_order) {
    for (const auto& line : lines) {
      const std::string prefix = "req 0.0.0.1 n";
      if (line.rfind(prefix, 0) != 0) continue;
      const int n = std::stoi(line.substr(prefix.size()));
      seen[static_cast<std::size_t>(n)] = true;
      if (check_order) {
        ordered = ordered && n > last;
        last = n;
      }
    }
  };
  mark(first->lines(), false);
  mark(b->record().lines(), true);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), false), 0);
  const auto s = *a.mesh().peer_stats("0.0.0.2");
  EXPECT_EQ(s.rejected + s.dropped, 0u);
  EXPECT_EQ(s.acknowledged, s.sent)
      << "resent " << s.resent << ", links " << s.links << ", first b read " << first->count("req ")
      << ", second " << b->record().count("req ");
}

}  // namespace
}  // namespace avant::ipc

namespace avant::ipc {
namespace {

// Mutual TLS between peers: each side's certificate checked against the mesh's CA (the test PKI
// of chapter 04: its server certificate names 127.0.0.1, its client certificate is the dialer's).
struct MeshPki {
  tls::testing::TempDir dir;
  tls::testing::TestPki files = tls::testing::make_test_pki(dir.path());

  // The listener asks for a certificate from the CA and refuses a dialer without one.
  [[nodiscard]] tcp::FilterFactory listener() const {
    tls::TlsServerOptions o;
    o.certificate_chain_file = files.server_chain;
    o.private_key_file = files.server_key;
    o.alpn = {};
    o.client_ca_file = files.ca;
    o.require_client_certificate = true;
    return tls::server_filter(std::make_shared<const tls::TlsContext>(tls::TlsContext::server(o)));
  }
  // The dialer checks the peer's certificate for the address it dials; `with_certificate`:
  // whether it shows its own.
  [[nodiscard]] std::function<tcp::FilterFactory(const MeshEntry&)> dialer(
      bool with_certificate) const {
    tls::TlsClientOptions o;
    o.ca_file = files.ca;
    if (with_certificate) {
      o.certificate_chain_file = files.client_cert;
      o.private_key_file = files.client_key;
    }
    auto context = std::make_shared<const tls::TlsContext>(tls::TlsContext::client(o));
    return
        [context](const MeshEntry& peer) { return tls::client_filter(context, peer.address.ip()); };
  }
};

TEST(IpcMesh, MutualTlsLinksPeersWhoseCertificatesTheCaSigned) {
  const MeshPki pki;
  const auto secure = [&](bool with_certificate) {
    return [&pki, with_certificate](MeshOptions& o) {
      o.server_filter = pki.listener();
      o.client_filter = pki.dialer(with_certificate);
    };
  };
  Node b("0.0.0.2", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}, {"0.0.0.2", 0}}), 0, secure(true));
  const std::uint16_t port = b.address().port();
  Node a("0.0.0.1", mesh_of({{"0.0.0.1", 0}, {"0.0.0.2", port}}), 0, secure(true));
  ASSERT_TRUE(eventually([&] { return a.up_with(1) && b.up_with(1); }));
  EXPECT_EQ(a.mesh().send("0.0.0.2", request("over tls")), Delivery::queued);
  ASSERT_TRUE(eventually([&] { return a.record().count("res 0.0.0.2 over tls") == 1; }));

  // A dialer without a certificate never gets as far as the handshake: b refuses it in TLS.
  Node c("0.0.0.0", mesh_of({{"0.0.0.0", 0}, {"0.0.0.2", port}}), 0, secure(false));
  ASSERT_TRUE(eventually([&] { return c.mesh().peer_stats("0.0.0.2")->attempts >= 2; }));
  EXPECT_TRUE(c.up_with(0));
  EXPECT_EQ(b.mesh().peer_stats("0.0.0.0")->links, 0u);
  EXPECT_EQ(b.mesh().peer_stats("0.0.0.1")->links, 1u);

  // A plain TCP peer is no peer of a TLS mesh either: its bytes are not a TLS record.
  Raw plain = Raw(b.address());
  ASSERT_TRUE(plain.send_all(Handshake::frame("0.0.0.0")));
  EXPECT_TRUE(plain.receive_until_closed());
  EXPECT_EQ(b.mesh().stats().links_up, 1u);
}

}  // namespace
}  // namespace avant::ipc

namespace avant::ipc {
namespace {

TEST(IpcMesh, AZeroLengthFrameIsAnEmptyPackageAndAHugeLengthClosesTheLink) {
  Node n("0.0.0.1", mesh_of({{"0.0.0.0", 0}, {"0.0.0.1", 0}}));
  Raw peer = Raw(n.address());
  EXPECT_EQ(peer.receive(21), Handshake::frame("0.0.0.1"));
  // N = 0: an empty ProtoPackage, command 0 with no testContext, answered (the original stalled).
  ASSERT_TRUE(peer.send_all(Handshake::frame("0.0.0.0") + std::string(8, '\0') +
                            frame_of(request("after the empty one"))));
  const std::string empty_answer = frame_of([] {
    ProtoPackage p;
    p.set_cmd(PROTO_CMD_CS_RES_EXAMPLE);
    p.set_protocol(ProtoCSResExample().SerializeAsString());
    return p;
  }());
  ProtoCSResExample after;
  after.set_testcontext("after the empty one");
  ProtoPackage second;
  second.set_cmd(PROTO_CMD_CS_RES_EXAMPLE);
  second.set_protocol(after.SerializeAsString());
  const std::string expected = empty_answer + frame_of(second);
  EXPECT_EQ(peer.receive(expected.size()), expected);
  // A length of 2^63: refused on its 8 bytes, the link closed, counted.
  ASSERT_TRUE(peer.send_all(std::string("\x80\0\0\0\0\0\0\0", 8)));
  EXPECT_TRUE(peer.receive_until_closed());
  EXPECT_EQ(n.mesh().stats().bad_frames, 1u);
  ASSERT_TRUE(eventually([&] { return n.record().count("down 0.0.0.0") == 1; }));
}

}  // namespace
}  // namespace avant::ipc
