#include "core/deployment_status.hpp"

#include <gtest/gtest.h>

#include <set>

namespace railwatch::core {
namespace {

// One row per Railway status: the contract documented in docs/STATUSES.md.
struct StatusRow {
    const char* name;
    DeploymentStatus status;
    StatusGroup group;
    InstanceStatus instance;
    bool stable;
};

class EveryStatus : public ::testing::TestWithParam<StatusRow> {};

TEST_P(EveryStatus, ParsesGroupsAndMapsAsDocumented) {
    const StatusRow& row = GetParam();
    auto parsed = RailwayStatus::Parse(row.name);
    EXPECT_EQ(parsed.value, row.status);
    EXPECT_EQ(parsed.raw, row.name);
    EXPECT_EQ(ToString(row.status), row.name);
    EXPECT_EQ(GroupOf(row.status), row.group);
    EXPECT_EQ(ToInstanceStatus(row.status), row.instance);
    EXPECT_EQ(IsStable(row.status), row.stable);
    EXPECT_EQ(IsInProgress(row.status), row.group == StatusGroup::kPending || row.group == StatusGroup::kInProgress);
    EXPECT_EQ(IsSucceeded(row.status), row.group == StatusGroup::kSucceeded);
    EXPECT_EQ(IsFailed(row.status), row.group == StatusGroup::kFailed);
}

INSTANTIATE_TEST_SUITE_P(
    Railway, EveryStatus,
    ::testing::Values(
        StatusRow{"QUEUED", DeploymentStatus::kQueued, StatusGroup::kPending, InstanceStatus::kInitializing, false},
        StatusRow{"WAITING", DeploymentStatus::kWaiting, StatusGroup::kPending, InstanceStatus::kInitializing, false},
        StatusRow{"NEEDS_APPROVAL", DeploymentStatus::kNeedsApproval, StatusGroup::kPending,
                  InstanceStatus::kInitializing, false},
        StatusRow{"INITIALIZING", DeploymentStatus::kInitializing, StatusGroup::kInProgress,
                  InstanceStatus::kInitializing, false},
        StatusRow{"BUILDING", DeploymentStatus::kBuilding, StatusGroup::kInProgress, InstanceStatus::kDeploying, false},
        StatusRow{"DEPLOYING", DeploymentStatus::kDeploying, StatusGroup::kInProgress, InstanceStatus::kDeploying,
                  false},
        StatusRow{"SUCCESS", DeploymentStatus::kSuccess, StatusGroup::kSucceeded, InstanceStatus::kRunning, true},
        StatusRow{"SLEEPING", DeploymentStatus::kSleeping, StatusGroup::kSucceeded, InstanceStatus::kRunning, true},
        StatusRow{"FAILED", DeploymentStatus::kFailed, StatusGroup::kFailed, InstanceStatus::kFailed, true},
        StatusRow{"CRASHED", DeploymentStatus::kCrashed, StatusGroup::kFailed, InstanceStatus::kFailed, true},
        StatusRow{"SKIPPED", DeploymentStatus::kSkipped, StatusGroup::kInactive, InstanceStatus::kFailed, true},
        StatusRow{"REMOVING", DeploymentStatus::kRemoving, StatusGroup::kInactive, InstanceStatus::kDeleted, false},
        StatusRow{"REMOVED", DeploymentStatus::kRemoved, StatusGroup::kInactive, InstanceStatus::kDeleted, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DeploymentStatus, TheTableCoversAllThirteenRailwayValuesOnce) {
    std::set<DeploymentStatus> seen(kAllDeploymentStatuses.begin(), kAllDeploymentStatuses.end());
    EXPECT_EQ(seen.size(), 13u);
    EXPECT_EQ(seen.count(DeploymentStatus::kUnknown), 0u);
    for (auto status : kAllDeploymentStatuses) {
        EXPECT_EQ(ParseDeploymentStatus(ToString(status)), status);
    }
}

TEST(DeploymentStatus, UnknownValueKeepsTheRawStringAndLeavesTheInstanceStatusAlone) {
    auto parsed = RailwayStatus::Parse("HIBERNATING");
    EXPECT_EQ(parsed.value, DeploymentStatus::kUnknown);
    EXPECT_EQ(parsed.raw, "HIBERNATING");
    EXPECT_EQ(GroupOf(parsed.value), StatusGroup::kUnknown);
    EXPECT_EQ(ToInstanceStatus(parsed.value), std::nullopt);
    EXPECT_FALSE(IsInProgress(parsed.value));
    EXPECT_FALSE(IsStable(parsed.value));
}

TEST(DeploymentStatus, ParsingIsCaseSensitiveLikeTheSchema) {
    EXPECT_EQ(ParseDeploymentStatus("success"), std::nullopt);
    EXPECT_EQ(ParseDeploymentStatus(""), std::nullopt);
    EXPECT_EQ(ParseDeploymentStatus("RUNNING"), std::nullopt);  // the seed's value, not Railway's
}

TEST(InstanceStatus, RoundTripsEveryValue) {
    for (auto status : {InstanceStatus::kInitializing, InstanceStatus::kDeploying, InstanceStatus::kRunning,
                        InstanceStatus::kFailed, InstanceStatus::kDeleted}) {
        EXPECT_EQ(ParseInstanceStatus(ToString(status)), status);
    }
    EXPECT_EQ(ParseInstanceStatus("SUCCESS"), std::nullopt);
}

}  // namespace
}  // namespace railwatch::core
