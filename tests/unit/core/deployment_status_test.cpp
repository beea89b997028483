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
    Outcome outcome;      // what `railwatch watch` makes of it
    bool reached_deploy;  // its failure is explained by the deploy logs
    bool logs_may_grow;   // a reader's follow fetches its lines
    const char* label;    // the Railway CLI's wording
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
    EXPECT_EQ(OutcomeOf(row.status), row.outcome);
    EXPECT_EQ(ReachedDeploy(row.status), row.reached_deploy);
    EXPECT_EQ(LogsMayGrow(row.status), row.logs_may_grow);
    EXPECT_EQ(StatusLabel(row.status), row.label);
    EXPECT_EQ(StatusLabel(parsed), row.label);
}

INSTANTIATE_TEST_SUITE_P(
    Railway, EveryStatus,
    ::testing::Values(StatusRow{"QUEUED", DeploymentStatus::kQueued, StatusGroup::kPending,
                                InstanceStatus::kInitializing, false, Outcome::kUndecided, false, true, "Queued"},
                      StatusRow{"WAITING", DeploymentStatus::kWaiting, StatusGroup::kPending,
                                InstanceStatus::kInitializing, false, Outcome::kUndecided, false, true,
                                "Waiting for CI"},
                      StatusRow{"NEEDS_APPROVAL", DeploymentStatus::kNeedsApproval, StatusGroup::kPending,
                                InstanceStatus::kInitializing, false, Outcome::kUndecided, false, true,
                                "Awaiting approval"},
                      StatusRow{"INITIALIZING", DeploymentStatus::kInitializing, StatusGroup::kInProgress,
                                InstanceStatus::kInitializing, false, Outcome::kUndecided, false, true, "Initializing"},
                      StatusRow{"BUILDING", DeploymentStatus::kBuilding, StatusGroup::kInProgress,
                                InstanceStatus::kDeploying, false, Outcome::kUndecided, false, true, "Building"},
                      StatusRow{"DEPLOYING", DeploymentStatus::kDeploying, StatusGroup::kInProgress,
                                InstanceStatus::kDeploying, false, Outcome::kUndecided, true, true, "Deploying"},
                      StatusRow{"SUCCESS", DeploymentStatus::kSuccess, StatusGroup::kSucceeded,
                                InstanceStatus::kRunning, true, Outcome::kSucceeded, true, true, "Online"},
                      StatusRow{"SLEEPING", DeploymentStatus::kSleeping, StatusGroup::kSucceeded,
                                InstanceStatus::kRunning, true, Outcome::kSucceeded, true, true, "Sleeping"},
                      StatusRow{"FAILED", DeploymentStatus::kFailed, StatusGroup::kFailed, InstanceStatus::kFailed,
                                true, Outcome::kFailed, false, false, "Failed"},
                      StatusRow{"CRASHED", DeploymentStatus::kCrashed, StatusGroup::kFailed, InstanceStatus::kFailed,
                                true, Outcome::kFailed, true, true, "Crashed"},
                      StatusRow{"SKIPPED", DeploymentStatus::kSkipped, StatusGroup::kInactive, InstanceStatus::kFailed,
                                true, Outcome::kFailed, false, false, "Skipped"},
                      StatusRow{"REMOVING", DeploymentStatus::kRemoving, StatusGroup::kInactive,
                                InstanceStatus::kDeleted, false, Outcome::kUndecided, false, false, "Removing"},
                      StatusRow{"REMOVED", DeploymentStatus::kRemoved, StatusGroup::kInactive, InstanceStatus::kDeleted,
                                true, Outcome::kFailed, false, false, "Removed"}),
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
    EXPECT_EQ(OutcomeOf(parsed.value), Outcome::kUndecided);  // keep waiting: never a verdict on it
    EXPECT_FALSE(ReachedDeploy(parsed.value));
    EXPECT_EQ(StatusLabel(parsed), "HIBERNATING");
    EXPECT_EQ(StatusLabel(parsed.value), "Unknown");
    EXPECT_EQ(StatusLabel(RailwayStatus{}), "Unknown");
}

TEST(DeploymentStatus, AStoppedSuccessIsCompletedNotOnline) {
    EXPECT_EQ(StatusLabel(DeploymentStatus::kSuccess, true), "Completed");
    EXPECT_EQ(StatusLabel(RailwayStatus::Of(DeploymentStatus::kSuccess), true), "Completed");
    // Only SUCCESS has a "stopped" wording.
    EXPECT_EQ(StatusLabel(DeploymentStatus::kCrashed, true), "Crashed");
}

TEST(DeploymentStatus, EveryOutcomeFollowsFromTheGroups) {
    for (auto status : kAllDeploymentStatuses) {
        SCOPED_TRACE(ToString(status));
        const Outcome outcome = OutcomeOf(status);
        if (IsSucceeded(status)) {
            EXPECT_EQ(outcome, Outcome::kSucceeded);
        }
        if (IsFailed(status)) {
            EXPECT_EQ(outcome, Outcome::kFailed);
        }
        if (IsInProgress(status)) {
            EXPECT_EQ(outcome, Outcome::kUndecided);
        }
        // A verdict is only given on a status that does not change by itself.
        if (outcome != Outcome::kUndecided) {
            EXPECT_TRUE(IsStable(status));
        }
    }
    EXPECT_EQ(ToString(Outcome::kUndecided), "undecided");
    EXPECT_EQ(ToString(Outcome::kSucceeded), "succeeded");
    EXPECT_EQ(ToString(Outcome::kFailed), "failed");
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

// A stall is confirmed against the log only where the deployment's own log shows its work.
TEST(DeploymentStatus, OnlyBuildingAndDeployingShowProgressInTheirLog) {
    for (const DeploymentStatus status : kAllDeploymentStatuses) {
        EXPECT_EQ(LogShowsProgress(status),
                  status == DeploymentStatus::kBuilding || status == DeploymentStatus::kDeploying)
            << ToString(status);
    }
    EXPECT_FALSE(LogShowsProgress(DeploymentStatus::kUnknown));
}

}  // namespace
}  // namespace railwatch::core
