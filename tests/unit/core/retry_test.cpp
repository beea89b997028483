#include "core/retry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace railwatch::core {
namespace {

using std::chrono::milliseconds;

TEST(BackoffPolicy, DefaultsAreTheSeeds) {
    const BackoffPolicy policy;
    EXPECT_EQ(policy.max_attempts, 3);
    EXPECT_EQ(policy.base, Seconds(1));
    EXPECT_EQ(policy.cap, Seconds(30));
    EXPECT_DOUBLE_EQ(policy.factor, 2.0);
}

TEST(BackoffCeiling, DoublesFromBaseUntilTheCap) {
    const BackoffPolicy policy;
    EXPECT_EQ(BackoffCeiling(policy, 1), Seconds(1));
    EXPECT_EQ(BackoffCeiling(policy, 2), Seconds(2));
    EXPECT_EQ(BackoffCeiling(policy, 3), Seconds(4));
    EXPECT_EQ(BackoffCeiling(policy, 5), Seconds(16));
    EXPECT_EQ(BackoffCeiling(policy, 6), Seconds(30));  // 32 s capped
    EXPECT_EQ(BackoffCeiling(policy, 1000), Seconds(30));
    EXPECT_EQ(BackoffCeiling(policy, std::numeric_limits<int>::max()), Seconds(30));
}

TEST(BackoffCeiling, OutOfRangePolicyValuesAreClamped) {
    BackoffPolicy policy;
    policy.factor = 0.5;  // would shrink: treated as 1
    EXPECT_EQ(BackoffCeiling(policy, 4), Seconds(1));
    policy.factor = std::nan("");
    EXPECT_EQ(BackoffCeiling(policy, 4), Seconds(1));
    policy = BackoffPolicy{};
    policy.base = Seconds(-5);
    EXPECT_EQ(BackoffCeiling(policy, 3), Duration::zero());
    EXPECT_EQ(BackoffCeiling(BackoffPolicy{}, 0), Seconds(1));  // attempts < 1 count as 1
}

// Full jitter: for every attempt n and every draw u, 0 <= delay <= min(cap, base * 2^(n-1)).
TEST(NextRetryDelay, StaysWithinFullJitterBoundsOverManyAttemptsAndDraws) {
    BackoffPolicy policy;
    policy.max_attempts = 40;
    int checked = 0;
    for (int attempt = 1; attempt < policy.max_attempts; ++attempt) {
        const double ceiling_s = std::min(30.0, std::pow(2.0, attempt - 1));
        for (int i = 0; i <= 1000; ++i) {
            const double u = i / 1000.0;  // includes 0 and 1 (1 is clamped below 1)
            const auto delay = NextRetryDelay(policy, attempt, u);
            ASSERT_TRUE(delay.has_value()) << attempt;
            EXPECT_GE(*delay, Duration::zero());
            EXPECT_LE(ToSecondsF(*delay), ceiling_s) << "attempt " << attempt << " u " << u;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 39 * 1001);
}

TEST(NextRetryDelay, IsProportionalToTheDraw) {
    const BackoffPolicy policy;
    EXPECT_EQ(NextRetryDelay(policy, 1, 0.0), Duration::zero());
    EXPECT_EQ(NextRetryDelay(policy, 1, 0.5), milliseconds(500));
    EXPECT_EQ(NextRetryDelay(policy, 2, 0.25), milliseconds(500));
    EXPECT_EQ(NextRetryDelay(policy, 2, 0.75), milliseconds(1500));
}

TEST(NextRetryDelay, ReachesTheCapButNeverExceedsIt) {
    BackoffPolicy policy;
    policy.max_attempts = 10;
    const auto near_top = NextRetryDelay(policy, 9, 0.999999);  // ceiling 256 s capped to 30 s
    ASSERT_TRUE(near_top);
    EXPECT_GT(*near_top, Seconds(29));
    EXPECT_LE(*near_top, Seconds(30));
    EXPECT_EQ(NextRetryDelay(policy, 9, 0.5), Seconds(15));
}

TEST(NextRetryDelay, BadDrawsAreClampedIntoTheUnitInterval) {
    BackoffPolicy policy;
    policy.max_attempts = 5;
    EXPECT_EQ(NextRetryDelay(policy, 3, -3.0), Duration::zero());
    EXPECT_EQ(NextRetryDelay(policy, 3, std::nan("")), Duration::zero());
    const auto high = NextRetryDelay(policy, 3, 7.0);
    ASSERT_TRUE(high);
    EXPECT_LT(*high, Seconds(4));
    EXPECT_GT(*high, milliseconds(3999));
}

TEST(NextRetryDelay, ExhaustedAttemptsGiveUp) {
    const BackoffPolicy policy;  // 3 attempts: retries after attempt 1 and 2 only
    EXPECT_TRUE(NextRetryDelay(policy, 1, 0.3));
    EXPECT_TRUE(NextRetryDelay(policy, 2, 0.3));
    EXPECT_FALSE(NextRetryDelay(policy, 3, 0.3));
    EXPECT_FALSE(NextRetryDelay(policy, 4, 0.3));
    EXPECT_FALSE(NextRetryDelay(policy, 3, 0.3, Seconds(1)));  // Retry-After does not add attempts
    BackoffPolicy single;
    single.max_attempts = 0;  // counts as 1: no retry at all
    EXPECT_FALSE(NextRetryDelay(single, 1, 0.3));
}

TEST(NextRetryDelay, HonoursRetryAfterAsAFloor) {
    const BackoffPolicy policy;
    EXPECT_EQ(NextRetryDelay(policy, 1, 0.9, Seconds(7)), Seconds(7));                  // longer than any jitter
    EXPECT_EQ(NextRetryDelay(policy, 2, 0.9, Seconds(120)), Seconds(120));              // even beyond the cap
    EXPECT_EQ(NextRetryDelay(policy, 2, 0.75, milliseconds(200)), milliseconds(1500));  // shorter: jitter
    for (int i = 0; i < 100; ++i) {
        const auto d = NextRetryDelay(policy, 2, i / 100.0, Seconds(1));
        ASSERT_TRUE(d);
        EXPECT_GE(*d, Seconds(1));
        EXPECT_LE(*d, Seconds(2));
    }
}

TEST(SequenceRandom, CyclesThroughItsValuesClampedAndCountsDraws) {
    SequenceRandom random({0.1, 0.9, 2.0, -1.0});
    EXPECT_DOUBLE_EQ(random.NextUnit(), 0.1);
    EXPECT_DOUBLE_EQ(random.NextUnit(), 0.9);
    EXPECT_LT(random.NextUnit(), 1.0);
    EXPECT_DOUBLE_EQ(random.NextUnit(), 0.0);
    EXPECT_DOUBLE_EQ(random.NextUnit(), 0.1);
    EXPECT_EQ(random.draws(), 5u);
    SequenceRandom empty({});
    EXPECT_DOUBLE_EQ(empty.NextUnit(), 0.0);
}

// ---- RetryWithBackoff

struct Recorder {
    std::vector<Duration> sleeps;
    void operator()(Duration d) { sleeps.push_back(d); }
};

TEST(RetryWithBackoff, ReturnsAtOnceOnSuccessWithoutSleeping) {
    SequenceRandom random({0.5});
    Recorder sleep;
    int calls = 0;
    auto result = RetryWithBackoff([&] { return ++calls; }, [](int) { return false; }, std::ref(sleep), random);
    EXPECT_EQ(result.result, 1);
    EXPECT_EQ(result.attempts, 1);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(sleep.sleeps.empty());
    EXPECT_EQ(random.draws(), 0u);
}

TEST(RetryWithBackoff, RetriesUntilSuccessSleepingTheJitteredDelays) {
    SequenceRandom random({0.5, 0.25});
    Recorder sleep;
    int calls = 0;
    auto result = RetryWithBackoff([&] { return ++calls == 3 ? std::string("ok") : std::string("ECONNRESET"); },
                                   [](const std::string& r) { return r != "ok"; }, std::ref(sleep), random);
    EXPECT_EQ(result.result, "ok");
    EXPECT_EQ(result.attempts, 3);
    EXPECT_EQ(sleep.sleeps, (std::vector<Duration>{milliseconds(500), milliseconds(500)}));
    EXPECT_EQ(result.waited, Seconds(1));
}

TEST(RetryWithBackoff, GivesUpAfterMaxAttemptsAndReturnsTheLastFailure) {
    SequenceRandom random({0.99});
    Recorder sleep;
    int calls = 0;
    auto result = RetryWithBackoff([&] { return -(++calls); }, [](int r) { return r < 0; }, std::ref(sleep), random);
    EXPECT_EQ(result.result, -3);
    EXPECT_EQ(result.attempts, 3);
    EXPECT_EQ(calls, 3);
    ASSERT_EQ(sleep.sleeps.size(), 2u);
    EXPECT_LE(sleep.sleeps[0], Seconds(1));
    EXPECT_LE(sleep.sleeps[1], Seconds(2));
}

TEST(RetryWithBackoff, DoesNotRetryPermanentFailures) {
    SequenceRandom random({0.5});
    Recorder sleep;
    int calls = 0;
    auto result = RetryWithBackoff(
        [&] {
            ++calls;
            return 401;
        },
        [](int status) { return status >= 500 || status == 429; }, std::ref(sleep), random);
    EXPECT_EQ(result.result, 401);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(sleep.sleeps.empty());
}

TEST(RetryWithBackoff, AVerdictCarriesRetryAfter) {
    SequenceRandom random({0.0});
    Recorder sleep;
    int calls = 0;
    auto result = RetryWithBackoff(
        [&] { return ++calls < 3 ? 429 : 200; },
        [](int status) {
            return RetryVerdict{status == 429, status == 429 ? std::optional<Duration>(Seconds(12)) : std::nullopt};
        },
        std::ref(sleep), random);
    EXPECT_EQ(result.result, 200);
    EXPECT_EQ(sleep.sleeps, (std::vector<Duration>{Seconds(12), Seconds(12)}));
    EXPECT_EQ(result.waited, Seconds(24));
}

TEST(RetryWithBackoff, UsesTheGivenPolicy) {
    SequenceRandom random({0.5});
    Recorder sleep;
    BackoffPolicy policy;
    policy.max_attempts = 6;
    policy.base = milliseconds(100);
    policy.cap = milliseconds(1000);
    auto result = RetryWithBackoff([] { return false; }, [](bool ok) { return !ok; }, std::ref(sleep), random, policy);
    EXPECT_EQ(result.attempts, 6);
    EXPECT_EQ(sleep.sleeps, (std::vector<Duration>{milliseconds(50), milliseconds(100), milliseconds(200),
                                                   milliseconds(400), milliseconds(500)}));
}

}  // namespace
}  // namespace railwatch::core
