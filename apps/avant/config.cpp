#include "config.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

namespace avant::app {

namespace {

namespace fs = std::filesystem;

// One key: what it accepts, and where the value goes.
using Setter = std::function<void(Config&, const std::string& value, std::size_t line)>;

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

std::map<std::string, Setter> setters(const fs::path& base, const std::string& file) {
  std::map<std::string, Setter> s;
  auto at = [file](std::size_t line) { return Located{file, line}; };
  auto num = [at](auto Config::*field, const char* key, std::uint64_t min, std::uint64_t max) {
    return [=](Config& c, const std::string& v, std::size_t line) {
      using T = std::remove_reference_t<decltype(c.*field)>;
      c.*field = static_cast<T>(number(at(line), key, v, min, max));
    };
  };
  auto ms = [at](std::chrono::milliseconds Config::*field, const char* key, std::uint64_t min,
                 std::uint64_t max) {
    return [=](Config& c, const std::string& v, std::size_t line) {
      c.*field = std::chrono::milliseconds(number(at(line), key, v, min, max));
    };
  };
  auto on_off = [at](bool Config::*field, const char* key) {
    return [=](Config& c, const std::string& v, std::size_t line) {
      c.*field = flag(at(line), key, v);
    };
  };
  auto path = [at, base](fs::path Config::*field, const char* key) {
    return [=](Config& c, const std::string& v, std::size_t line) {
      c.*field = path_under(base, at(line), key, v);
    };
  };
  constexpr std::uint64_t kDay = 86400000;

  s["server.app_id"] = [at](Config& c, const std::string& v, std::size_t line) {
    // region.server.service.instance: four dot-separated numbers, as ipc.json names processes.
    std::istringstream in(v);
    std::string part;
    int parts = 0;
    bool ok = !v.empty() && v.back() != '.';
    while (ok && std::getline(in, part, '.')) {
      ok = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
      ++parts;
    }
    if (!ok || parts != 4) bad(at(line), "server.app_id", "'" + v + "' is not like 0.0.0.1");
    c.app_id = v;
  };
  s["server.ip"] = [at](Config& c, const std::string& v, std::size_t line) {
    c.ip = ipv4(at(line), "server.ip", v);
  };
  s["server.port"] = num(&Config::port, "server.port", 0, 65535);
  s["server.worker_cnt"] = num(&Config::worker_cnt, "server.worker_cnt", 0, 511);
  s["server.max_client_cnt"] = num(&Config::max_client_cnt, "server.max_client_cnt", 1, 8388607);
  s["server.epoll_wait_time"] = ms(&Config::epoll_wait_time, "server.epoll_wait_time", 1, 60000);
  s["server.accept_per_tick"] = num(&Config::accept_per_tick, "server.accept_per_tick", 1, 100000);
  s["server.task_type"] = [at](Config& c, const std::string& v, std::size_t line) {
    if (v == "HTTP_TASK") {
      c.task_type = TaskType::http;
    } else if (v == "STREAM_TASK") {
      c.task_type = TaskType::stream;
    } else if (v == "WEBSOCKET_TASK") {
      c.task_type = TaskType::websocket;
    } else {
      bad(at(line), "server.task_type",
          "'" + v + "' is not HTTP_TASK, STREAM_TASK or WEBSOCKET_TASK");
    }
    c.task_type_line = line;
  };
  s["server.http_static_dir"] = path(&Config::http_static_dir, "server.http_static_dir");
  s["server.lua_dir"] = path(&Config::lua_dir, "server.lua_dir");
  s["server.crt.pem"] = path(&Config::crt_pem, "server.crt.pem");
  s["server.key.pem"] = path(&Config::key_pem, "server.key.pem");
  s["server.use_ssl"] = on_off(&Config::use_ssl, "server.use_ssl");
  s["server.daemon"] = on_off(&Config::daemon, "server.daemon");
  s["server.log_level"] = num(&Config::log_level, "server.log_level", 0, 4);
  s["server.other_udp_svr_ip"] = [at](Config& c, const std::string& v, std::size_t line) {
    c.other_udp_svr_ip = ipv4(at(line), "server.other_udp_svr_ip", v);
  };
  s["server.other_udp_svr_port"] =
      num(&Config::other_udp_svr_port, "server.other_udp_svr_port", 0, 65535);
  s["server.other_udp_svr_max_loop"] =
      num(&Config::other_udp_svr_max_loop, "server.other_udp_svr_max_loop", 1, 1000000);
  s["server.https_port"] = num(&Config::https_port, "server.https_port", 0, 65535);
  s["ipc.max_ipc_conn_num"] = num(&Config::max_ipc_conn_num, "ipc.max_ipc_conn_num", 1, 100000);
  s["ipc.ipc_json_path"] = path(&Config::ipc_json_path, "ipc.ipc_json_path");
  s["http.header_timeout_ms"] = ms(&Config::header_timeout, "http.header_timeout_ms", 1, kDay);
  s["http.body_timeout_ms"] = ms(&Config::body_timeout, "http.body_timeout_ms", 1, kDay);
  s["http.keep_alive_timeout_ms"] =
      ms(&Config::keep_alive_timeout, "http.keep_alive_timeout_ms", 1, kDay);
  s["http.send_timeout_ms"] = ms(&Config::send_timeout, "http.send_timeout_ms", 1, kDay);
  s["http.drain_timeout_ms"] = ms(&Config::drain_timeout, "http.drain_timeout_ms", 0, kDay);
  s["http.max_requests_per_connection"] =
      num(&Config::max_requests_per_connection, "http.max_requests_per_connection", 1, 100000000);
  s["http.max_pipeline"] = num(&Config::max_pipeline, "http.max_pipeline", 1, 1024);
  s["http.max_body_bytes"] =
      num(&Config::max_body_bytes, "http.max_body_bytes", 0, std::uint64_t{1} << 40);
  s["http.max_header_bytes"] =
      num(&Config::max_header_bytes, "http.max_header_bytes", 256, 1u << 24);
  s["http.max_headers"] = num(&Config::max_headers, "http.max_headers", 1, 10000);
  s["http.max_target_bytes"] =
      num(&Config::max_target_bytes, "http.max_target_bytes", 16, 1u << 20);
  s["http.index"] = [at](Config& c, const std::string& v, std::size_t line) {
    if (v.empty() || v.find('/') != std::string::npos || v == "." || v == "..")
      bad(at(line), "http.index", "'" + v + "' is not a file name");
    c.index = v;
  };
  s["http.directory_listing"] = on_off(&Config::directory_listing, "http.directory_listing");
  return s;
}

void apply(Config& config, const std::map<std::string, Setter>& table, const IniEntry& e,
           const std::string& file, std::map<std::string, std::size_t>& seen) {
  bool section_known = false;
  for (const auto& [k, setter] : table)
    section_known = section_known || k.rfind(e.section + ".", 0) == 0;
  if (!section_known) {
    throw ConfigError(file, e.line,
                      "unknown section [" + e.section + "] (known: server, ipc, http)");
  }
  if (e.key.empty()) return;  // the section's own line
  const std::string name = e.section + "." + e.key;
  const auto it = table.find(name);
  if (it == table.end()) {
    throw ConfigError(file, e.line, "unknown key '" + e.key + "' in [" + e.section + "]");
  }
  if (const auto first = seen.find(name); first != seen.end()) {
    throw ConfigError(file, e.line,
                      name + " is set twice (first on line " + std::to_string(first->second) + ")");
  }
  seen.emplace(name, e.line);
  it->second(config, e.value, e.line);
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
  config.ipc_json_path = (base / config.ipc_json_path).lexically_normal();

  const std::string name = file.string();
  const auto table = setters(base, name);
  std::map<std::string, std::size_t> seen;
  for (const IniEntry& e : parse_ini(text, name))
    apply(config, table, e, name, seen);

  // --set section.key=value: after the file, and allowed to replace what it set.
  const auto cli_table = setters(base, "--set");
  for (const std::string& o : overrides) {
    const std::size_t dot = o.find('.');
    const std::size_t eq = o.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
      throw ConfigError("--set", 0, "'" + o + "' is not section.key=value");
    }
    IniEntry e{o.substr(0, dot), o.substr(dot + 1, eq - dot - 1), o.substr(eq + 1), 0};
    std::map<std::string, std::size_t> none;
    apply(config, cli_table, e, "--set " + o, none);
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
  if (c.task_type != TaskType::http) {
    throw ConfigError(c.file.string(), c.task_type_line,
                      "server.task_type: " + std::string(to_string(c.task_type)) +
                          " is not served yet (WebSocket comes with chapter 06, the stream "
                          "protocol with chapter 07); use HTTP_TASK");
  }
  if (c.https_port != 0 && c.https_port == c.port) {
    throw ConfigError(c.file.string(), 0,
                      "server.https_port and server.port are both " + std::to_string(c.port));
  }
}

std::string to_ini(const Config& c) {
  std::ostringstream o;
  const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()); };
  o << "; " << c.file.string() << ", as avant reads it (paths resolved)\n"
    << "[server]\napp_id = " << c.app_id << "\nip = " << c.ip << "\nport = " << c.port
    << "\nworker_cnt = " << c.worker_cnt << "\nmax_client_cnt = " << c.max_client_cnt
    << "\nepoll_wait_time = " << ms(c.epoll_wait_time)
    << "\naccept_per_tick = " << c.accept_per_tick << "\ntask_type = " << to_string(c.task_type)
    << "\nhttp_static_dir = " << c.http_static_dir.string() << "\nlua_dir = " << c.lua_dir.string()
    << "\ncrt.pem = " << c.crt_pem.string() << "\nkey.pem = " << c.key_pem.string()
    << "\nuse_ssl = " << (c.use_ssl ? 1 : 0) << "\nhttps_port = " << c.https_port
    << "\ndaemon = " << (c.daemon ? 1 : 0) << "\nlog_level = " << c.log_level
    << "\nother_udp_svr_ip = " << c.other_udp_svr_ip
    << "\nother_udp_svr_port = " << c.other_udp_svr_port
    << "\nother_udp_svr_max_loop = " << c.other_udp_svr_max_loop
    << "\n\n[ipc]\nmax_ipc_conn_num = " << c.max_ipc_conn_num
    << "\nipc_json_path = " << c.ipc_json_path.string() << "\n\n[http]"
    << "\nheader_timeout_ms = " << ms(c.header_timeout)
    << "\nbody_timeout_ms = " << ms(c.body_timeout)
    << "\nkeep_alive_timeout_ms = " << ms(c.keep_alive_timeout)
    << "\nsend_timeout_ms = " << ms(c.send_timeout)
    << "\ndrain_timeout_ms = " << ms(c.drain_timeout)
    << "\nmax_requests_per_connection = " << c.max_requests_per_connection
    << "\nmax_pipeline = " << c.max_pipeline << "\nmax_body_bytes = " << c.max_body_bytes
    << "\nmax_header_bytes = " << c.max_header_bytes << "\nmax_headers = " << c.max_headers
    << "\nmax_target_bytes = " << c.max_target_bytes << "\nindex = " << c.index
    << "\ndirectory_listing = " << (c.directory_listing ? 1 : 0) << "\n";
  return o.str();
}

}  // namespace avant::app
