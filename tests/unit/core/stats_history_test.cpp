#include "core/stats_history.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace railwatch::core {
namespace {

using std::chrono::milliseconds;

// 2026-01-01T00:00:00Z plus `s` seconds.
Timestamp T(long long s) {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1}) + Seconds(s);
}

std::size_t Class(const HistoryPoint& p, ErrorClass c) {
    for (std::size_t i = 0; i < kAllErrorClasses.size(); ++i) {
        if (kAllErrorClasses[i] == c) return p.failed_by_class[i];
    }
    return 0;
}

TEST(AlignDown, RoundsToMultiplesOfTheStepSinceTheEpochAlsoBeforeIt) {
    EXPECT_EQ(AlignDown(T(905), Seconds(900)), T(900));
    EXPECT_EQ(AlignDown(T(900), Seconds(900)), T(900));
    EXPECT_EQ(AlignDown(T(0) + milliseconds(1), Seconds(60)), T(0));
    const Timestamp before_epoch = Timestamp(Seconds(-90));
    EXPECT_EQ(AlignDown(before_epoch, Seconds(60)), Timestamp(Seconds(-120)));
}

TEST(PlanHistory, CoversFromTheBucketOfSinceToTheCurrentPartialBucket) {
    const HistoryWindow w = PlanHistory(T(1000), Seconds(900), T(3700));
    EXPECT_EQ(w.first, T(900));
    EXPECT_EQ(w.count, 4u);  // 900, 1800, 2700, 3600 (the current one)
    EXPECT_EQ(w.End(), T(4500));
    EXPECT_EQ(PlanHistory(T(3600), Seconds(900), T(3600)).count, 1u);
    EXPECT_EQ(PlanHistory(T(3601), Seconds(900), T(3600)).count, 0u);  // since after now
    EXPECT_EQ(PlanHistory(T(0), Duration::zero(), T(3600)).count, 0u);
}

TEST(ComputeStatsHistory, EveryBucketIsPresentWithZerosAndNullsWhenNothingHappened) {
    const HistoryWindow w = PlanHistory(T(0), Seconds(60), T(179));
    const auto points = ComputeStatsHistory(w, {}, {});
    ASSERT_EQ(points.size(), 3u);
    for (std::size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(points[i].at, T(60 * static_cast<long long>(i)));
        EXPECT_EQ(points[i].finished, 0u);
        EXPECT_EQ(points[i].failed, 0u);
        EXPECT_FALSE(points[i].duration_p50);
        EXPECT_FALSE(points[i].duration_p95);
        EXPECT_EQ(points[i].checks, 0);
        EXPECT_EQ(points[i].api_requests, 0);
        EXPECT_FALSE(points[i].budget_remaining);
    }
}

TEST(ComputeStatsHistory, ADeploymentCountsInTheBucketOfItsFinishWithItsDuration) {
    const HistoryWindow w = PlanHistory(T(0), Seconds(600), T(1199));
    // Started in bucket 0, finished in bucket 1: it belongs to bucket 1.
    const std::vector<FinishedDeployment> d = {{T(500), T(650), false, std::nullopt}};
    const auto points = ComputeStatsHistory(w, d, {});
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].finished, 0u);
    EXPECT_EQ(points[1].finished, 1u);
    // The percentile of one duration is that duration.
    EXPECT_EQ(points[1].duration_p50, Seconds(150));
    EXPECT_EQ(points[1].duration_p95, Seconds(150));
}

TEST(ComputeStatsHistory, PercentilesOfManyInterpolateBetweenRanks) {
    const HistoryWindow w = PlanHistory(T(0), Seconds(3600), T(10));
    std::vector<FinishedDeployment> d;
    for (int s = 10; s <= 40; s += 10)  // durations 10, 20, 30, 40 s, listed out of order below
        d.push_back({T(1000 - s), T(1000), false, std::nullopt});
    std::swap(d[0], d[3]);
    const auto points = ComputeStatsHistory(w, d, {});
    ASSERT_EQ(points.size(), 1u);
    EXPECT_EQ(points[0].finished, 4u);
    EXPECT_EQ(points[0].duration_p50, Seconds(25));
    EXPECT_EQ(points[0].duration_p95, milliseconds(38500));
}

TEST(ComputeStatsHistory, FailuresCountByTheirClassAndUnclassifiedOnesAsUnknown) {
    const HistoryWindow w = PlanHistory(T(0), Seconds(60), T(30));
    const std::vector<FinishedDeployment> d = {
        {T(0), T(10), true, ErrorClass::kConfiguration},
        {T(0), T(11), true, ErrorClass::kConfiguration},
        {T(0), T(12), true, ErrorClass::kTimeout},
        {T(0), T(13), true, std::nullopt},
        {T(0), T(14), false, std::nullopt},
    };
    const auto points = ComputeStatsHistory(w, d, {});
    ASSERT_EQ(points.size(), 1u);
    EXPECT_EQ(points[0].finished, 5u);
    EXPECT_EQ(points[0].failed, 4u);
    EXPECT_EQ(Class(points[0], ErrorClass::kConfiguration), 2u);
    EXPECT_EQ(Class(points[0], ErrorClass::kTimeout), 1u);
    EXPECT_EQ(Class(points[0], ErrorClass::kUnknown), 1u);
    EXPECT_EQ(Class(points[0], ErrorClass::kNetwork), 0u);
}

TEST(ComputeStatsHistory, MinutesAddUpPerBucketAndTheLatestBudgetSightingWins) {
    const HistoryWindow w = PlanHistory(T(0), Seconds(300), T(599));
    const std::vector<EngineMinute> m = {
        {T(0), 10, 2, 900, T(30)},
        {T(60), 5, 1, 880, T(100)},
        {T(60), 7, 3, 870, T(90)},  // another process, seen earlier: not the bucket's budget
        {T(240), 1, 0, std::nullopt, std::nullopt},
        {T(360), 4, 4, 700, T(400)},
        {T(600), 99, 99, 1, T(600)},  // outside the window
    };
    const auto points = ComputeStatsHistory(w, {}, m);
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].checks, 23);
    EXPECT_EQ(points[0].api_requests, 6);
    EXPECT_EQ(points[0].budget_remaining, 880);
    EXPECT_EQ(points[1].checks, 4);
    EXPECT_EQ(points[1].api_requests, 4);
    EXPECT_EQ(points[1].budget_remaining, 700);
}

// `used_recently` requests over `recent_span`, `remaining` of `limit_per_hour` left until `reset_at`.
BudgetFacts Budget(int limit_per_hour, long long remaining, Timestamp reset_at, long long used_recently,
                   Duration recent_span) {
    BudgetFacts f;
    f.limit_per_hour = limit_per_hour;
    f.remaining = remaining;
    f.reset_at = reset_at;
    f.used_recently = used_recently;
    f.recent_span = recent_span;
    return f;
}

TEST(ComputeBudgetStatus, ExhaustsBeforeTheResetAtTheCurrentRate) {
    BudgetFacts f = Budget(1000, 100, T(3600), 50, Seconds(300));
    f.used_last_hour = 900;
    const BudgetStatus b = ComputeBudgetStatus(f, T(0));
    EXPECT_EQ(b.limit_per_hour, 1000);
    EXPECT_EQ(b.remaining, 100);
    EXPECT_EQ(b.used_last_hour, 900);
    EXPECT_DOUBLE_EQ(b.requests_per_minute, 10.0);
    EXPECT_EQ(b.exhausts_at, T(600));  // 100 left at 10 a minute
    EXPECT_EQ(b.reset_at, T(3600));
}

TEST(ComputeBudgetStatus, NoExhaustionWhenTheResetComesFirstOrNothingIsSent) {
    BudgetFacts f = Budget(1000, 100, T(300), 50, Seconds(300));
    EXPECT_FALSE(ComputeBudgetStatus(f, T(0)).exhausts_at);  // would run out at T(600)
    f.used_recently = 0;
    f.reset_at = T(3600);
    EXPECT_FALSE(ComputeBudgetStatus(f, T(0)).exhausts_at);
    f.recent_span = Duration::zero();
    EXPECT_DOUBLE_EQ(ComputeBudgetStatus(f, T(0)).requests_per_minute, 0.0);
}

// Just after a start: three requests in 0.6 s are not 300 a minute.
TEST(ComputeBudgetStatus, ASpanUnderAMinuteCountsAsAMinute) {
    BudgetFacts f = Budget(10000, 9997, T(3600), 3, core::Millis(600));
    BudgetStatus b = ComputeBudgetStatus(f, T(0));
    EXPECT_DOUBLE_EQ(b.requests_per_minute, 3.0);
    EXPECT_FALSE(b.exhausts_at);  // 3,332 minutes at 3 a minute: after the reset
    f.used_recently = 600;        // a heavy first second is still a heavy first minute
    b = ComputeBudgetStatus(f, T(0));
    EXPECT_DOUBLE_EQ(b.requests_per_minute, 600.0);
    ASSERT_TRUE(b.exhausts_at);
    EXPECT_GT(*b.exhausts_at, T(990));
    EXPECT_LT(*b.exhausts_at, T(1000));
    f.recent_span = Seconds(120);  // past the first minute: the span as it is
    EXPECT_DOUBLE_EQ(ComputeBudgetStatus(f, T(0)).requests_per_minute, 300.0);
}

TEST(ComputeBudgetStatus, WithoutAResetOnlyARateAboveTheRefillExhaustsTheBucket) {
    BudgetFacts f;
    f.limit_per_hour = 600;  // refills 10 a minute
    f.remaining = 100;
    f.used_recently = 50;
    f.recent_span = Seconds(300);  // 10 a minute: holds steady
    EXPECT_FALSE(ComputeBudgetStatus(f, T(0)).exhausts_at);
    f.used_recently = 150;  // 30 a minute: 20 net
    EXPECT_EQ(ComputeBudgetStatus(f, T(0)).exhausts_at, T(300));
}

}  // namespace
}  // namespace railwatch::core
