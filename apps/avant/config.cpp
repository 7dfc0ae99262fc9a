#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>

namespace avant::app {

namespace {

namespace fs = std::filesystem;

struct Located {
  std::string file;
  std::size_t line;
};

[[noreturn]] void bad(const Located& at, const std::string& key, const std::string& message) {
  throw ConfigError(at.file, at.line, key + ": " + message);
}

std::uint64_t number(const Located& at, const std::string& key, const std::string& value,
                     std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc::result_out_of_range) {
    bad(at, key,
        value + " is out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
    bad(at, key, "'" + value + "' is not a whole number");
  }
  if (n < min || n > max) {
    bad(at, key,
        std::to_string(n) + " is out of range (" + std::to_string(min) + ".." +
            std::to_string(max) + ")");
  }
  return n;
}

bool flag(const Located& at, const std::string& key, const std::string& value) {
  if (value == "0" || value == "false" || value == "off" || value == "no") return false;
  if (value == "1" || value == "true" || value == "on" || value == "yes") return true;
  bad(at, key, "'" + value + "' is not 0 or 1 (nor true/false, on/off, yes/no)");
}

std::string ipv4(const Located& at, const std::string& key, const std::string& value) {
  // Four decimal octets: what the original accepted (IPv6 listeners: a later chapter).
  std::istringstream in(value);
  int parts = 0;
  std::string octet;
  while (std::getline(in, octet, '.')) {
    // No leading zeros: inet_pton refuses them (some tools read them as octal).
    if (octet.empty() || octet.size() > 3 || (octet.size() > 1 && octet[0] == '0') ||
        octet.find_first_not_of("0123456789") != std::string::npos || std::stoi(octet) > 255) {
      parts = -1;
      break;
    }
    ++parts;
  }
  if (parts != 4 || value.back() == '.') bad(at, key, "'" + value + "' is not an IPv4 address");
  return value;
}

fs::path path_under(const fs::path& base, const Located& at, const std::string& key,
                    const std::string& value) {
  if (value.empty()) bad(at, key, "a path can not be empty");
  const fs::path p(value);
  return (p.is_absolute() ? p : base / p).lexically_normal();
}

TaskType task_type(const Located& at, const std::string& key, const std::string& v) {
  if (v == "HTTP_TASK") return TaskType::http;
  if (v == "STREAM_TASK") return TaskType::stream;
  if (v == "WEBSOCKET_TASK") return TaskType::websocket;
  bad(at, key, "'" + v + "' is not HTTP_TASK, STREAM_TASK or WEBSOCKET_TASK");
}

// --- The keys: one table drives parsing, `--check`'s output and the documentation test. ---

using Context = KeyContext;
using Set = std::function<void(Config&, const std::string& value, const Context&)>;

Located where(const Context& ctx) {
  return Located{ctx.file, ctx.line};
}
using Get = std::function<std::string(const Config&)>;

ConfigKey key(std::string name, Set set, Get get) {
  return ConfigKey{std::move(name), std::move(set), std::move(get)};
}

template <class T>
ConfigKey number_key(const std::string& name, T Config::*field, std::uint64_t min,
                     std::uint64_t max) {
  return key(
      name,
      [name, field, min, max](Config& c, const std::string& v, const Context& ctx) {
        c.*field = static_cast<T>(number(where(ctx), name, v, min, max));
      },
      [field](const Config& c) { return std::to_string(c.*field); });
}

ConfigKey ms_key(const std::string& name, std::chrono::milliseconds Config::*field,
                 std::uint64_t min, std::uint64_t max) {
  return key(
      name,
      [name, field, min, max](Config& c, const std::string& v, const Context& ctx) {
        c.*field = std::chrono::milliseconds(number(where(ctx), name, v, min, max));
      },
      [field](const Config& c) { return std::to_string((c.*field).count()); });
}

ConfigKey flag_key(const std::string& name, bool Config::*field) {
  return key(
      name,
      [name, field](Config& c, const std::string& v, const Context& ctx) {
        c.*field = flag(where(ctx), name, v);
      },
      [field](const Config& c) { return std::string(c.*field ? "1" : "0"); });
}

ConfigKey path_key(const std::string& name, fs::path Config::*field) {
  return key(
      name,
      [name, field](Config& c, const std::string& v, const Context& ctx) {
        c.*field = path_under(ctx.base, where(ctx), name, v);
      },
      [field](const Config& c) { return (c.*field).string(); });
}

ConfigKey ipv4_key(const std::string& name, std::string Config::*field) {
  return key(
      name,
      [name, field](Config& c, const std::string& v, const Context& ctx) {
        c.*field = ipv4(where(ctx), name, v);
      },
      [field](const Config& c) { return c.*field; });
}

std::vector<ConfigKey> make_keys() {
  constexpr std::uint64_t kDay = 86400000;
  std::vector<ConfigKey> k;
  k.push_back(key(
      "server.app_id",
      [](Config& c, const std::string& v, const Context& ctx) {
        // region.server.service.instance: four dot-separated numbers, as ipc.json names them.
        std::istringstream in(v);
        std::string part;
        int parts = 0;
        bool ok = !v.empty() && v.back() != '.';
        while (ok && std::getline(in, part, '.')) {
          ok = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
          ++parts;
        }
        if (!ok || parts != 4) bad(where(ctx), "server.app_id", "'" + v + "' is not like 0.0.0.1");
        c.app_id = v;
      },
      [](const Config& c) { return c.app_id; }));
  k.push_back(ipv4_key("server.ip", &Config::ip));
  k.push_back(number_key("server.port", &Config::port, 0, 65535));
  k.push_back(number_key("server.worker_cnt", &Config::worker_cnt, 0, 511));
  k.push_back(number_key("server.max_client_cnt", &Config::max_client_cnt, 1, 8388607));
  k.push_back(ms_key("server.epoll_wait_time", &Config::epoll_wait_time, 1, 60000));
  k.push_back(number_key("server.accept_per_tick", &Config::accept_per_tick, 1, 100000));
  k.push_back(key(
      "server.task_type",
      [](Config& c, const std::string& v, const Context& ctx) {
        c.task_type = task_type(where(ctx), "server.task_type", v);
        c.task_type_line = ctx.line;
      },
      [](const Config& c) { return std::string(to_string(c.task_type)); }));
  k.push_back(path_key("server.http_static_dir", &Config::http_static_dir));
  k.push_back(path_key("server.lua_dir", &Config::lua_dir));
  k.push_back(path_key("server.crt.pem", &Config::crt_pem));
  k.push_back(path_key("server.key.pem", &Config::key_pem));
  k.push_back(flag_key("server.use_ssl", &Config::use_ssl));
  k.push_back(number_key("server.https_port", &Config::https_port, 0, 65535));
  k.push_back(flag_key("server.daemon", &Config::daemon));
  k.push_back(number_key("server.log_level", &Config::log_level, 0, 4));
  k.push_back(ipv4_key("server.other_udp_svr_ip", &Config::other_udp_svr_ip));
  k.push_back(number_key("server.other_udp_svr_port", &Config::other_udp_svr_port, 0, 65535));
  k.push_back(
      number_key("server.other_udp_svr_max_loop", &Config::other_udp_svr_max_loop, 1, 1000000));
  k.push_back(number_key("ipc.max_ipc_conn_num", &Config::max_ipc_conn_num, 1, 100000));
  k.push_back(key(
      "ipc.ipc_json_path",
      [](Config& c, const std::string& v, const Context& ctx) {
        c.ipc_json_path = path_under(ctx.base, where(ctx), "ipc.ipc_json_path", v);
        c.ipc_json_path_set = true;
      },
      [](const Config& c) { return c.ipc_json_path.string(); }));
  k.push_back(key(
      "ipc.listen_port",
      [](Config& c, const std::string& v, const Context& ctx) {
        c.ipc_listen_port =
            v == "entry" ? -1
                         : static_cast<int>(number(where(ctx), "ipc.listen_port", v, 0, 65535));
      },
      [](const Config& c) {
        return c.ipc_listen_port < 0 ? std::string("entry") : std::to_string(c.ipc_listen_port);
      }));
  k.push_back(ms_key("ipc.handshake_timeout_ms", &Config::ipc_handshake_timeout, 1, kDay));
  k.push_back(ms_key("ipc.heartbeat_ms", &Config::ipc_heartbeat, 0, kDay));
  k.push_back(ms_key("ipc.peer_timeout_ms", &Config::ipc_peer_timeout, 0, kDay));
  k.push_back(number_key("ipc.max_queued", &Config::ipc_max_queued, 0, 100000000));
  k.push_back(key(
      "ipc.when_full",
      [](Config& c, const std::string& v, const Context& ctx) {
        if (v != "reject" && v != "drop_oldest") {
          bad(where(ctx), "ipc.when_full", "'" + v + "' is not reject or drop_oldest");
        }
        c.ipc_drop_oldest = v == "drop_oldest";
      },
      [](const Config& c) { return std::string(c.ipc_drop_oldest ? "drop_oldest" : "reject"); }));
  k.push_back(number_key("ipc.max_frame_bytes", &Config::ipc_max_frame_bytes, 1, 1u << 30));
  k.push_back(flag_key("ipc.use_ssl", &Config::ipc_use_ssl));
  k.push_back(path_key("ipc.crt.pem", &Config::ipc_crt_pem));
  k.push_back(path_key("ipc.key.pem", &Config::ipc_key_pem));
  k.push_back(path_key("ipc.ca.pem", &Config::ipc_ca_pem));
  k.push_back(ms_key("http.header_timeout_ms", &Config::header_timeout, 1, kDay));
  k.push_back(ms_key("http.body_timeout_ms", &Config::body_timeout, 1, kDay));
  k.push_back(ms_key("http.keep_alive_timeout_ms", &Config::keep_alive_timeout, 1, kDay));
  k.push_back(ms_key("http.send_timeout_ms", &Config::send_timeout, 1, kDay));
  k.push_back(ms_key("http.rest_after_ms", &Config::rest_after, 0, kDay));
  k.push_back(ms_key("http.drain_timeout_ms", &Config::drain_timeout, 0, kDay));
  k.push_back(number_key("http.max_requests_per_connection", &Config::max_requests_per_connection,
                         1, 100000000));
  k.push_back(number_key("http.max_pipeline", &Config::max_pipeline, 1, 1024));
  k.push_back(
      number_key("http.max_body_bytes", &Config::max_body_bytes, 0, std::uint64_t{1} << 40));
  k.push_back(number_key("http.max_header_bytes", &Config::max_header_bytes, 256, 1U << 24));
  k.push_back(number_key("http.max_headers", &Config::max_headers, 1, 10000));
  k.push_back(number_key("http.max_target_bytes", &Config::max_target_bytes, 16, 1U << 20));
  k.push_back(key(
      "http.index",
      [](Config& c, const std::string& v, const Context& ctx) {
        if (v.empty() || v.find('/') != std::string::npos || v == "." || v == "..")
          bad(where(ctx), "http.index", "'" + v + "' is not a file name");
        c.index = v;
      },
      [](const Config& c) { return c.index; }));
  k.push_back(flag_key("http.directory_listing", &Config::directory_listing));
  k.push_back(
      number_key("http.open_file_cache_entries", &Config::open_file_cache_entries, 0, 1000000));
  k.push_back(ms_key("http.open_file_cache_valid_ms", &Config::open_file_cache_valid, 0, kDay));
  k.push_back(
      ms_key("http.open_file_cache_inactive_ms", &Config::open_file_cache_inactive, 1, kDay));
  k.push_back(number_key("http.open_file_cache_file_bytes", &Config::open_file_cache_file_bytes, 0,
                         std::uint64_t{1} << 30));
  k.push_back(number_key("http.open_file_cache_memory_bytes", &Config::open_file_cache_memory_bytes,
                         0, std::uint64_t{1} << 36));
  k.push_back(key(
      "websocket.path",
      [](Config& c, const std::string& v, const Context& ctx) {
        if (v.empty() || v[0] != '/' || v.find_first_of("?# \t") != std::string::npos)
          bad(where(ctx), "websocket.path", "'" + v + "' is not a path like /ws");
        c.ws_path = v;
      },
      [](const Config& c) { return c.ws_path; }));
  k.push_back(number_key("websocket.max_message_bytes", &Config::ws_max_message_bytes, 1,
                         std::uint64_t{1} << 30));
  k.push_back(flag_key("websocket.compression", &Config::ws_compression));
  k.push_back(ms_key("websocket.ping_interval_ms", &Config::ws_ping_interval, 0, kDay));
  k.push_back(ms_key("websocket.close_timeout_ms", &Config::ws_close_timeout, 1, kDay));
  k.push_back(number_key("websocket.max_buffered_bytes", &Config::ws_max_buffered_bytes, 1024,
                         std::uint64_t{1} << 36));
  k.push_back(key(
      "websocket.slow_consumer",
      [](Config& c, const std::string& v, const Context& ctx) {
        if (v == "drop") {
          c.ws_drop_when_slow = true;
        } else if (v == "close") {
          c.ws_drop_when_slow = false;
        } else {
          bad(where(ctx), "websocket.slow_consumer", "'" + v + "' is not drop or close");
        }
      },
      [](const Config& c) { return std::string(c.ws_drop_when_slow ? "drop" : "close"); }));
  k.push_back(key(
      "websocket.origins",
      [](Config& c, const std::string& v, const Context& ctx) {
        // Comma-separated, as browsers send them: scheme://host[:port].
        c.ws_origins.clear();
        std::istringstream in(v);
        std::string origin;
        while (std::getline(in, origin, ',')) {
          const auto first = origin.find_first_not_of(" \t");
          const auto last = origin.find_last_not_of(" \t");
          if (first == std::string::npos) continue;
          origin = origin.substr(first, last - first + 1);
          if (origin.find("://") == std::string::npos || origin.back() == '/')
            bad(where(ctx), "websocket.origins",
                "'" + origin + "' is not an origin like https://example.org");
          c.ws_origins.push_back(origin);
        }
      },
      [](const Config& c) {
        std::string out;
        for (const std::string& o : c.ws_origins)
          out += (out.empty() ? "" : ", ") + o;
        return out;
      }));
  k.push_back(number_key("proto.max_frame_bytes", &Config::proto_max_frame_bytes, 1,
                         std::uint64_t{1} << 30));
  k.push_back(key(
      "proto.unknown_commands",
      [](Config& c, const std::string& v, const Context& ctx) {
        if (v == "ignore") {
          c.proto_close_unknown = false;
        } else if (v == "close") {
          c.proto_close_unknown = true;
        } else {
          bad(where(ctx), "proto.unknown_commands", "'" + v + "' is not ignore or close");
        }
      },
      [](const Config& c) { return std::string(c.proto_close_unknown ? "close" : "ignore"); }));
  return k;
}

constexpr std::string_view kListener = "listener.";

// A [listener.NAME] section's line or key. Names are letters, digits, '_' and '-'.
void apply_listener(Config& config, const IniEntry& e, const std::string& file,
                    const std::string& value_file) {
  const std::string name = e.section.substr(kListener.size());
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_-") != std::string::npos) {
    throw ConfigError(file, e.line,
                      "[" + e.section + "]: a listener's name is letters, digits, _ and -");
  }
  auto it = std::find_if(config.listeners.begin(), config.listeners.end(),
                         [&](const Listener& l) { return l.name == name; });
  if (it == config.listeners.end()) {
    config.listeners.push_back(Listener{.name = name,
                                        .line = e.line,
                                        .task_type = TaskType::stream,
                                        .task_type_set = false,
                                        .ip = {},
                                        .port = 0,
                                        .port_set = false,
                                        .use_ssl = false});
    it = std::prev(config.listeners.end());
  }
  if (e.key.empty()) return;
  Listener& l = *it;
  const std::string key = e.section + "." + e.key;
  const Located at{value_file, e.line};
  if (e.key == "task_type") {
    l.task_type = task_type(at, key, e.value);
    if (l.task_type == TaskType::http) {
      bad(at, key, "a listener serves STREAM_TASK or WEBSOCKET_TASK (the site is [server]'s)");
    }
    l.task_type_set = true;
  } else if (e.key == "ip") {
    l.ip = ipv4(at, key, e.value);
  } else if (e.key == "port") {
    l.port = static_cast<std::uint16_t>(number(at, key, e.value, 0, 65535));
    l.port_set = true;
  } else if (e.key == "use_ssl") {
    l.use_ssl = flag(at, key, e.value);
  } else {
    throw ConfigError(
        file, e.line,
        "unknown key '" + e.key + "' in [" + e.section + "] (known: task_type, ip, port, use_ssl)");
  }
}

// `file` names where the entry is for section and key errors; `value_file` for value errors
// (the --set text for the first, plain "--set" for the second).
void apply(Config& config, const fs::path& base, const IniEntry& e, const std::string& file,
           std::map<std::string, std::size_t>& seen, const std::string& value_file) {
  const auto& keys = config_keys();
  if (e.section.starts_with(kListener)) {
    if (!e.key.empty()) {
      const std::string name = e.section + "." + e.key;
      if (const auto first = seen.find(name); first != seen.end()) {
        throw ConfigError(
            file, e.line,
            name + " is set twice (first on line " + std::to_string(first->second) + ")");
      }
      seen.emplace(name, e.line);
    }
    return apply_listener(config, e, file, value_file);
  }
  const bool section_known = std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) {
    return k.name.rfind(e.section + ".", 0) == 0;
  });
  if (!section_known) {
    throw ConfigError(file, e.line,
                      "unknown section [" + e.section +
                          "] (known: server, ipc, http, websocket, proto, listener.NAME)");
  }
  if (e.key.empty()) return;  // the section's own line
  const std::string name = e.section + "." + e.key;
  const auto it =
      std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.name == name; });
  if (it == keys.end()) {
    throw ConfigError(file, e.line, "unknown key '" + e.key + "' in [" + e.section + "]");
  }
  if (const auto first = seen.find(name); first != seen.end()) {
    throw ConfigError(file, e.line,
                      name + " is set twice (first on line " + std::to_string(first->second) + ")");
  }
  seen.emplace(name, e.line);
  it->set(config, e.value, Context{base, value_file, e.line});
}

}  // namespace

std::string_view to_string(TaskType t) noexcept {
  switch (t) {
    case TaskType::http:
      return "HTTP_TASK";
    case TaskType::stream:
      return "STREAM_TASK";
    case TaskType::websocket:
      return "WEBSOCKET_TASK";
  }
  return "?";
}

Config parse_config(std::string_view text, const fs::path& file,
                    const std::vector<std::string>& overrides) {
  Config config;
  config.file = file;
  const fs::path base = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  // The original's relative defaults are relative to the config's folder too.
  config.http_static_dir = (base / config.http_static_dir).lexically_normal();
  config.lua_dir = (base / config.lua_dir).lexically_normal();
  config.crt_pem = (base / config.crt_pem).lexically_normal();
  config.key_pem = (base / config.key_pem).lexically_normal();
  config.ipc_crt_pem = (base / config.ipc_crt_pem).lexically_normal();
  config.ipc_key_pem = (base / config.ipc_key_pem).lexically_normal();
  config.ipc_ca_pem = (base / config.ipc_ca_pem).lexically_normal();
  config.ipc_json_path = (base / config.ipc_json_path).lexically_normal();

  const std::string name = file.string();
  std::map<std::string, std::size_t> seen;
  for (const IniEntry& e : parse_ini(text, name))
    apply(config, base, e, name, seen, name);

  // --set section.key=value: after the file, and allowed to replace what it set.
  for (const std::string& o : overrides) {
    const std::size_t eq = o.find('=');
    // listener.NAME.key=value: the section is listener.NAME.
    const std::size_t dot = o.starts_with(kListener) ? o.find('.', kListener.size()) : o.find('.');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
      throw ConfigError("--set", 0, "'" + o + "' is not section.key=value");
    }
    IniEntry e{o.substr(0, dot), o.substr(dot + 1, eq - dot - 1), o.substr(eq + 1), 0};
    std::map<std::string, std::size_t> none;
    apply(config, base, e, "--set " + o, none, "--set");
  }
  return config;
}

Config load_config(const fs::path& file, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw ConfigError(file.string(), 0, ec ? ec.message() : "is not a file");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) throw ConfigError(file.string(), 0, "can not be read");
  return parse_config(text.str(), fs::absolute(file), overrides);
}

void check_servable(const Config& c) {
  if (c.https_port != 0 && c.https_port == c.port) {
    throw ConfigError(c.file.string(), 0,
                      "server.https_port and server.port are both " + std::to_string(c.port));
  }
  if (c.ipc_heartbeat.count() > 0 && c.ipc_peer_timeout.count() > 0 &&
      c.ipc_peer_timeout <= c.ipc_heartbeat) {
    throw ConfigError(c.file.string(), 0,
                      "ipc.peer_timeout_ms (" + std::to_string(c.ipc_peer_timeout.count()) +
                          ") must be longer than ipc.heartbeat_ms (" +
                          std::to_string(c.ipc_heartbeat.count()) + ")");
  }
  // Port 0 is any free port: never a clash.
  std::map<std::uint16_t, std::string> ports;
  if (c.port != 0) ports.emplace(c.port, "server.port");
  if (c.https_port != 0) ports.emplace(c.https_port, "server.https_port");
  for (const Listener& l : c.listeners) {
    const std::string section = "[listener." + l.name + "]";
    if (!l.task_type_set) throw ConfigError(c.file.string(), l.line, section + " needs task_type");
    if (!l.port_set) throw ConfigError(c.file.string(), l.line, section + " needs port");
    if (l.port == 0) continue;
    if (const auto [it, fresh] = ports.emplace(l.port, section + " port"); !fresh) {
      throw ConfigError(c.file.string(), l.line,
                        section + " port " + std::to_string(l.port) + " is " + it->second + "'s");
    }
  }
}

std::string to_ini(const Config& c) {
  std::ostringstream o;
  o << "; " << c.file.string() << ", as avant reads it (paths resolved)\n";
  std::string section;
  for (const ConfigKey& k : config_keys()) {
    const std::size_t dot = k.name.find('.');
    if (k.name.compare(0, dot, section) != 0 || section.size() != dot) {
      section = k.name.substr(0, dot);
      o << (section == "server" ? "" : "\n") << "[" << section << "]\n";
    }
    o << k.name.substr(dot + 1) << " = " << k.get(c) << "\n";
  }
  for (const Listener& l : c.listeners) {
    o << "\n[listener." << l.name << "]\n"
      << "task_type = " << to_string(l.task_type) << "\n"
      << "ip = " << (l.ip.empty() ? c.ip : l.ip) << "\n"
      << "port = " << l.port << "\n"
      << "use_ssl = " << (l.use_ssl ? 1 : 0) << "\n";
  }
  return o.str();
}

const std::vector<std::string>& listener_keys() {
  static const std::vector<std::string> keys = {"task_type", "ip", "port", "use_ssl"};
  return keys;
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = make_keys();
  return keys;
}

}  // namespace avant::app
