// Lab 09 — the IPC handshake as a state machine (handshake.hpp): who speaks first, what each side
// checks of the app_id it is told, what happens to packages before the handshake. Contract:
// src/ipc/include/avant/ipc/handshake.hpp. Given, in src/ipc/handshake_frame.cpp:
// Handshake::frame(app_id) (the original's 21 bytes for "0.0.0.1") and Handshake::read_app_id.
// Given in mesh_config.hpp: MeshConfig::find. Tests: ctest -L ch09 (09.Handshake.* first).
#include <stdexcept>
#include <string>
#include <utility>

#include <avant/ipc/handshake.hpp>
#include <avant/proto/avant.pb.h>

namespace avant::ipc {

namespace {
[[noreturn]] void todo(const char* what) {
  throw std::logic_error(std::string("TODO(09): ") + what);
}
}  // namespace

Handshake::Handshake(Role role, std::string own_id, const MeshConfig& mesh, std::string dialed)
    : role_(role), own_id_(std::move(own_id)), mesh_(mesh), dialed_(std::move(dialed)) {}

std::string Handshake::start() {
  todo(
      "Handshake::start: the accepting side speaks first: return frame(own_id_); the connecting "
      "side returns nothing and waits to be told");
}

Handshake::Step Handshake::refuse(std::string reason) {
  static_cast<void>(reason);
  todo("Handshake::refuse: state_ = refused; return a `refused` step carrying the reason");
}

Handshake::Step Handshake::on_package(const proto::PackageView& package) {
  static_cast<void>(package);
  todo(
      "Handshake::on_package: a command other than 9 (PROTO_CMD_IPC_STREAM_AUTH_HANDSHAKE) is "
      "dropped and counted (dropped_); inner bytes that read_app_id cannot read -> refused; "
      "connecting side: an id other than dialed_ -> refused, else done with reply = "
      "frame(own_id_); accepting side: our own id or an id ipc.json (mesh_.find) does not list "
      "-> refused, else done with no reply; on done, peer_id_ is the id (reasons: see "
      "handshake.hpp and the tests' exact strings)");
}

}  // namespace avant::ipc
