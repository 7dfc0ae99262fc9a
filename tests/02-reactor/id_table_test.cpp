// IdTable (id_table.hpp): TcpServer's connections by id. Checked against a std::map model through
// inserts and erases in random order, with ids that crowd a few home slots.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <avant/tcp/id_table.hpp>

#include <gtest/gtest.h>

namespace {

using avant::tcp::IdTable;

struct Item {
  std::uint64_t value;
  [[nodiscard]] std::uint64_t id() const noexcept { return value; }
};
using ItemPtr = std::shared_ptr<Item>;

ItemPtr item(std::uint64_t id) {
  return std::make_shared<Item>(Item{id});
}

void expect_same(const IdTable<ItemPtr>& table, const std::map<std::uint64_t, ItemPtr>& model) {
  ASSERT_EQ(table.size(), model.size());
  for (const auto& [id, p] : model)
    ASSERT_EQ(table.find(id), p) << "id " << id;
  std::set<std::uint64_t> seen;
  table.for_each([&seen](const ItemPtr& p) { seen.insert(p->id()); });
  ASSERT_EQ(seen.size(), model.size()) << "for_each visits every entry once";
}

TEST(IdTable, FindsWhatWasInsertedAndNothingElse) {
  IdTable<ItemPtr> table;
  EXPECT_EQ(table.find(7), nullptr) << "an empty table finds nothing";
  EXPECT_FALSE(table.erase(7));
  const ItemPtr seven = item(7);
  EXPECT_TRUE(table.insert(seven));
  EXPECT_FALSE(table.insert(item(7))) << "one entry per id";
  EXPECT_FALSE(table.insert(nullptr));
  EXPECT_EQ(table.find(7), seven);
  EXPECT_EQ(table.find(8), nullptr);
  EXPECT_EQ(table.size(), 1U);
  EXPECT_TRUE(table.erase(7));
  EXPECT_FALSE(table.erase(7));
  EXPECT_TRUE(table.empty());
}

TEST(IdTable, MatchesAMapThroughRandomInsertsAndErasesAndGivesBackSlots) {
  IdTable<ItemPtr> table;
  std::map<std::uint64_t, ItemPtr> model;
  std::mt19937_64 random(20261206);
  // Ids as TcpServer makes them: a loop's index in the high bits over a counter; and a few ids
  // that share their low bits, to make long runs of probes.
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = 0; i < 3000; ++i)
    ids.push_back(((i % 3) << 56U) | i);
  for (std::uint64_t i = 1; i < 200; ++i)
    ids.push_back(i << 40U);
  for (int round = 0; round < 20000; ++round) {
    const std::uint64_t id = ids[random() % ids.size()];
    if (random() % 3 != 0) {
      const ItemPtr p = item(id);
      ASSERT_EQ(table.insert(p), model.emplace(id, p).second);
    } else {
      ASSERT_EQ(table.erase(id), model.erase(id) == 1);
    }
    if (round % 997 == 0) expect_same(table, model);
  }
  expect_same(table, model);
  EXPECT_LE(table.size() * 4, table.slot_count() * 3) << "at most 3/4 full";

  for (const auto& [id, p] : model)
    ASSERT_TRUE(table.erase(id));
  EXPECT_TRUE(table.empty());
  EXPECT_LE(table.slot_count(), 16U) << "emptied, it gives its slots back";
}

}  // namespace
