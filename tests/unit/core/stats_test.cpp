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

TEST(FleetStats, PendingIsInitializingPlusDeploying) {
    FleetCounts c;
    c.total = 6;
    c.running = 3;
    c.failed = 1;
    c.initializing = 1;
    c.deploying = 1;
    c.deleted = 1;
    const FleetStats s = ComputeFleetStats(c);
    EXPECT_EQ(s.pending, 2u);
    EXPECT_EQ(s.counts.total, s.counts.running + s.counts.failed + s.pending);
    EXPECT_EQ(s.counts.deleted, 1u);
}

TEST(FleetStats, AverageIsOverSucceededDeployments) {
    FleetCounts c;
    c.deployments_seen = 4;
    c.deployments_finished = 3;
    c.deployments_failed = 1;
    c.deployments_succeeded = 2;
    c.succeeded_time_total = Seconds(150);  // 100 s + 50 s
    const FleetStats s = ComputeFleetStats(c);
    ASSERT_TRUE(s.avg_deployment_seconds);
    EXPECT_DOUBLE_EQ(*s.avg_deployment_seconds, 75.0);
    EXPECT_DOUBLE_EQ(s.error_rate, 1.0 / 3.0);
}

TEST(FleetStats, PercentilesAreOverTheSucceededDeploymentsTimes) {
    FleetCounts c;
    c.deployments_succeeded = 5;
    c.succeeded_times = {Seconds(50), Seconds(10), Seconds(40), Seconds(20), Seconds(30)};
    c.succeeded_time_total = Seconds(150);
    const FleetStats s = ComputeFleetStats(c);
    ASSERT_TRUE(s.p50_deployment_seconds);
    ASSERT_TRUE(s.p95_deployment_seconds);
    EXPECT_DOUBLE_EQ(*s.p50_deployment_seconds, 30.0);
    EXPECT_DOUBLE_EQ(*s.p95_deployment_seconds, 48.0);  // 40 + 0.8 x (50 - 40)
    EXPECT_DOUBLE_EQ(*s.avg_deployment_seconds, 30.0);
}

TEST(FleetStats, EmptyFleetHasZerosAndNoAverage) {
    const FleetStats s = ComputeFleetStats({});
    EXPECT_EQ(s.counts.total, 0u);
    EXPECT_EQ(s.pending, 0u);
    EXPECT_DOUBLE_EQ(s.error_rate, 0.0);
    EXPECT_FALSE(s.avg_deployment_seconds);
    EXPECT_FALSE(s.p50_deployment_seconds);
    EXPECT_FALSE(s.p95_deployment_seconds);
}

// The one definition: failed deployments over finished deployments, whatever the instances show.
TEST(FleetStats, ErrorRateIsFailedOverFinishedDeploymentsNotInstances) {
    FleetCounts c;
    c.total = 2;
    c.running = 2;  // both instances were redeployed to RUNNING ...
    c.deployments_finished = 4;
    c.deployments_failed = 2;  // ... after two of their four deployments failed
    c.deployments_succeeded = 2;
    EXPECT_DOUBLE_EQ(ComputeFleetStats(c).error_rate, 0.5);
    c.deployments_finished = 0;  // in progress only: nothing to rate yet
    c.deployments_failed = 0;
    c.deployments_succeeded = 0;
    EXPECT_DOUBLE_EQ(ComputeFleetStats(c).error_rate, 0.0);
}

TEST(FleetStats, ErrorRateNeverExceedsOne) {
    FleetCounts c;
    c.deployments_finished = 1;
    c.deployments_failed = 2;  // inconsistent input must not produce a rate above 100 %
    EXPECT_DOUBLE_EQ(ComputeFleetStats(c).error_rate, 1.0);
}

}  // namespace
}  // namespace railwatch::core
