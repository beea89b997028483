#include "core/stats.hpp"

#include <gtest/gtest.h>

namespace railwatch::core {
namespace {

using std::chrono::milliseconds;

TEST(Percentile, InterpolatesBetweenClosestRanks) {
    const std::vector<Duration> v = {Seconds(40), Seconds(10), Seconds(30), Seconds(20)};  // unsorted
    EXPECT_EQ(Percentile(v, 0), Seconds(10));
    EXPECT_EQ(Percentile(v, 100), Seconds(40));
    EXPECT_EQ(Percentile(v, 50), Seconds(25));
    EXPECT_EQ(Percentile(v, 95), milliseconds(38500));  // rank 2.85
    EXPECT_EQ(Median(v), Seconds(25));
}

TEST(Percentile, EdgeCases) {
    EXPECT_EQ(Percentile({}, 50), std::nullopt);
    EXPECT_EQ(Percentile({Seconds(7)}, 95), Seconds(7));
    EXPECT_EQ(Percentile({Seconds(1), Seconds(3)}, 250), Seconds(3));  // clamped to 100
    EXPECT_EQ(Percentile({Seconds(1), Seconds(3)}, -5), Seconds(1));
    EXPECT_EQ(Percentile({Seconds(-1), Seconds(4)}, 50), Seconds(4));  // negative ignored
    EXPECT_EQ(Median({Seconds(1), Seconds(2), Seconds(9)}), Seconds(2));
}

TEST(SummarizeDurations, CountMeanP50P95) {
    std::vector<Duration> v;
    for (int i = 1; i <= 100; ++i)
        v.push_back(Seconds(i));
    const DurationSummary s = SummarizeDurations(v);
    EXPECT_EQ(s.count, 100u);
    ASSERT_TRUE(s.mean_seconds);
    EXPECT_DOUBLE_EQ(*s.mean_seconds, 50.5);
    EXPECT_EQ(s.p50, milliseconds(50500));
    EXPECT_EQ(s.p95, milliseconds(95050));
    const DurationSummary empty = SummarizeDurations({});
    EXPECT_EQ(empty.count, 0u);
    EXPECT_FALSE(empty.mean_seconds);
    EXPECT_FALSE(empty.p50);
}

TEST(FleetStats, CountsEveryInstanceStatus) {
    const std::vector<InstanceSummary> fleet = {
        {InstanceStatus::kRunning, Seconds(60)},  {InstanceStatus::kRunning, Seconds(120)},
        {InstanceStatus::kRunning, Seconds(90)},  {InstanceStatus::kFailed, Seconds(30)},
        {InstanceStatus::kInitializing, {}},      {InstanceStatus::kDeploying, {}},
        {InstanceStatus::kDeleted, Seconds(999)},
    };
    const FleetStats s = ComputeFleetStats(fleet);
    EXPECT_EQ(s.total, 6u);
    EXPECT_EQ(s.running, 3u);
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.pending, 2u);
    EXPECT_EQ(s.initializing, 1u);
    EXPECT_EQ(s.deploying, 1u);
    EXPECT_EQ(s.deleted, 1u);
    EXPECT_EQ(s.total, s.running + s.failed + s.pending);
    ASSERT_TRUE(s.avg_deployment_seconds);
    EXPECT_DOUBLE_EQ(*s.avg_deployment_seconds, 75.0);  // the deleted instance's 999 s is excluded
    EXPECT_DOUBLE_EQ(s.error_rate, 0.25);
    EXPECT_EQ(s.p50_deployment, Seconds(75));
    EXPECT_EQ(s.p95_deployment, milliseconds(115500));
}

TEST(FleetStats, EmptyFleetHasZerosAndNoAverages) {
    const FleetStats s = ComputeFleetStats({});
    EXPECT_EQ(s.total, 0u);
    EXPECT_DOUBLE_EQ(s.error_rate, 0.0);
    EXPECT_FALSE(s.avg_deployment_seconds);
    EXPECT_FALSE(s.p50_deployment);
    EXPECT_FALSE(s.p95_deployment);
}

TEST(FleetStats, ErrorRateIsOverFinishedDeploymentsOnly) {
    const FleetStats s = ComputeFleetStats({{InstanceStatus::kFailed, {}},
                                            {InstanceStatus::kFailed, {}},
                                            {InstanceStatus::kInitializing, {}},
                                            {InstanceStatus::kDeploying, {}}});
    EXPECT_DOUBLE_EQ(s.error_rate, 1.0);
    EXPECT_FALSE(s.avg_deployment_seconds);
}

}  // namespace
}  // namespace railwatch::core
