#include "railway/budget.hpp"

#include <gtest/gtest.h>

namespace railwatch::railway {
namespace {

TEST(RequestBudget, GrantsTheBurstThenAsksToWaitPerSecond) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(budget.TryAcquire().granted) << i;
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    EXPECT_EQ(refused.wait, core::Millis(100));
    clock.Advance(core::Millis(100));
    EXPECT_TRUE(budget.TryAcquire().granted);
}

TEST(RequestBudget, HourlyBucketLimitsSustainedRate) {
    util::FakeClock clock;
    RequestBudget budget(clock, {100, 50});  // Free plan
    int granted = 0;
    for (int i = 0; i < 200; ++i) {
        if (budget.TryAcquire().granted) ++granted;
        clock.Advance(core::Millis(100));  // 20 s in all: refills 100/3600*20 ≈ 0.56 token
    }
    EXPECT_EQ(granted, 100);
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    EXPECT_GT(refused.wait, core::Seconds(10));  // 36 s per token minus what refilled
    EXPECT_LE(refused.wait, core::Seconds(36));
}

TEST(RequestBudget, ServerRemainingCorrectsTheHourlyBucket) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "1000"}, {"X-RateLimit-Remaining", "3"}});
    EXPECT_NEAR(budget.Snapshot().hour_remaining, 3.0, 1e-9);
    EXPECT_TRUE(budget.TryAcquire().granted);
    EXPECT_TRUE(budget.TryAcquire().granted);
    EXPECT_TRUE(budget.TryAcquire().granted);
    EXPECT_FALSE(budget.TryAcquire().granted);
}

TEST(RequestBudget, ServerLimitReplacesTheConfiguredPlan) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"x-ratelimit-limit", "10000"}});
    EXPECT_EQ(budget.Snapshot().hour_limit, 10000);
}

TEST(RequestBudget, ExhaustedWindowPausesUntilReset) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    const auto reset = clock.Now() + core::Seconds(120);
    const auto reset_s = std::chrono::duration_cast<std::chrono::seconds>(reset.time_since_epoch()).count();
    budget.Observe(200, {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", std::to_string(reset_s)}});
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    EXPECT_EQ(refused.wait, core::Seconds(120));
    clock.Advance(core::Seconds(120));
    EXPECT_TRUE(budget.TryAcquire().granted);
}

TEST(RequestBudget, RetryAfterPausesEverything) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(429, {{"Retry-After", "30"}});
    EXPECT_EQ(budget.Snapshot().paused_for, core::Seconds(30));
    EXPECT_EQ(budget.Snapshot().rate_limited, 1);
    EXPECT_EQ(budget.TryAcquire().wait, core::Seconds(30));
    clock.Advance(core::Seconds(30));
    EXPECT_TRUE(budget.TryAcquire().granted);
}

TEST(RequestBudget, A429WithoutRetryAfterPausesOneSecond) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(429, {});
    EXPECT_EQ(budget.TryAcquire().wait, core::Seconds(1));
}

TEST(RequestBudget, ParsesEveryResetFormat) {
    const core::Timestamp now(std::chrono::seconds(1'767'225'600));  // 2026-01-01T00:00:00Z
    EXPECT_EQ(ParseRateLimitReset("1767229200", now), core::Timestamp(std::chrono::seconds(1'767'229'200)));
    EXPECT_EQ(ParseRateLimitReset("1767229200000", now), core::Timestamp(std::chrono::seconds(1'767'229'200)));
    EXPECT_EQ(ParseRateLimitReset("60", now), now + core::Seconds(60));
    EXPECT_EQ(ParseRateLimitReset("2026-01-01T01:00:00Z", now), core::Timestamp(std::chrono::seconds(1'767'229'200)));
    EXPECT_FALSE(ParseRateLimitReset("soon", now).has_value());
    EXPECT_FALSE(ParseRateLimitReset("-5", now).has_value());
}

TEST(RequestBudget, ParsesRetryAfterSeconds) {
    EXPECT_EQ(ParseRetryAfter("7"), core::Seconds(7));
    EXPECT_EQ(ParseRetryAfter(" 12 "), core::Seconds(12));
    EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
    EXPECT_FALSE(ParseRetryAfter("-1").has_value());
}

TEST(FleetCapacity, HobbyPlanWatchesEightHundredDeploymentsAtOneMinuteInBatchesOfFifty) {
    // 1000 requests/hour, one check per minute each, 50 per request: 1000 * 50 / 60 = 833.
    const FleetCapacity hobby = ComputeFleetCapacity(1000, 10, core::Seconds(60), 50, 800);
    EXPECT_EQ(hobby.max_deployments, 833);
    EXPECT_DOUBLE_EQ(hobby.requests_per_hour_needed, 960.0);  // ceil(800/50) = 16 per minute
    EXPECT_TRUE(hobby.fits);
    // The seed's design: one request per deployment per check → 16 deployments at 1 min.
    EXPECT_EQ(ComputeFleetCapacity(1000, 10, core::Seconds(60), 1).max_deployments, 16);
    EXPECT_FALSE(ComputeFleetCapacity(1000, 10, core::Seconds(10), 50, 200).fits);
}

TEST(FleetCapacity, PerSecondLimitCanBeTheBindingOne) {
    // 10,000/h but only 1/s, checks every 0.1 s: the per-second limit binds (1 * 50 * 0.1 = 5).
    EXPECT_EQ(ComputeFleetCapacity(10000, 1, core::Millis(100), 50).max_deployments, 5);
}

}  // namespace
}  // namespace railwatch::railway
