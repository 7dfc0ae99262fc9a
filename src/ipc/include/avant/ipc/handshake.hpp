// handshake.hpp — who is on the other end of an IPC connection, sans-IO: packages in, a decision
// and the bytes to send out (docs/original-avant.md, "The IPC handshake").
//
//   accepting side                              connecting side
//   start(): its own frame  ── cmd 9 {appId} ──> on_package: the id it dialed?   no: refused
//                                                            yes: done, reply = its own frame
//   on_package: known, not our own?  <── cmd 9 {appId} ──
//        no: refused     yes: done
//
// For app_id "0.0.0.1" the frame is the original's 21 bytes:
//   00 00 00 00 00 00 00 0d 08 09 12 09 0a 07 30 2e 30 2e 30 2e 31
//
// Unlike the original, which took any id it was told, the claimed id is checked: the accepting
// side refuses an id that ipc.json does not list or that is its own; the connecting side refuses
// any id but the one of the entry it dialed. Until the handshake is done every other package is
// dropped and counted (the original dropped them too). Whoever runs the handshake also closes a
// connection whose handshake is not done within its timeout (ipc_mesh.hpp); this class keeps no
// clock.
//
// Threads: one handshake per connection, used on its loop's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <avant/ipc/mesh_config.hpp>
#include <avant/proto/frame_codec.hpp>

namespace avant::ipc {

enum class Role : std::uint8_t {
  accepting,  // our listener accepted the connection: we speak first
  connecting  // we dialed it: we answer
};

class Handshake {
 public:
  enum class State : std::uint8_t { waiting, done, refused };
  struct Step {
    enum class Kind : std::uint8_t {
      wait,     // nothing decided yet
      dropped,  // a package before the handshake: dropped (counted in dropped())
      done,     // the peer is peer_id(); send `reply` (empty on the accepting side)
      refused   // close the connection; `reason` says why, for the log
    };
    Kind kind = Kind::wait;
    std::string reply;
    std::string reason;
  };

  // `own_id`: this process's app_id. `mesh`: the known ids (it must outlive the handshake).
  // `dialed`: on the connecting side, the app_id of the entry that was dialed.
  Handshake(Role role, std::string own_id, const MeshConfig& mesh, std::string dialed = {});

  // The bytes to send as soon as the connection is up: the accepting side's own frame; nothing
  // on the connecting side, which waits to be told.
  [[nodiscard]] std::string start();
  // One package read from the connection while the handshake is not done. After `done` or
  // `refused` it is not to be called again.
  Step on_package(const proto::PackageView& package);

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] Role role() const noexcept { return role_; }
  // The peer's app_id, once done.
  [[nodiscard]] const std::string& peer_id() const noexcept { return peer_id_; }
  // Packages dropped because they came before the handshake.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

  // The handshake frame naming `app_id`: 8-byte length, ProtoPackage{cmd 9, protocol =
  // ProtoIPCStreamAuthHandshake{appId}}. With `received` (Avant's heartbeat, ipc_mesh.hpp) the
  // message also carries that count; 0 gives the handshake's own bytes. (Given code:
  // handshake_frame.cpp.)
  [[nodiscard]] static std::string frame(std::string_view app_id, std::uint64_t received = 0);
  // The appId (and `received`, 0 when absent) of a cmd-9 package's inner bytes, or false when
  // they are not a ProtoIPCStreamAuthHandshake. (Given code: handshake_frame.cpp.)
  [[nodiscard]] static bool read_app_id(std::string_view protocol, std::string& app_id,
                                        std::uint64_t* received = nullptr);

 private:
  Step refuse(std::string reason);

  const Role role_;
  const std::string own_id_;
  const MeshConfig& mesh_;
  const std::string dialed_;
  std::string peer_id_;
  std::uint64_t dropped_ = 0;
  State state_ = State::waiting;
};

}  // namespace avant::ipc
