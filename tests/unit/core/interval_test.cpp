#include "core/interval.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace railwatch::core {
namespace {

using std::chrono::milliseconds;

struct IntervalRow {
    DeploymentStatus status;
    long long seconds;
};

void PrintTo(const IntervalRow& r, std::ostream* os) {
    *os << ToString(r.status);
}

class SeedInterval : public ::testing::TestWithParam<IntervalRow> {};

// Every status and the unknown one: the seed's table, "otherwise 30 s".
TEST_P(SeedInterval, MatchesTheSeedTable) {
    const IntervalRow& row = GetParam();
    IntervalPolicy policy;
    policy.jitter_fraction = 0.0;
    EXPECT_EQ(BaseCheckInterval(policy, row.status), Seconds(row.seconds));
    EXPECT_EQ(CheckInterval(policy, row.status, 0.77), Seconds(row.seconds));
}

INSTANTIATE_TEST_SUITE_P(
    Interval, SeedInterval,
    ::testing::Values(IntervalRow{DeploymentStatus::kQueued, 30}, IntervalRow{DeploymentStatus::kWaiting, 30},
                      IntervalRow{DeploymentStatus::kNeedsApproval, 30},
                      IntervalRow{DeploymentStatus::kInitializing, 10}, IntervalRow{DeploymentStatus::kBuilding, 15},
                      IntervalRow{DeploymentStatus::kDeploying, 10}, IntervalRow{DeploymentStatus::kSuccess, 60},
                      IntervalRow{DeploymentStatus::kFailed, 30}, IntervalRow{DeploymentStatus::kCrashed, 30},
                      IntervalRow{DeploymentStatus::kSleeping, 30}, IntervalRow{DeploymentStatus::kSkipped, 30},
                      IntervalRow{DeploymentStatus::kRemoving, 30}, IntervalRow{DeploymentStatus::kRemoved, 30},
                      IntervalRow{DeploymentStatus::kUnknown, 30}),
    [](const auto& info) {
        return std::string(info.param.status == DeploymentStatus::kUnknown ? "Unknown" : ToString(info.param.status));
    });

TEST(CheckInterval, OverridesAndFallbackComeFromThePolicy) {
    IntervalPolicy policy;
    policy.per_status[DeploymentStatus::kSuccess] = Seconds(300);
    policy.per_status[DeploymentStatus::kQueued] = Seconds(5);
    policy.fallback = Seconds(45);
    EXPECT_EQ(BaseCheckInterval(policy, DeploymentStatus::kSuccess), Seconds(300));
    EXPECT_EQ(BaseCheckInterval(policy, DeploymentStatus::kQueued), Seconds(5));
    EXPECT_EQ(BaseCheckInterval(policy, DeploymentStatus::kWaiting), Seconds(45));
    EXPECT_EQ(BaseCheckInterval(policy, DeploymentStatus::kBuilding), Seconds(15));
}

// The jitter only shortens: the configured interval is the longest wait between two checks (a
// status change shows within it), and the mean the budget plan counts is 1 - f/2 of it.
TEST(CheckInterval, JitterOnlyShortensAndNeverWaitsLongerThanTheConfiguredInterval) {
    const IntervalPolicy policy;  // 10 %
    double sum_s = 0;
    for (int i = 0; i < 1000; ++i) {
        const Duration d = CheckInterval(policy, DeploymentStatus::kSuccess, i / 1000.0);
        EXPECT_GE(d, Seconds(54));
        EXPECT_LE(d, Seconds(60));
        sum_s += ToSecondsF(d);
    }
    EXPECT_NEAR(sum_s / 1000, 60 * MeanJitterFactor(policy), 0.01);
    EXPECT_DOUBLE_EQ(MeanJitterFactor(policy), 0.95);
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 0.0), Seconds(54));
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 0.5), Seconds(57));
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 0.75), milliseconds(58500));
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 1.5), Seconds(60));  // clamped below 1
    IntervalPolicy none;
    none.jitter_fraction = 0;
    EXPECT_DOUBLE_EQ(MeanJitterFactor(none), 1.0);
}

TEST(CheckInterval, JitterFractionIsClampedAndNeverGoesBelowTheMinimum) {
    IntervalPolicy policy;
    policy.jitter_fraction = 5.0;  // clamped to 0.9
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 0.0), Seconds(6));
    policy.jitter_fraction = -1.0;  // clamped to 0
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kSuccess, 0.0), Seconds(60));
    policy.jitter_fraction = 0.9;
    policy.per_status[DeploymentStatus::kDeploying] = milliseconds(100);  // bad config
    EXPECT_EQ(BaseCheckInterval(policy, DeploymentStatus::kDeploying), Seconds(1));
    EXPECT_EQ(CheckInterval(policy, DeploymentStatus::kDeploying, 0.0), Seconds(1));
}

// A base the caller gives (a user's interval, a stretched one) gets the policy's jitter and
// minimum exactly as a table entry does.
TEST(JitteredInterval, IsCheckIntervalForAGivenBase) {
    IntervalPolicy policy;  // 10 %
    for (const double unit : {0.0, 0.25, 0.5, 0.999}) {
        EXPECT_EQ(JitteredInterval(policy, Seconds(60), unit), CheckInterval(policy, DeploymentStatus::kSuccess, unit));
    }
    EXPECT_EQ(JitteredInterval(policy, Seconds(600), 0.0), Seconds(540));
    EXPECT_EQ(JitteredInterval(policy, Seconds(600), 0.75), Seconds(585));
    policy.jitter_fraction = 0.9;
    EXPECT_EQ(JitteredInterval(policy, milliseconds(100), 0.5), Seconds(1));  // below the minimum
    EXPECT_EQ(JitteredInterval(policy, Seconds(2), 0.0), Seconds(1));         // jitter never below it
}

}  // namespace
}  // namespace railwatch::core
