// wire.hpp — chapter 07's test bytes: the original's echo example as docs/original-avant.md gives
// it, as a stream frame and as the bare package a WebSocket message carries; and the echo
// example's packages for any text, made with protobuf.
#pragma once

#include <initializer_list>
#include <string>

#include <avant/proto/avant.pb.h>

namespace avant::proto::testing {

inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values)
    s += static_cast<char>(v);
  return s;
}

// ProtoPackage { protocol = ProtoCSReqExample { testContext = "aaaaaaaa" } } (command 0 is not
// written), and its answer, command 1 with the same testContext.
inline const std::string echo_request_package =
    bytes({0x12, 0x0a, 0x0a, 0x08}) + std::string(8, 'a');
inline const std::string echo_answer_package =
    bytes({0x08, 0x01, 0x12, 0x0a, 0x0a, 0x08}) + std::string(8, 'a');
// The same in stream frames: the 8-byte big-endian length first.
inline const std::string echo_request = bytes({0, 0, 0, 0, 0, 0, 0, 0x0c}) + echo_request_package;
inline const std::string echo_answer = bytes({0, 0, 0, 0, 0, 0, 0, 0x0e}) + echo_answer_package;

// A package of `cmd` whose ProtoCSReqExample / ProtoCSResExample (the same shape) carries `text`.
inline ProtoPackage example_package(ProtoCmd cmd, const std::string& text) {
  ProtoCSReqExample message;
  message.set_testcontext(text);
  ProtoPackage package;
  package.set_cmd(cmd);
  package.set_protocol(message.SerializeAsString());
  return package;
}
// The echo example's request for `text`, and its answer.
inline ProtoPackage request_package(const std::string& text) {
  return example_package(PROTO_CMD_CS_REQ_EXAMPLE, text);
}
inline ProtoPackage answer_package(const std::string& text) {
  return example_package(PROTO_CMD_CS_RES_EXAMPLE, text);
}

}  // namespace avant::proto::testing
