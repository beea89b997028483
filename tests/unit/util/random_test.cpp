#include "util/random.hpp"

#include <gtest/gtest.h>

namespace railwatch::util {
namespace {

TEST(SystemRandom, DrawsStayInTheUnitIntervalAndCoverIt) {
    SystemRandom random;
    double low = 1.0, high = 0.0, sum = 0.0;
    constexpr int kDraws = 100000;
    for (int i = 0; i < kDraws; ++i) {
        const double x = random.NextUnit();
        ASSERT_GE(x, 0.0);
        ASSERT_LT(x, 1.0);
        low = std::min(low, x);
        high = std::max(high, x);
        sum += x;
    }
    EXPECT_LT(low, 0.01);
    EXPECT_GT(high, 0.99);
    EXPECT_NEAR(sum / kDraws, 0.5, 0.01);
}

TEST(SystemRandom, AFixedSeedRepeatsItsSequence) {
    SystemRandom a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const double x = a.NextUnit();
        EXPECT_EQ(x, b.NextUnit());
        differs = differs || x != c.NextUnit();
    }
    EXPECT_TRUE(differs);
}

TEST(SystemRandom, DrivesTheCoreBackoffWithinItsBounds) {
    SystemRandom random(7);
    core::BackoffPolicy policy;
    for (int attempt = 1; attempt < policy.max_attempts; ++attempt) {
        for (int i = 0; i < 1000; ++i) {
            auto delay = core::NextRetryDelay(policy, attempt, random.NextUnit());
            ASSERT_TRUE(delay);
            ASSERT_GE(delay->count(), 0);
            ASSERT_LE(*delay, core::BackoffCeiling(policy, attempt));
        }
    }
}

}  // namespace
}  // namespace railwatch::util
