// config.hpp — the assembled server's configuration: main.ini with the original Avant's keys
// (docs/original-avant.md) plus our [http] and [websocket] sections. docs/configuration.md lists every key.
//
// Relative paths resolve against the folder of the config file, so `avant -c /etc/avant/main.ini`
// works from any working directory. An unknown section or key, a value out of range, or a key set
// twice stops start-up with file:line (ConfigError).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ini.hpp"

namespace avant::app {

enum class TaskType : std::uint8_t { http, stream, websocket };

// A [listener.NAME] section (ours): one more port on the same worker loops, serving ProtoPackages
// as a stream (STREAM_TASK) or as WebSocket binary messages (WEBSOCKET_TASK). The first step of
// the multi-listener configuration; docs/configuration.md.
struct Listener {
  std::string name;      // NAME in [listener.NAME]
  std::size_t line = 0;  // the section's line, for errors about the whole section
  TaskType task_type = TaskType::stream;
  bool task_type_set = false;  // required
  std::string ip;              // empty: server.ip
  std::uint16_t port = 0;      // 0: any free port
  bool port_set = false;       // required
  bool use_ssl = false;        // TLS with server.crt.pem and server.key.pem
};

struct Config {
  std::filesystem::path file;  // the config file itself

  // [server] — the original's keys and defaults.
  std::string app_id = "0.0.0.1";
  std::string ip = "0.0.0.0";
  std::uint16_t port = 20023;
  std::size_t worker_cnt = 4;  // worker loops; 0 = the main loop serves (ours)
  std::size_t max_client_cnt = 20000;
  std::chrono::milliseconds epoll_wait_time{100};  // the tick of the Lua hooks (chapter 10)
  std::size_t accept_per_tick = 100;
  TaskType task_type = TaskType::http;
  std::size_t task_type_line = 0;  // where task_type was set (0: the default)
  std::filesystem::path http_static_dir = "/avant_static";
  std::filesystem::path lua_dir = "./lua";
  std::filesystem::path crt_pem = "./config/certificate.crt";
  std::filesystem::path key_pem = "./config/private_key.pem";
  bool use_ssl = false;
  bool daemon = false;
  int log_level = 0;  // 0 DEBUG, 1 INFO, 2 WARN, 3 ERROR, 4 FATAL
  std::string other_udp_svr_ip = "127.0.0.1";
  std::uint16_t other_udp_svr_port = 20025;
  std::size_t other_udp_svr_max_loop = 1000;
  std::uint16_t https_port = 0;  // ours: the same site over TLS on a second port; 0 = off

  // [ipc] — the original's keys (chapter 09).
  std::size_t max_ipc_conn_num = 100;
  std::filesystem::path ipc_json_path = "./config/ipc.json";
  bool ipc_json_path_set = false;  // named in the file or by --set: then it must exist
  // [ipc] — ours (docs/ipc.md).
  int ipc_listen_port = -1;  // -1: the port of our ipc.json entry; 0: any free port
  std::chrono::milliseconds ipc_handshake_timeout{5000};
  std::chrono::milliseconds ipc_heartbeat{1000};  // 0: none (a mesh with the original)
  std::chrono::milliseconds ipc_peer_timeout{5000};
  std::size_t ipc_max_queued = 10000;
  bool ipc_drop_oldest = false;  // when_full = drop_oldest (else reject)
  std::size_t ipc_max_frame_bytes = 16u << 20;
  // Mutual TLS between peers: our certificate and key, and the CA that signs every peer's.
  bool ipc_use_ssl = false;
  std::filesystem::path ipc_crt_pem = "./config/certificate.crt";
  std::filesystem::path ipc_key_pem = "./config/private_key.pem";
  std::filesystem::path ipc_ca_pem = "./config/ca.pem";

  // [http] — ours: limits and timeouts the original did not have.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{75000};
  std::chrono::milliseconds send_timeout{60000};
  std::chrono::milliseconds rest_after{1000};
  std::chrono::milliseconds drain_timeout{5000};
  std::size_t max_requests_per_connection = 1000;
  std::size_t max_pipeline = 32;
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_headers = 100;
  std::size_t max_target_bytes = 8u << 10;
  std::string index = "index.html";
  bool directory_listing = false;
  std::size_t open_file_cache_entries = 1000;
  std::chrono::milliseconds open_file_cache_valid{1000};
  std::chrono::milliseconds open_file_cache_inactive{60000};
  std::size_t open_file_cache_file_bytes = 64u << 10;
  std::size_t open_file_cache_memory_bytes = 16u << 20;

  // [websocket] — ours: where and how WebSocket is served (chapter 06). With HTTP_TASK the site
  // offers it on `path`; with WEBSOCKET_TASK every path of `port` (and `https_port`) is WebSocket.
  std::string ws_path = "/ws";
  std::size_t ws_max_message_bytes = 1u << 20;
  bool ws_compression = false;
  std::chrono::milliseconds ws_ping_interval{30000};
  std::chrono::milliseconds ws_close_timeout{5000};
  std::size_t ws_max_buffered_bytes = 4u << 20;
  bool ws_drop_when_slow = false;  // slow_consumer = drop (true) or close (false)
  std::vector<std::string> ws_origins;

  // [proto] — ours: ProtoPackages (chapter 07), for STREAM_TASK, WEBSOCKET_TASK and listeners.
  std::uint64_t proto_max_frame_bytes = 10240;  // a stream frame's body; the original's limit
  bool proto_close_unknown = false;             // unknown_commands = close (true) or ignore (false)

  // [listener.NAME] sections, in the file's order.
  std::vector<Listener> listeners;
};

// Reads and checks a config file; `overrides` ("section.key=value", from --set) come after it.
// Throws ConfigError.
[[nodiscard]] Config load_config(const std::filesystem::path& file,
                                 const std::vector<std::string>& overrides = {});
// The same from text already read (for tests); `file` names it in errors and anchors paths.
[[nodiscard]] Config parse_config(std::string_view text, const std::filesystem::path& file,
                                  const std::vector<std::string>& overrides = {});

// What this version can serve: throws ConfigError for two listeners on one port (server.port,
// server.https_port and every [listener.NAME] port), or a listener without its required keys.
// (--check runs it too.)
void check_servable(const Config& config);
// The configuration as INI text with every key, as read (for --check).
[[nodiscard]] std::string to_ini(const Config& config);

// Where a value comes from: relative paths resolve against `base` (the config file's folder),
// mistakes are reported as `file:line`.
struct KeyContext {
  std::filesystem::path base;
  std::string file;
  std::size_t line = 0;
};
// One key of main.ini: its full name ("server.port"), how a value is read into a Config (throws
// ConfigError naming file:line), and how it is written back. The one table of keys: parsing,
// to_ini() (`avant --check`) and the test that docs/configuration.md documents every key read it.
struct ConfigKey {
  std::string name;
  std::function<void(Config&, const std::string& value, const KeyContext&)> set;
  std::function<std::string(const Config&)> get;
};
// In the order --check prints them, section by section.
[[nodiscard]] const std::vector<ConfigKey>& config_keys();

// The keys of a [listener.NAME] section, in the order --check prints them.
[[nodiscard]] const std::vector<std::string>& listener_keys();

[[nodiscard]] std::string_view to_string(TaskType t) noexcept;

}  // namespace avant::app
