// mesh_config.hpp — ipc.json: the processes of an IPC mesh (docs/original-avant.md, "main.ini and
// ipc.json").
//
//   [
//     { "app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 20024 },
//     { "app_id": "0.0.0.2", "ip": "127.0.0.1", "port": 20034 }
//   ]
//
// A process listens on the entry whose app_id is its own and reaches every other entry. The file
// is read with nlohmann/json (Debian's nlohmann-json3-dev), never by hand. What stops start-up,
// with the file and where in it (MeshConfigError's what()):
//   - text that is not JSON: "ipc.json:3:14: syntax error ..." (line and column of the byte
//     nlohmann's parser stopped at);
//   - JSON of the wrong shape: not an array, an entry that is not an object, a key missing, an
//     unknown key, a value of the wrong type or out of range: "ipc.json: entry 2: ..." (entries
//     count from 1);
//   - an app_id that is not four dot-separated decimal numbers, or one that an earlier entry
//     already has: "ipc.json: entry 3: app_id "0.0.0.2" is entry 2's too".
//
// App ids are compared as written (the handshake carries the text). The mesh orders them by their
// four numbers (then by text): the lower of a pair dials the higher (ipc_mesh.hpp).
//
// Threads: plain values and functions.
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <avant/net/socket_address.hpp>

namespace avant::ipc {

class MeshConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MeshEntry {
  std::string app_id;
  net::SocketAddress address;  // ip and port
};

struct MeshConfig {
  std::vector<MeshEntry> entries;

  // The entry of `app_id`, or null.
  [[nodiscard]] const MeshEntry* find(std::string_view app_id) const noexcept;
};

// region.server.service.instance: four dot-separated decimal numbers of 1 to 9 digits each.
[[nodiscard]] bool valid_app_id(std::string_view app_id) noexcept;
// The mesh's order of two valid app ids: by their four numbers, then by their text ("0.0.0.01"
// before "0.0.0.1": the same numbers, yet two different ids).
[[nodiscard]] std::strong_ordering compare_app_ids(std::string_view a, std::string_view b) noexcept;

// Parses the text of an ipc.json; `origin` names it in errors (the file's path). Throws
// MeshConfigError.
[[nodiscard]] MeshConfig parse_mesh(std::string_view text, const std::string& origin);
// Reads and parses `path`; a file that cannot be read throws MeshConfigError too.
[[nodiscard]] MeshConfig load_mesh(const std::filesystem::path& path);

}  // namespace avant::ipc
