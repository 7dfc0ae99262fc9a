// handshake.cpp — the handshake's state machine (handshake.hpp). Lab 09: the learner's file.
#include <utility>

#include <avant/ipc/handshake.hpp>
#include <avant/proto/avant.pb.h>

namespace avant::ipc {
namespace {

// An id as received, quoted for a log line: bytes that are not printable ASCII as \xNN, at most
// 64 of them (the claim comes from whoever connected).
std::string printable_id(std::string_view id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < id.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += id.size() > 64 ? "\"..." : "\"";
  return out;
}

}  // namespace

Handshake::Handshake(Role role, std::string own_id, const MeshConfig& mesh, std::string dialed)
    : role_(role), own_id_(std::move(own_id)), mesh_(mesh), dialed_(std::move(dialed)) {}

std::string Handshake::start() {
  return role_ == Role::accepting ? frame(own_id_) : std::string();
}

Handshake::Step Handshake::refuse(std::string reason) {
  state_ = State::refused;
  return Step{Step::Kind::refused, {}, std::move(reason)};
}

Handshake::Step Handshake::on_package(const proto::PackageView& package) {
  if (package.cmd != PROTO_CMD_IPC_STREAM_AUTH_HANDSHAKE) {
    ++dropped_;
    return Step{Step::Kind::dropped, {}, {}};
  }
  std::string claimed;
  if (!read_app_id(package.protocol, claimed)) {
    return refuse("a handshake (command 9) whose message is not a ProtoIPCStreamAuthHandshake");
  }
  if (role_ == Role::connecting) {
    if (claimed != dialed_) {
      return refuse("dialed app_id \"" + dialed_ + "\", but the peer says it is " +
                    printable_id(claimed));
    }
    peer_id_ = std::move(claimed);
    state_ = State::done;
    return Step{Step::Kind::done, frame(own_id_), {}};
  }
  if (claimed == own_id_) return refuse("the peer claims our own app_id " + printable_id(claimed));
  if (mesh_.find(claimed) == nullptr) {
    return refuse("app_id " + printable_id(claimed) + " is not in ipc.json");
  }
  peer_id_ = std::move(claimed);
  state_ = State::done;
  return Step{Step::Kind::done, {}, {}};
}

}  // namespace avant::ipc
