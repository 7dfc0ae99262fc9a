// commands.cpp — commands, their messages, and packages as text (commands.hpp).
#include <cctype>
#include <charconv>
#include <memory>

#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <avant/client/client.hpp>
#include <avant/client/commands.hpp>

namespace avant::client {

namespace {

namespace pb = google::protobuf;

// Letters and digits only, lower case: "CS_REQ_EXAMPLE" and "CSReqExample" both become
// "csreqexample".
std::string folded(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0)
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// The naming rule of proto/avant.proto: the message of PROTO_CMD_<NAME> is Proto<Name>, the same
// letters in CamelCase (PROTO_CMD_CS_REQ_EXAMPLE -> ProtoCSReqExample, PROTO_CMD_UDP_SAFESTOP_REQ
// -> ProtoUDPSafeStopReq). A command added with its message is known here without a line of code.
const pb::Descriptor* descriptor_of(int cmd) {
  const pb::EnumValueDescriptor* value = ProtoCmd_descriptor()->FindValueByNumber(cmd);
  if (value == nullptr) return nullptr;
  constexpr std::string_view kCmdPrefix = "PROTO_CMD_";
  constexpr std::string_view kMessagePrefix = "Proto";
  std::string_view name = value->name();
  if (!name.starts_with(kCmdPrefix)) return nullptr;
  name.remove_prefix(kCmdPrefix.size());
  const std::string want = folded(name);
  const pb::FileDescriptor* file = ProtoPackage::descriptor()->file();
  for (int i = 0; i < file->message_type_count(); ++i) {
    const pb::Descriptor* message = file->message_type(i);
    const std::string_view message_name = message->name();
    if (message_name.starts_with(kMessagePrefix) &&
        folded(message_name.substr(kMessagePrefix.size())) == want) {
      return message;
    }
  }
  return nullptr;
}

std::unique_ptr<pb::Message> new_message(const pb::Descriptor* d) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

std::string cmd_name(int cmd) {
  const pb::EnumValueDescriptor* v = ProtoCmd_descriptor()->FindValueByNumber(cmd);
  return v != nullptr ? v->name() : "cmd " + std::to_string(cmd);
}

// Bytes as a C-style escaped string (text format's way), for a package we can not decode.
std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4U];
      out += kHex[u & 0xfU];
    }
  }
  return out;
}

}  // namespace

const pb::Descriptor* message_of(int cmd) {
  return descriptor_of(cmd);
}

std::optional<int> parse_cmd(std::string_view text) {
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) return n;
  std::string name(text);
  if (!name.starts_with("PROTO_CMD_")) name = "PROTO_CMD_" + name;
  const pb::EnumValueDescriptor* v = ProtoCmd_descriptor()->FindValueByName(name);
  if (v == nullptr) return std::nullopt;
  return v->number();
}

ProtoPackage from_json(int cmd, const std::string& json) {
  const pb::Descriptor* d = descriptor_of(cmd);
  if (d == nullptr) {
    throw ClientError("command " + std::to_string(cmd) + " has no message type to read JSON into");
  }
  const std::unique_ptr<pb::Message> message = new_message(d);
  const auto status = pb::util::JsonStringToMessage(json, message.get());
  if (!status.ok()) {
    throw ClientError("--json for " + d->name() + ": " + std::string(status.message()));
  }
  ProtoPackage package;
  package.set_cmd(static_cast<ProtoCmd>(cmd));
  message->SerializeToString(package.mutable_protocol());
  return package;
}

std::string describe(const ProtoPackage& package, Format format) {
  const int cmd = package.cmd();
  const pb::Descriptor* d = descriptor_of(cmd);
  std::unique_ptr<pb::Message> message;
  if (d != nullptr) {
    message = new_message(d);
    if (!message->ParseFromString(package.protocol())) message.reset();
  }
  if (format == Format::json) {
    std::string inner;
    if (message) {
      (void)pb::util::MessageToJsonString(*message, &inner);
    } else {
      ProtoPackage raw;  // the package as it came: its bytes in base64
      raw.set_protocol(package.protocol());
      (void)pb::util::MessageToJsonString(raw, &inner);
    }
    return R"({"cmd":")" + cmd_name(cmd) + R"(","message":)" + inner + "}";
  }
  if (!message) {
    return cmd_name(cmd) + " (" + std::to_string(package.protocol().size()) + " bytes) \"" +
           escaped(package.protocol()) + "\"";
  }
  std::string text;
  pb::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.SetUseUtf8StringEscaping(true);
  printer.PrintToString(*message, &text);
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return cmd_name(cmd) + " " + d->name() + " { " + text + (text.empty() ? "}" : " }");
}

}  // namespace avant::client
