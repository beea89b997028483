// HashFilter: no key added is ever filtered out; most keys not added are.
#include "monitor/hash_filter.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <unordered_map>

namespace railwatch::monitor {
namespace {

std::size_t Hash(const std::string& key) {
    return std::hash<std::string>{}(key);
}

TEST(HashFilter, EveryKeyAddedPassesAndFewOthersDo) {
    HashFilter filter;
    EXPECT_FALSE(filter.MayHold(Hash("anything")));  // empty
    constexpr int kHeld = 1000;
    filter.Reset(kHeld);
    for (int k = 0; k < kHeld; ++k)
        filter.Add(Hash("held-" + std::to_string(k)));
    for (int k = 0; k < kHeld; ++k)
        ASSERT_TRUE(filter.MayHold(Hash("held-" + std::to_string(k)))) << k;
    int passed = 0;
    constexpr int kOthers = 100000;
    for (int k = 0; k < kOthers; ++k)
        passed += filter.MayHold(Hash("other-" + std::to_string(k))) ? 1 : 0;
    // At 64 bits a key at most ~1/64 of the others pass (1,563 of 100,000); allow for the hash.
    EXPECT_LT(passed, kOthers / 40);
}

TEST(HashFilter, OutgrownSaysWhenToSizeItAgainAndResetForgetsEveryKey) {
    HashFilter filter;
    EXPECT_FALSE(filter.Outgrown(HashFilter::kMinBits / HashFilter::kBitsPerKey));
    EXPECT_TRUE(filter.Outgrown(HashFilter::kMinBits / HashFilter::kBitsPerKey + 1));
    filter.Add(Hash("a"));
    ASSERT_TRUE(filter.MayHold(Hash("a")));
    filter.Reset(10000);
    EXPECT_FALSE(filter.Outgrown(10000));
    EXPECT_TRUE(filter.Outgrown(20000));
    EXPECT_FALSE(filter.MayHold(Hash("a")));
}

TEST(HashFilter, FillHoldsEveryKeyOfAMapAndForgetsTheOthers) {
    std::unordered_multimap<std::string, int> map;
    for (int k = 0; k < 3000; ++k)
        map.emplace("held-" + std::to_string(k % 1500), k);  // two entries per key
    HashFilter filter;
    filter.Add(Hash("gone"));
    filter.Fill(map);
    EXPECT_FALSE(filter.Outgrown(map.size()));
    for (int k = 0; k < 1500; ++k)
        ASSERT_TRUE(filter.MayHold(map.hash_function()("held-" + std::to_string(k)))) << k;
    EXPECT_FALSE(filter.MayHold(Hash("gone")));
}

}  // namespace
}  // namespace railwatch::monitor
