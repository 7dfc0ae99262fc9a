// handshake_frame.cpp — the handshake's bytes (given code in lab 09: the learner writes the
// state machine in handshake.cpp, not the encoding).
#include <avant/ipc/handshake.hpp>
#include <avant/proto/avant.pb.h>

namespace avant::ipc {

std::string Handshake::frame(std::string_view app_id, std::uint64_t received) {
  ProtoIPCStreamAuthHandshake hello;
  hello.set_appid(std::string(app_id));
  hello.set_received(received);
  std::string out;
  proto::append_frame(out, PROTO_CMD_IPC_STREAM_AUTH_HANDSHAKE, hello);
  return out;
}

bool Handshake::read_app_id(std::string_view protocol, std::string& app_id,
                            std::uint64_t* received) {
  ProtoIPCStreamAuthHandshake hello;
  if (!hello.ParseFromArray(protocol.data(), static_cast<int>(protocol.size()))) return false;
  app_id = hello.appid();
  if (received != nullptr) *received = hello.received();
  return true;
}

}  // namespace avant::ipc
