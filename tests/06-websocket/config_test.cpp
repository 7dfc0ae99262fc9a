// Chapter 06 — main.ini's [websocket] section and WEBSOCKET_TASK: defaults, every key read, the
// example's values, a file:line for every mistake, and --check's round trip.
#include "config.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace avant::app {
namespace {

std::string error_of(const std::string& text) {
  try {
    (void)parse_config(text, "/etc/avant/main.ini");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(WebSocketConfig, DefaultsWhenTheSectionIsAbsent) {
  const Config c = parse_config("[server]\n", "/x/main.ini");
  EXPECT_EQ(c.ws_path, "/ws");
  EXPECT_EQ(c.ws_max_message_bytes, 1u << 20);
  EXPECT_FALSE(c.ws_compression);
  EXPECT_EQ(c.ws_ping_interval, std::chrono::milliseconds(30000));
  EXPECT_EQ(c.ws_close_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.ws_max_buffered_bytes, 4u << 20);
  EXPECT_FALSE(c.ws_drop_when_slow);
  EXPECT_TRUE(c.ws_origins.empty());
}

TEST(WebSocketConfig, EveryKeyIsRead) {
  const Config c = parse_config(
      "[websocket]\npath = /live/feed\nmax_message_bytes = 4096\ncompression = 1\n"
      "ping_interval_ms = 0\nclose_timeout_ms = 250\nmax_buffered_bytes = 65536\n"
      "slow_consumer = drop\norigins = https://example.org, http://localhost:8080\n",
      "/x/main.ini");
  EXPECT_EQ(c.ws_path, "/live/feed");
  EXPECT_EQ(c.ws_max_message_bytes, 4096u);
  EXPECT_TRUE(c.ws_compression);
  EXPECT_EQ(c.ws_ping_interval, std::chrono::milliseconds(0));
  EXPECT_EQ(c.ws_close_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.ws_max_buffered_bytes, 65536u);
  EXPECT_TRUE(c.ws_drop_when_slow);
  EXPECT_EQ(c.ws_origins,
            (std::vector<std::string>{"https://example.org", "http://localhost:8080"}));
}

TEST(WebSocketConfig, TheExampleConfigurationEnablesCompressionOnSlashWs) {
  const Config c = load_config(std::filesystem::path(AVANT_SOURCE_DIR) / "examples" / "main.ini");
  EXPECT_EQ(c.ws_path, "/ws");
  EXPECT_TRUE(c.ws_compression);
  EXPECT_TRUE(c.ws_origins.empty());
}

TEST(WebSocketConfig, MistakesNameFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"[websocket]\npath = ws\n", "main.ini:2: websocket.path: 'ws' is not a path like /ws"},
      {"[websocket]\npath = /a?b\n", "main.ini:2: websocket.path"},
      {"[websocket]\nmax_message_bytes = 0\n", "main.ini:2: websocket.max_message_bytes"},
      {"[websocket]\ncompression = maybe\n", "main.ini:2: websocket.compression"},
      {"[websocket]\nping_interval_ms = -1\n", "main.ini:2: websocket.ping_interval_ms"},
      {"[websocket]\nclose_timeout_ms = 0\n", "main.ini:2: websocket.close_timeout_ms"},
      {"[websocket]\nmax_buffered_bytes = 10\n", "main.ini:2: websocket.max_buffered_bytes"},
      {"[websocket]\n\nslow_consumer = later\n",
       "main.ini:3: websocket.slow_consumer: 'later' is not drop or close"},
      {"[websocket]\norigins = https://ok.org, example.org\n",
       "main.ini:2: websocket.origins: 'example.org' is not an origin"},
      {"[websocket]\nbacklog = 1\n", "main.ini:2: unknown key 'backlog' in [websocket]"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(error_of(c.text).find(c.expected), std::string::npos)
        << "config:\n"
        << c.text << "gave: " << error_of(c.text) << "\nexpected a part: " << c.expected;
  }
}

TEST(WebSocketConfig, WebsocketTaskIsServedAndCheckReadsItBack) {
  const Config c = parse_config(
      "[server]\ntask_type = WEBSOCKET_TASK\n[websocket]\norigins = https://a.org, https://b.org\n"
      "slow_consumer = drop\n",
      "/x/main.ini");
  EXPECT_EQ(c.task_type, TaskType::websocket);
  EXPECT_NO_THROW(check_servable(c));
  const std::string ini = to_ini(c);
  EXPECT_NE(ini.find("[websocket]"), std::string::npos) << ini;
  EXPECT_NE(ini.find("origins = https://a.org, https://b.org"), std::string::npos) << ini;
  const Config again = parse_config(ini, c.file);
  EXPECT_EQ(again.ws_origins, c.ws_origins);
  EXPECT_TRUE(again.ws_drop_when_slow);
  EXPECT_EQ(to_ini(again), ini);
}

}  // namespace
}  // namespace avant::app
