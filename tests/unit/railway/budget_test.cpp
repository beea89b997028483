#include "railway/budget.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

TEST(RequestBudget, GrantsTheBurstThenAsksToWaitUntilItsSecondHasPassed) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(budget.TryAcquire().granted) << i;
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    // The bucket has a token again after 100 ms, but an eleventh request within the burst's second
    // would be refused by a server counting one-second windows.
    EXPECT_EQ(refused.wait, RequestBudget::kOneSecondWindow);
    clock.Advance(core::Millis(100));
    EXPECT_FALSE(budget.TryAcquire().granted);
    EXPECT_EQ(budget.Snapshot().second_remaining, 0.0);
    clock.Advance(RequestBudget::kOneSecondWindow - core::Millis(101));
    EXPECT_FALSE(budget.TryAcquire().granted);
    clock.Advance(core::Millis(1));
    EXPECT_TRUE(budget.TryAcquire().granted);
}

// Whatever the pattern of asking, no second (any interval of kOneSecondWindow, wherever it
// starts) holds more grants than the per-second limit, and asking all the time still gets about
// the limit's rate.
TEST(RequestBudget, TheRequestsOfAnySecondNeverExceedTheLimit) {
    for (const int limit : {1, 3, 10, 50}) {
        SCOPED_TRACE(limit);
        util::FakeClock clock;
        RequestBudget budget(clock, {1'000'000, limit});
        std::vector<util::SteadyTime> grants;
        const util::SteadyTime start = clock.Steady();
        unsigned state = 12345;
        while (clock.Steady() - start < core::Seconds(30)) {
            const BudgetGrant grant = budget.TryAcquire();
            if (grant.granted) {
                grants.push_back(clock.Steady());
                budget.Observe(200, {}, 1, grant.cost);
            }
            // Asks again after a pseudo-random 0-37 ms, or when told to wait, sometimes early.
            state = state * 1103515245u + 12345u;
            const auto step = core::Millis(static_cast<int>((state >> 16) % 38));
            clock.Advance(grant.granted ? step : std::min<core::Duration>(grant.wait, step + core::Millis(1)));
        }
        for (std::size_t i = 0; i < grants.size(); ++i) {
            std::size_t in_second = 0;
            for (std::size_t j = i; j < grants.size() && grants[j] - grants[i] < RequestBudget::kOneSecondWindow; ++j)
                ++in_second;
            ASSERT_LE(in_second, static_cast<std::size_t>(limit)) << "a second starting at grant " << i;
        }
        // ~limit per kOneSecondWindow for 30 s.
        EXPECT_GE(grants.size(), static_cast<std::size_t>(limit) * 26);
    }
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

TEST(RequestBudget, OneOfSeveralProcessesSpendsItsShareOfTheTokensLimits) {
    util::FakeClock clock;
    RequestBudget budget(clock, {3600, 10});
    budget.SetShare(2);
    EXPECT_EQ(budget.Snapshot().parts, 2);
    EXPECT_EQ(budget.Snapshot().second_limit, 10);  // the token's limit; the bucket holds half of it
    int granted = 0;
    while (budget.TryAcquire().granted)
        ++granted;
    EXPECT_EQ(granted, 5);
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    EXPECT_EQ(refused.wait, RequestBudget::kOneSecondWindow);  // 5 in any second, not 10
    clock.Advance(RequestBudget::kOneSecondWindow);
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(budget.TryAcquire().granted) << i;  // the bucket refilled at 5 a second
    EXPECT_FALSE(budget.TryAcquire().granted);

    // The ten requests are answered; what the last answer says remains of the hour is the
    // token's: this process takes its half.
    for (int i = 0; i < 9; ++i)
        budget.Observe(200, {}, 1, 1.0);
    budget.Observe(200, {{"X-RateLimit-Limit", "3600"}, {"X-RateLimit-Remaining", "300"}}, 1, 1.0);
    EXPECT_NEAR(budget.Snapshot().hour_remaining, 150.0, 1e-9);
    // Its capacity is that of half the limits: 1,800/h and 5/s at one minute in batches of 50.
    EXPECT_EQ(budget.Capacity(core::Seconds(60), 50).max_deployments,
              ComputeFleetCapacity(1800, 5, core::Seconds(60), 50).max_deployments);

    // Alone again: the whole limits, refilling from now on.
    budget.SetShare(1);
    clock.Advance(RequestBudget::kOneSecondWindow);
    granted = 0;
    while (budget.TryAcquire().granted)
        ++granted;
    EXPECT_EQ(granted, 10);
}

TEST(RequestBudget, AShareBelowOneRequestASecondStillGrantsOneAtATime) {
    util::FakeClock clock;
    RequestBudget budget(clock, {36000, 2});
    budget.SetShare(4);  // half a request a second
    EXPECT_TRUE(budget.TryAcquire().granted);
    const BudgetGrant refused = budget.TryAcquire();
    EXPECT_FALSE(refused.granted);
    EXPECT_EQ(refused.wait, core::Seconds(2));
    clock.Advance(core::Seconds(2));
    EXPECT_TRUE(budget.TryAcquire().granted);
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

// ---- Which window X-RateLimit-* describe, for every plausible shape of X-RateLimit-Reset.

// A reset `in` from now, in each format Railway might use.
struct ResetShape {
    const char* name;
    std::string (*format)(core::Timestamp now, core::Duration in);
};

const ResetShape kResetShapes[] = {
    {"EpochSeconds",
     [](core::Timestamp now, core::Duration in) {
         return std::to_string(std::chrono::duration_cast<std::chrono::seconds>((now + in).time_since_epoch()).count());
     }},
    {"EpochMillis",
     [](core::Timestamp now, core::Duration in) {
         return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>((now + in).time_since_epoch()).count());
     }},
    {"SecondsFromNow",
     [](core::Timestamp, core::Duration in) {
         return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(in).count());
     }},
    {"Rfc3339", [](core::Timestamp now, core::Duration in) { return util::FormatRfc3339(now + in); }},
};

class ResetShapes : public ::testing::TestWithParam<ResetShape> {};

TEST_P(ResetShapes, AResetSecondsAwayIsThePerSecondWindowAndNeverShrinksTheHourlyBudget) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "50"},
                         {"X-RateLimit-Remaining", "0"},
                         {"X-RateLimit-Reset", GetParam().format(clock.Now(), core::Seconds(1))}});
    const BudgetSnapshot s = budget.Snapshot();
    EXPECT_EQ(s.hour_limit, 1000);
    EXPECT_NEAR(s.hour_remaining, 1000, 1e-6);
    EXPECT_FALSE(s.server_remaining.has_value());
    EXPECT_EQ(s.second_limit, 50);
    EXPECT_EQ(s.server_second_remaining, 0);
    EXPECT_LE(s.paused_for, core::Seconds(1));  // until the second is over, not longer
    clock.Advance(core::Seconds(1));
    EXPECT_TRUE(budget.TryAcquire().granted);
}

TEST_P(ResetShapes, AResetMinutesAwayIsTheHourlyWindow) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "10000"},
                         {"X-RateLimit-Remaining", "9000"},
                         {"X-RateLimit-Reset", GetParam().format(clock.Now(), core::Seconds(1800))}});
    const BudgetSnapshot s = budget.Snapshot();
    EXPECT_EQ(s.hour_limit, 10000);
    EXPECT_NEAR(s.hour_remaining, 9000, 1e-6);
    EXPECT_EQ(s.server_remaining, 9000);
    ASSERT_TRUE(s.server_reset.has_value());
    EXPECT_LE(*s.server_reset - clock.Now(), core::Seconds(1800));
    EXPECT_GT(*s.server_reset - clock.Now(), core::Seconds(1799));
    EXPECT_EQ(s.second_limit, 10);
}

TEST_P(ResetShapes, AnExhaustedHourPausesUntilItsReset) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "1000"},
                         {"X-RateLimit-Remaining", "0"},
                         {"X-RateLimit-Reset", GetParam().format(clock.Now(), core::Seconds(600))}});
    EXPECT_GT(budget.Snapshot().paused_for, core::Seconds(599));
    EXPECT_LE(budget.Snapshot().paused_for, core::Seconds(600));
}

INSTANTIATE_TEST_SUITE_P(RateLimitReset, ResetShapes, ::testing::ValuesIn(kResetShapes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RequestBudget, AnHourEndingInSecondsIsStillTheHourlyWindow) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "1000"}, {"X-RateLimit-Remaining", "400"}, {"X-RateLimit-Reset", "5"}});
    EXPECT_EQ(budget.Snapshot().server_remaining, 400);
    EXPECT_EQ(budget.Snapshot().second_limit, 10);
}

TEST(RequestBudget, WithoutAResetASmallLimitIsNotTakenForTheHourlyOne) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"X-RateLimit-Limit", "50"}, {"X-RateLimit-Remaining", "3"}});
    EXPECT_EQ(budget.Snapshot().hour_limit, 1000);
    EXPECT_NEAR(budget.Snapshot().hour_remaining, 1000, 1e-6);
}

TEST(RequestBudget, RateLimitPolicySetsBothLimitsAndNamesTheWindowOfTheOtherHeaders) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    // The policy says 50 is the per-second quota: Remaining 7 is of that second, even with a
    // Reset that alone would have looked hourly.
    budget.Observe(200, {{"RateLimit-Policy", "10000;w=3600, 50;w=1"},
                         {"X-RateLimit-Limit", "50"},
                         {"X-RateLimit-Remaining", "7"},
                         {"X-RateLimit-Reset", "3600"}});
    const BudgetSnapshot s = budget.Snapshot();
    EXPECT_EQ(s.hour_limit, 10000);
    EXPECT_EQ(s.second_limit, 50);
    EXPECT_EQ(s.server_second_remaining, 7);
    EXPECT_FALSE(s.server_remaining.has_value());
    EXPECT_NEAR(s.second_remaining, 7, 1e-6);
}

TEST(RequestBudget, RateLimitPolicyInTheLaterDraftSyntax) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    budget.Observe(200, {{"RateLimit-Policy", R"("hourly";q=100;w=3600, "burst";q=600;w=60)"},
                         {"X-RateLimit-Limit", "100"},
                         {"X-RateLimit-Remaining", "42"}});
    const BudgetSnapshot s = budget.Snapshot();
    EXPECT_EQ(s.hour_limit, 100);
    EXPECT_EQ(s.second_limit, 10);  // 600 per minute
    EXPECT_EQ(s.server_remaining, 42);
}

// An answer's Remaining does not yet count the requests this process has in flight: the bucket is
// set to what remains less those, so that they do not overfill the window when they arrive.
TEST(RequestBudget, WhatRemainsIsLessTheRequestsStillInFlight) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    std::vector<BudgetGrant> grants;
    for (int i = 0; i < 4; ++i) {
        grants.push_back(budget.TryAcquire());
        ASSERT_TRUE(grants.back().granted);
        EXPECT_EQ(grants.back().cost, 1);
    }
    const net::HttpHeaders second = {
        {"X-RateLimit-Limit", "10"}, {"X-RateLimit-Remaining", "5"}, {"X-RateLimit-Reset", "1"}};
    budget.Observe(200, second, 1, grants[0].cost);  // three still out
    EXPECT_EQ(budget.Snapshot().second_remaining, 2);
    budget.Release(grants[1].cost);  // one that got no answer
    budget.Observe(200, second, 1, grants[2].cost);
    EXPECT_EQ(budget.Snapshot().second_remaining, 4);
    budget.Observe(200, second, 1, grants[3].cost);  // none out
    EXPECT_EQ(budget.Snapshot().second_remaining, 5);
    // Never below nothing, whatever was granted.
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(budget.TryAcquire().granted);
    budget.Observe(200, {{"X-RateLimit-Limit", "10"}, {"X-RateLimit-Remaining", "1"}, {"X-RateLimit-Reset", "1"}});
    EXPECT_EQ(budget.Snapshot().second_remaining, 0);
}

// A server that charges each root field (alias) of a request: counted in requests, this process
// had room, yet a request of several root fields was refused. The second such 429 within a minute
// makes every request cost its root fields, and requests carry one each, for an hour.
TEST(RequestBudget, TwoRefusalsThatCountingRequestsCannotExplainMakeEachRootFieldCost) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    ASSERT_TRUE(budget.TryAcquire(12).granted);  // per request: costs 1
    EXPECT_EQ(budget.Snapshot().second_remaining, 9);
    EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
    EXPECT_FALSE(budget.Observe(429, {{"Retry-After", "1"}}, 12));  // one may be anyone's
    EXPECT_FALSE(budget.Snapshot().priced_per_root_field);
    clock.Advance(core::Seconds(1));
    ASSERT_TRUE(budget.TryAcquire(12).granted);
    EXPECT_TRUE(budget.Observe(429, {{"Retry-After", "1"}}, 12));
    EXPECT_EQ(budget.MaxRootFieldsPerRequest(), 1u);
    const BudgetSnapshot learnt = budget.Snapshot();
    EXPECT_TRUE(learnt.priced_per_root_field);
    EXPECT_EQ(learnt.rate_limited, 2);
    EXPECT_FALSE(budget.Observe(429, {{"Retry-After", "1"}}, 12));  // told once

    // Now a request costs its root fields, never more than a bucket holds.
    clock.Advance(core::Seconds(2));
    ASSERT_TRUE(budget.TryAcquire(3).granted);
    EXPECT_EQ(budget.Snapshot().second_remaining, 7);
    ASSERT_TRUE(budget.TryAcquire(1).granted);
    EXPECT_EQ(budget.Snapshot().second_remaining, 6);
    const BudgetGrant refused = budget.TryAcquire(400);  // as much as a full bucket: 10
    EXPECT_FALSE(refused.granted);
    // (The bucket would hold 10 again in 400 ms; the second holds the 4 sent until it has passed.)
    EXPECT_EQ(refused.wait, RequestBudget::kOneSecondWindow);
    clock.Advance(RequestBudget::kOneSecondWindow);
    EXPECT_TRUE(budget.TryAcquire(400).granted);

    // For an hour from the lesson (3.1 s ago); then requests cost 1 again, and batches may be as
    // configured.
    clock.Advance(RequestBudget::kPerRootFieldFor - core::Seconds(2) - RequestBudget::kOneSecondWindow -
                  core::Millis(1));
    EXPECT_EQ(budget.MaxRootFieldsPerRequest(), 1u);
    clock.Advance(core::Millis(1));
    EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
    EXPECT_FALSE(budget.Snapshot().priced_per_root_field);
    const double before = budget.Snapshot().second_remaining;
    ASSERT_TRUE(budget.TryAcquire(5).granted);
    EXPECT_EQ(budget.Snapshot().second_remaining, before - 1);
}

TEST(RequestBudget, RefusalsThatCountingRequestsExplainTeachNothing) {
    // Requests of one root field: what they cost is the same either way.
    {
        util::FakeClock clock;
        RequestBudget budget(clock, {1000, 10});
        for (int i = 0; i < 3; ++i) {
            EXPECT_FALSE(budget.Observe(429, {}, 1)) << i;
            clock.Advance(core::Seconds(1));
        }
        EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
    }
    // This process spent its second: per request, the refusal is its own doing.
    {
        util::FakeClock clock;
        RequestBudget budget(clock, {1000, 10});
        for (int round = 0; round < 3; ++round) {
            while (budget.TryAcquire(50).granted) {
            }
            EXPECT_FALSE(budget.Observe(429, {{"Retry-After", "1"}}, 50)) << round;
            clock.Advance(core::Seconds(1));
        }
        EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
    }
    // The answer says the per-second window is used up (by anyone with the token).
    {
        util::FakeClock clock;
        RequestBudget budget(clock, {1000, 10});
        const net::HttpHeaders used_up = {
            {"X-RateLimit-Limit", "10"}, {"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "1"}};
        for (int i = 0; i < 3; ++i) {
            EXPECT_FALSE(budget.Observe(429, used_up, 50)) << i;
            clock.Advance(core::Seconds(1));
        }
        EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
    }
    // Two unexplained refusals more than a minute apart.
    {
        util::FakeClock clock;
        RequestBudget budget(clock, {1000, 10});
        EXPECT_FALSE(budget.Observe(429, {}, 50));
        clock.Advance(RequestBudget::kUnexplainedWithin + core::Seconds(1));
        EXPECT_FALSE(budget.Observe(429, {}, 50));
        EXPECT_EQ(budget.MaxRootFieldsPerRequest(), std::numeric_limits<std::size_t>::max());
        clock.Advance(core::Seconds(5));
        EXPECT_TRUE(budget.Observe(429, {}, 50));  // but this one follows the last within a minute
    }
}

// An answer describing its per-second window with some left, yet refusing: the request cost more
// than what was left, whatever this process's own count says.
TEST(RequestBudget, ARefusalWithRoomLeftInThePerSecondWindowIsUnexplained) {
    util::FakeClock clock;
    RequestBudget budget(clock, {1000, 10});
    while (budget.TryAcquire().granted) {
    }
    const net::HttpHeaders room = {
        {"X-RateLimit-Limit", "10"}, {"X-RateLimit-Remaining", "6"}, {"X-RateLimit-Reset", "1"}};
    EXPECT_FALSE(budget.Observe(429, room, 12));
    clock.Advance(core::Seconds(1));
    while (budget.TryAcquire().granted) {
    }
    EXPECT_TRUE(budget.Observe(429, room, 12));
    EXPECT_EQ(budget.MaxRootFieldsPerRequest(), 1u);
}

TEST(RateLimitPolicy, ParsesBothDraftSyntaxesAndSkipsWhatItCannotRead) {
    const auto old_syntax = ParseRateLimitPolicy("10000;w=3600, 50;w=1");
    ASSERT_EQ(old_syntax.size(), 2u);
    EXPECT_EQ(old_syntax[0].quota, 10000);
    EXPECT_EQ(old_syntax[0].window_s, 3600);
    EXPECT_EQ(old_syntax[1].quota, 50);
    EXPECT_EQ(old_syntax[1].window_s, 1);
    const auto new_syntax = ParseRateLimitPolicy(R"("default";q=1000;w=3600;pk=:abc=:)");
    ASSERT_EQ(new_syntax.size(), 1u);
    EXPECT_EQ(new_syntax[0].quota, 1000);
    EXPECT_TRUE(ParseRateLimitPolicy("garbage, 10;w=, ;w=5").empty());
}

TEST(RateLimitWindow, IsToldByPolicyThenResetHorizonThenTheLimit) {
    const std::vector<RateLimitPolicyItem> none;
    EXPECT_EQ(RateLimitWindowOf(50, core::Seconds(1), none, 1000), RateLimitWindow::kSecond);
    EXPECT_EQ(RateLimitWindowOf(1000, core::Seconds(1), none, 1000), RateLimitWindow::kHour);
    EXPECT_EQ(RateLimitWindowOf(100, core::Seconds(3000), none, 1000), RateLimitWindow::kHour);
    EXPECT_EQ(RateLimitWindowOf(50, std::nullopt, none, 1000), RateLimitWindow::kUnknown);
    EXPECT_EQ(RateLimitWindowOf(10000, std::nullopt, none, 1000), RateLimitWindow::kHour);
    const std::vector<RateLimitPolicyItem> policy = {{10000, 3600}, {50, 1}};
    EXPECT_EQ(RateLimitWindowOf(50, core::Seconds(3000), policy, 1000), RateLimitWindow::kSecond);
    EXPECT_EQ(RateLimitWindowOf(10000, core::Seconds(1), policy, 1000), RateLimitWindow::kHour);
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
