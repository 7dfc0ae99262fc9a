// commands.hpp — what a command carries, and packages to and from text: protobuf's JSON mapping
// (JsonStringToMessage / MessageToJsonString) for tools, its text format for people.
//
//   message_of(PROTO_CMD_CS_REQ_EXAMPLE)            -> avant.ProtoCSReqExample's descriptor
//   parse_cmd("CS_REQ_EXAMPLE"), parse_cmd("0")     -> 0
//   from_json(0, R"({"testContext":"aGk="})")       -> the package (bytes are base64 in JSON)
//   describe(package)   -> PROTO_CMD_CS_RES_EXAMPLE ProtoCSResExample { testContext: "hi" }
//   describe(package, Format::json)
//                       -> {"cmd":"PROTO_CMD_CS_RES_EXAMPLE","message":{"testContext":"aGk="}}
//
// A command's message is found by proto/avant.proto's naming rule: PROTO_CMD_<NAME> carries
// Proto<Name>, the same letters in CamelCase (PROTO_CMD_CS_REQ_EXAMPLE -> ProtoCSReqExample), so a
// command added to the schema with its message needs no code here. A command without one (or an
// unknown number) is shown with its raw bytes.
//
// Threads: plain functions, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>

#include <avant/proto/avant.pb.h>

namespace avant::client {

// The inner message of `cmd`, or null when it has none we know.
[[nodiscard]] const google::protobuf::Descriptor* message_of(int cmd);
// A command from a number or a name, with or without its PROTO_CMD_ prefix.
[[nodiscard]] std::optional<int> parse_cmd(std::string_view text);
// A package of `cmd` whose inner message is `json` (protobuf's JSON mapping for the command's
// message). Throws ClientError (client.hpp) naming what protobuf refused.
[[nodiscard]] ProtoPackage from_json(int cmd, const std::string& json);

enum class Format : std::uint8_t { text, json };
// One line: the command's name and the inner message, decoded when its type is known.
[[nodiscard]] std::string describe(const ProtoPackage& package, Format format = Format::text);

}  // namespace avant::client
