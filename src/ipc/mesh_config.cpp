// mesh_config.cpp — ipc.json, read with nlohmann/json (see mesh_config.hpp).
#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <avant/ipc/mesh_config.hpp>

namespace avant::ipc {
namespace {

using Json = nlohmann::json;

// The four numbers of an app id, or false.
bool split_app_id(std::string_view id, std::array<std::uint32_t, 4>& parts) noexcept {
  std::size_t part = 0;
  const char* at = id.data();
  const char* const end = id.data() + id.size();
  while (part < parts.size()) {
    const char* digits = at;
    while (at != end && *at >= '0' && *at <= '9')
      ++at;
    const auto count = static_cast<std::size_t>(at - digits);
    if (count == 0 || count > 9) return false;
    std::from_chars(digits, at, parts[part]);
    ++part;
    if (part == parts.size()) return at == end;
    if (at == end || *at != '.') return false;
    ++at;
  }
  return false;
}

// "file:line:column" of byte `offset` (0-based) of `text`.
std::string position(const std::string& origin, std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return origin + ":" + std::to_string(line) + ":" + std::to_string(column);
}

[[noreturn]] void entry_error(const std::string& origin, std::size_t index,
                              const std::string& what) {
  throw MeshConfigError(origin + ": entry " + std::to_string(index + 1) + ": " + what);
}

MeshEntry read_entry(const Json& value, std::size_t index, const std::string& origin) {
  if (!value.is_object()) entry_error(origin, index, "is not an object");
  for (const auto& [key, ignored] : value.items()) {
    if (key != "app_id" && key != "ip" && key != "port") {
      entry_error(origin, index, "unknown key \"" + key + "\" (known: app_id, ip, port)");
    }
  }
  for (const char* key : {"app_id", "ip", "port"}) {
    if (!value.contains(key)) entry_error(origin, index, std::string("no \"") + key + "\"");
  }
  const Json& id = value["app_id"];
  const Json& ip = value["ip"];
  const Json& port = value["port"];
  if (!id.is_string()) entry_error(origin, index, "app_id is not a string");
  if (!ip.is_string()) entry_error(origin, index, "ip is not a string");
  if (!port.is_number_integer()) entry_error(origin, index, "port is not an integer");

  MeshEntry entry;
  entry.app_id = id.get<std::string>();
  if (!valid_app_id(entry.app_id)) {
    entry_error(origin, index, "app_id \"" + entry.app_id + "\" is not like 0.0.0.1");
  }
  const auto number = port.get<std::int64_t>();
  if (number < 1 || number > 65535) {
    entry_error(origin, index, "port " + std::to_string(number) + " is not in 1..65535");
  }
  const auto text = ip.get<std::string>();
  auto parsed = net::SocketAddress::from_ip_port(text, static_cast<std::uint16_t>(number));
  if (!parsed.ok()) {
    entry_error(origin, index, "ip \"" + text + "\" is not a numeric IPv4 or IPv6 address");
  }
  entry.address = parsed.address;
  return entry;
}

}  // namespace

const MeshEntry* MeshConfig::find(std::string_view app_id) const noexcept {
  for (const auto& entry : entries) {
    if (entry.app_id == app_id) return &entry;
  }
  return nullptr;
}

bool valid_app_id(std::string_view app_id) noexcept {
  std::array<std::uint32_t, 4> parts{};
  return split_app_id(app_id, parts);
}

std::strong_ordering compare_app_ids(std::string_view a, std::string_view b) noexcept {
  std::array<std::uint32_t, 4> pa{};
  std::array<std::uint32_t, 4> pb{};
  split_app_id(a, pa);
  split_app_id(b, pb);
  if (auto order = pa <=> pb; std::is_neq(order)) return order;
  return a <=> b;
}

MeshConfig parse_mesh(std::string_view text, const std::string& origin) {
  Json document;
  try {
    document = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the byte the parser stopped at. Its message starts with its own
    // "[json.exception.parse_error.101] parse error at line 3, column 14: "; keep what follows.
    std::string message = e.what();
    if (auto colon = message.find(": "); colon != std::string::npos) {
      message = message.substr(colon + 2);
    }
    throw MeshConfigError(position(origin, text, e.byte == 0 ? 0 : e.byte - 1) + ": " + message);
  }
  if (!document.is_array()) {
    throw MeshConfigError(origin + R"(: not a JSON array of {"app_id", "ip", "port"} entries)");
  }
  MeshConfig mesh;
  for (std::size_t i = 0; i < document.size(); ++i) {
    MeshEntry entry = read_entry(document[i], i, origin);
    for (std::size_t j = 0; j < mesh.entries.size(); ++j) {
      if (mesh.entries[j].app_id == entry.app_id) {
        entry_error(origin, i,
                    "app_id \"" + entry.app_id + "\" is entry " + std::to_string(j + 1) + "'s too");
      }
    }
    mesh.entries.push_back(std::move(entry));
  }
  return mesh;
}

MeshConfig load_mesh(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MeshConfigError(path.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mesh(text.str(), path.string());
}

}  // namespace avant::ipc
