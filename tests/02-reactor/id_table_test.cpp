// IdTable (id_table.hpp): TcpServer's connections and WebSocketServer's sessions by id. Checked against a std::map model through
// inserts and erases in random order, with ids that crowd a few home slots.
#include <cstddef>
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

template <class Ptr>
void expect_same(const IdTable<Ptr>& table, const std::map<std::uint64_t, Ptr>& model) {
  ASSERT_EQ(table.size(), model.size());
  for (const auto& [id, p] : model)
    ASSERT_EQ(table.find(id), p) << "id " << id;
  std::set<std::uint64_t> seen;
  std::size_t visits = 0;
  table.for_each([&](const Ptr& p) {
    seen.insert(p->id());
    ++visits;
  });
  ASSERT_EQ(seen.size(), model.size()) << "for_each visits every entry";
  ASSERT_EQ(visits, model.size()) << "for_each visits each entry once";
}

// 20,000 random inserts and erases, checked against a std::map; `make(id)` gives a new pointer.
template <class Ptr, class Make>
void matches_a_map(Make make) {
  IdTable<Ptr> table;
  std::map<std::uint64_t, Ptr> model;
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
      const Ptr p = make(id);
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
  matches_a_map<ItemPtr>(item);
}

// WebSocketServer's sessions are raw pointers: a moved raw pointer keeps its value, so a shift
// that moved one would leave it in two slots.
TEST(IdTable, HoldsRawPointersThroughTheSameInsertsAndErases) {
  std::vector<std::unique_ptr<Item>> items;
  matches_a_map<Item*>([&items](std::uint64_t id) {
    items.push_back(std::make_unique<Item>(Item{id}));
    return items.back().get();
  });
}

}  // namespace
