// Chapter 09 — ipc.json: the original's format read with nlohmann/json, and what stops start-up
// with the file and where in it (a syntax error by line and column, a wrong entry by its number,
// a repeated app_id by both entries).
#include <compare>
#include <string>

#include <avant/ipc/mesh_config.hpp>

#include <gtest/gtest.h>

namespace avant::ipc {
namespace {

std::string error_of(const std::string& text) {
  try {
    (void)parse_mesh(text, "ipc.json");
  } catch (const MeshConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MeshConfig, ReadsTheOriginalsFormat) {
  const MeshConfig mesh = parse_mesh(R"([
    { "app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 20024 },
    { "app_id": "1.2.3.4", "ip": "::1", "port": 20034 }
  ])",
                                     "ipc.json");
  ASSERT_EQ(mesh.entries.size(), 2u);
  EXPECT_EQ(mesh.entries[0].app_id, "0.0.0.1");
  EXPECT_EQ(mesh.entries[0].address.to_string(), "127.0.0.1:20024");
  EXPECT_EQ(mesh.entries[1].address.to_string(), "[::1]:20034");
  ASSERT_NE(mesh.find("1.2.3.4"), nullptr);
  EXPECT_EQ(mesh.find("1.2.3.4")->address.port(), 20034);
  EXPECT_EQ(mesh.find("0.0.0.2"), nullptr);
  EXPECT_TRUE(parse_mesh("[]", "ipc.json").entries.empty());
}

TEST(MeshConfig, ASyntaxErrorNamesTheFileLineAndColumn) {
  const std::string e =
      error_of("[\n  { \"app_id\": \"0.0.0.1\",\n    \"ip\": 127.0.0.1, \"port\": 1 }\n]");
  EXPECT_EQ(e.rfind("ipc.json:3:", 0), 0u) << e;
  EXPECT_NE(e.find("syntax error"), std::string::npos) << e;
  EXPECT_EQ(error_of("").rfind("ipc.json:1:1: ", 0), 0u) << error_of("");
}

TEST(MeshConfig, AWrongEntryIsNamedByItsNumber) {
  EXPECT_EQ(error_of(R"({"app_id": "0.0.0.1"})"),
            R"(ipc.json: not a JSON array of {"app_id", "ip", "port"} entries)");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 1}, 7])"),
            "ipc.json: entry 2: is not an object");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "127.0.0.1"}])"),
            R"(ipc.json: entry 1: no "port")");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 1, "prot": 2}])"),
            R"(ipc.json: entry 1: unknown key "prot" (known: app_id, ip, port))");
  EXPECT_EQ(error_of(R"([{"app_id": 1, "ip": "127.0.0.1", "port": 1}])"),
            "ipc.json: entry 1: app_id is not a string");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.1", "ip": "127.0.0.1", "port": 1}])"),
            R"(ipc.json: entry 1: app_id "0.0.1" is not like 0.0.0.1)");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "localhost", "port": 1}])"),
            R"(ipc.json: entry 1: ip "localhost" is not a numeric IPv4 or IPv6 address)");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 65536}])"),
            "ipc.json: entry 1: port 65536 is not in 1..65535");
  EXPECT_EQ(error_of(R"([{"app_id": "0.0.0.1", "ip": "127.0.0.1", "port": "20024"}])"),
            "ipc.json: entry 1: port is not an integer");
}

TEST(MeshConfig, ARepeatedAppIdStopsStartUpNamingBothEntries) {
  EXPECT_EQ(error_of(R"([
    { "app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 20024 },
    { "app_id": "0.0.0.2", "ip": "127.0.0.1", "port": 20034 },
    { "app_id": "0.0.0.1", "ip": "127.0.0.1", "port": 20044 }
  ])"),
            R"(ipc.json: entry 3: app_id "0.0.0.1" is entry 1's too)");
}

TEST(MeshConfig, AMissingFileIsNamed) {
  try {
    (void)load_mesh("/nonexistent/ipc.json");
    FAIL() << "no error";
  } catch (const MeshConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/ipc.json: cannot be read");
  }
}

TEST(MeshConfig, AppIdsAreFourNumbersOrderedByValue) {
  EXPECT_TRUE(valid_app_id("0.0.0.1"));
  EXPECT_TRUE(valid_app_id("123456789.0.0.1"));
  for (const char* bad : {"", "0.0.0", "0.0.0.1.", ".0.0.0.1", "0.0.0.1.2", "a.0.0.1", "0..0.1",
                          "1234567890.0.0.1", "0.0.0.-1", " 0.0.0.1"}) {
    EXPECT_FALSE(valid_app_id(bad)) << bad;
  }
  EXPECT_TRUE(std::is_lt(compare_app_ids("0.0.0.2", "0.0.0.10")));  // by value, not by text
  EXPECT_TRUE(std::is_gt(compare_app_ids("0.0.1.0", "0.0.0.9")));
  EXPECT_TRUE(std::is_eq(compare_app_ids("0.0.0.1", "0.0.0.1")));
  EXPECT_TRUE(std::is_lt(compare_app_ids("0.0.0.01", "0.0.0.1")));  // the same value: by text
}

}  // namespace
}  // namespace avant::ipc
