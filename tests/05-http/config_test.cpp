// Chapter 05 — main.ini: the original's keys, ours, paths relative to the file, and a file:line
// for every mistake.
#include "config.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace avant::app {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    (void)parse_config(text, "/etc/avant/main.ini", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Config, TheExampleConfigurationReads) {
  const fs::path file = fs::path(AVANT_SOURCE_DIR) / "examples" / "main.ini";
  const Config c = load_config(file);
  EXPECT_EQ(c.app_id, "0.0.0.1");
  EXPECT_EQ(c.ip, "127.0.0.1");
  EXPECT_EQ(c.port, 20023);
  EXPECT_EQ(c.https_port, 20443);
  EXPECT_EQ(c.worker_cnt, 2u);
  EXPECT_EQ(c.task_type, TaskType::http);
  // The protobuf stream beside the site (chapter 07), plain and TLS, and packages over WebSocket.
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].port, 20024);
  EXPECT_EQ(c.listeners[0].task_type, TaskType::stream);
  EXPECT_EQ(c.proto_max_frame_bytes, 10240u);
  EXPECT_NO_THROW(check_servable(c));
  EXPECT_EQ(c.http_static_dir,
            (fs::path(AVANT_SOURCE_DIR) / "examples" / "www").lexically_normal());
  EXPECT_TRUE(fs::is_directory(c.http_static_dir));
}

TEST(Config, DefaultsAreTheOriginalsAndPathsAreRelativeToTheFile) {
  const Config c = parse_config("[server]\nhttp_static_dir = site\ncrt.pem = /abs/c.pem\n",
                                "/etc/avant/main.ini");
  EXPECT_EQ(c.ip, "0.0.0.0");
  EXPECT_EQ(c.port, 20023);
  EXPECT_EQ(c.worker_cnt, 4u);
  EXPECT_EQ(c.max_client_cnt, 20000u);
  EXPECT_EQ(c.accept_per_tick, 100u);
  EXPECT_EQ(c.epoll_wait_time, std::chrono::milliseconds(100));
  EXPECT_EQ(c.log_level, 0);
  EXPECT_EQ(c.http_static_dir, fs::path("/etc/avant/site"));
  EXPECT_EQ(c.crt_pem, fs::path("/abs/c.pem"));
  EXPECT_EQ(c.key_pem, fs::path("/etc/avant/config/private_key.pem")) << "the original's default";
  EXPECT_EQ(c.lua_dir, fs::path("/etc/avant/lua"));
  EXPECT_EQ(c.ipc_json_path, fs::path("/etc/avant/config/ipc.json"));
}

TEST(Config, CommentsSpacesAndOurSection) {
  const Config c = parse_config(
      "; comment\n# another\n\n  [server]  \n  port=8080  \r\nuse_ssl = 1\n[http]\n"
      "header_timeout_ms = 2500\nmax_body_bytes = 0\ndirectory_listing = on\n",
      "/x/main.ini");
  EXPECT_EQ(c.port, 8080);
  EXPECT_TRUE(c.use_ssl);
  EXPECT_EQ(c.header_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.max_body_bytes, 0u);
  EXPECT_TRUE(c.directory_listing);
}

TEST(Config, EveryMistakeNamesItsFileAndLine) {
  struct Case {
    std::string text;
    std::string expected;  // a part of the message
  };
  const std::vector<Case> cases = {
      {"[server]\nport = 70000\n", "/etc/avant/main.ini:2: server.port: 70000 is out of range"},
      {"[server]\n\nport = 80a\n", "main.ini:3: server.port: '80a' is not a whole number"},
      {"[server]\nport =\n", "main.ini:2: server.port: '' is not a whole number"},
      {"[server]\nworker_cnt = 512\n",
       "main.ini:2: server.worker_cnt: 512 is out of range (0..511)"},
      {"[server]\nmax_client_cnt = 0\n", "main.ini:2: server.max_client_cnt"},
      {"[server]\nlog_level = 5\n", "main.ini:2: server.log_level"},
      {"[server]\nuse_ssl = maybe\n", "main.ini:2: server.use_ssl: 'maybe' is not 0 or 1"},
      {"[server]\nip = 1.2.3\n", "main.ini:2: server.ip: '1.2.3' is not an IPv4 address"},
      {"[server]\nip = 256.0.0.1\n", "main.ini:2: server.ip"},
      {"[server]\napp_id = one\n", "main.ini:2: server.app_id"},
      {"[server]\ntask_type = FTP_TASK\n", "main.ini:2: server.task_type: 'FTP_TASK'"},
      {"[server]\nprot = 1\n", "main.ini:2: unknown key 'prot' in [server]"},
      {"[sever]\nport = 1\n", "main.ini:1: unknown section [sever]"},
      {"port = 1\n", "main.ini:1: 'port' is outside any [section]"},
      {"[server]\nport = 1\nport = 2\n", "main.ini:3: server.port is set twice (first on line 2)"},
      {"[server\n", "main.ini:1: a section needs a closing ']'"},
      {"[server]\njust words\n", "main.ini:2: expected 'key = value'"},
      {"[http]\nindex = ../x\n", "main.ini:2: http.index"},
      {"[http]\nmax_pipeline = 0\n", "main.ini:2: http.max_pipeline"},
      {"[server]\nhttp_static_dir =\n",
       "main.ini:2: server.http_static_dir: a path can not be empty"},
      {"[server]\nip = 010.0.0.1\n", "main.ini:2: server.ip"},
      {"[server]\nport = 99999999999999999999999\n",
       "main.ini:2: server.port: 99999999999999999999999 is out of range"},
      {"[server]\n[extra]\n", "main.ini:2: unknown section [extra]"},
      {"[proto]\nmax_frame_bytes = 0\n", "main.ini:2: proto.max_frame_bytes: 0 is out of range"},
      {"[proto]\nunknown_commands = maybe\n",
       "main.ini:2: proto.unknown_commands: 'maybe' is not ignore or close"},
      {"[listener.a]\ntask_type = HTTP_TASK\n", "main.ini:2: listener.a.task_type: a listener"},
      {"[listener.a]\nportt = 1\n", "main.ini:2: unknown key 'portt' in [listener.a]"},
      {"[listener.a.b]\n", "main.ini:1: [listener.a.b]: a listener's name"},
      {"[listener.a]\nport = 1\nport = 2\n",
       "main.ini:3: listener.a.port is set twice (first on line 2)"},
      {"[listener.a]\nip = 1.2.3\n", "main.ini:2: listener.a.ip: '1.2.3' is not an IPv4"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(error_of(c.text).find(c.expected), std::string::npos)
        << "config:\n"
        << c.text << "gave: " << error_of(c.text) << "\nexpected a part: " << c.expected;
  }
}

TEST(Config, OverridesComeAfterTheFile) {
  const Config c = parse_config("[server]\nport = 20023\n", "/x/main.ini",
                                {"server.port=0", "http.keep_alive_timeout_ms=500"});
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.keep_alive_timeout, std::chrono::milliseconds(500));
  EXPECT_NE(error_of("", {"server.port"}).find("--set: 'server.port' is not section.key=value"),
            std::string::npos);
  EXPECT_NE(error_of("", {"server.nope=1"}).find("unknown key 'nope'"), std::string::npos);
  EXPECT_NE(error_of("", {"server.port=x"}).find("--set: server.port: 'x' is not"),
            std::string::npos);
}

TEST(Config, AMissingFileOrAFolderIsAConfigError) {
  EXPECT_THROW((void)load_config("/nonexistent/avant/main.ini"), ConfigError);
  EXPECT_THROW((void)load_config(AVANT_SOURCE_DIR), ConfigError);
}

TEST(Config, WhatThisVersionCanNotServeIsRefusedBeforeStarting) {
  // Every task type is served since chapter 07 (STREAM_TASK).
  EXPECT_NO_THROW(check_servable(parse_config("[server]\ntask_type = STREAM_TASK\n", "/x/m.ini")));
  EXPECT_THROW(
      check_servable(parse_config("[server]\nport = 8000\nhttps_port = 8000\n", "/x/m.ini")),
      ConfigError);
  EXPECT_NO_THROW(check_servable(parse_config("[server]\nhttps_port = 8443\n", "/x/m.ini")));
  const auto servable_error = [](const std::string& text) -> std::string {
    try {
      check_servable(parse_config(text, "/x/m.ini"));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(servable_error("[server]\n[listener.a]\ntask_type = STREAM_TASK\n"),
            "/x/m.ini:2: [listener.a] needs port");
  EXPECT_EQ(servable_error("[listener.a]\nport = 9000\n"),
            "/x/m.ini:1: [listener.a] needs task_type");
  EXPECT_EQ(servable_error("[server]\nport = 9000\n[listener.a]\ntask_type = STREAM_TASK\n"
                           "port = 9000\n"),
            "/x/m.ini:3: [listener.a] port 9000 is server.port's");
  EXPECT_EQ(servable_error("[listener.a]\ntask_type = STREAM_TASK\nport = 0\n"
                           "[listener.b]\ntask_type = WEBSOCKET_TASK\nport = 0\n"),
            "(no error)")
      << "port 0 is any free port, never a clash";
}

TEST(Config, ListenersAreSectionsOfTheirOwnAndSetMovesThem) {
  const Config c = parse_config(
      "[server]\nip = 127.0.0.1\n[proto]\nmax_frame_bytes = 65536\nunknown_commands = close\n"
      "[listener.stream]\ntask_type = STREAM_TASK\nport = 9001\nuse_ssl = 1\n"
      "[listener.ws]\ntask_type = WEBSOCKET_TASK\nip = 127.0.0.2\nport = 9002\n",
      "/x/main.ini", {"listener.stream.port=0", "proto.max_frame_bytes=100"});
  EXPECT_EQ(c.proto_max_frame_bytes, 100u) << "--set comes after the file";
  EXPECT_TRUE(c.proto_close_unknown);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name, "stream");
  EXPECT_EQ(c.listeners[0].task_type, TaskType::stream);
  EXPECT_EQ(c.listeners[0].port, 0) << "--set listener.NAME.key=value";
  EXPECT_TRUE(c.listeners[0].use_ssl);
  EXPECT_EQ(c.listeners[0].ip, "") << "server.ip";
  EXPECT_EQ(c.listeners[1].task_type, TaskType::websocket);
  EXPECT_EQ(c.listeners[1].ip, "127.0.0.2");
  EXPECT_EQ(c.listeners[1].port, 9002);
  EXPECT_FALSE(c.listeners[1].use_ssl);
  EXPECT_NO_THROW(check_servable(c));
  // --check's text reads back the same.
  EXPECT_EQ(to_ini(parse_config(to_ini(c), c.file)), to_ini(c));
}

TEST(Config, CheckPrintsEveryKeyAndReadsBackTheSame) {
  const Config c = load_config(std::filesystem::path(AVANT_SOURCE_DIR) / "examples" / "main.ini");
  const std::string ini = to_ini(c);
  const Config again = parse_config(ini, c.file);
  EXPECT_EQ(to_ini(again), ini);
  for (const char* key : {"epoll_wait_time", "lua_dir", "other_udp_svr_max_loop", "ipc_json_path",
                          "max_pipeline", "directory_listing"})
    EXPECT_NE(ini.find(key), std::string::npos) << key;
}

// One table of keys (config_keys) drives parsing and --check; every key in it has its row in the
// documentation's table for its section, and every row there is a key.
TEST(Config, EveryKeyOfTheTableIsDocumentedUnderItsSectionAndNothingElse) {
  std::ifstream in(fs::path(AVANT_SOURCE_DIR) / "docs" / "configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md";
  std::set<std::string> documented;
  std::string section;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("## [", 0) == 0) {
      section = line.substr(4, line.find(']') - 4);
    } else if (line.rfind("## ", 0) == 0) {
      section.clear();
    } else if (!section.empty() && line.rfind("| `", 0) == 0) {
      const std::size_t end = line.find('`', 3);
      documented.insert(section + "." + line.substr(3, end - 3));
    }
  }
  std::set<std::string> keys;
  for (const ConfigKey& key : config_keys())
    keys.insert(key.name);
  for (const std::string& key : listener_keys())
    keys.insert("listener.NAME." + key);
  for (const std::string& key : keys)
    EXPECT_TRUE(documented.count(key) == 1) << key << " has no row in docs/configuration.md";
  for (const std::string& row : documented)
    EXPECT_TRUE(keys.count(row) == 1)
        << "docs/configuration.md documents " << row << ", which main.ini does not accept";
  EXPECT_GE(keys.size(), 30U);
}

}  // namespace
}  // namespace avant::app
