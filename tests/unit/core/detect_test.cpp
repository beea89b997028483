#include "core/detect.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace railwatch::core {
namespace {

using std::chrono::minutes;

const Timestamp kT0 = Timestamp{} + Seconds(1'767'225'600);  // 2026-01-01T00:00:00Z

class StuckPerStatus : public ::testing::TestWithParam<DeploymentStatus> {};

// Every status (and unknown): only pending / in-progress phases (except NEEDS_APPROVAL) can stall.
TEST_P(StuckPerStatus, OnlyMovingPhasesHaveADeadline) {
    const DeploymentStatus status = GetParam();
    const StuckPolicy policy;
    const bool can_stall = IsInProgress(status) && status != DeploymentStatus::kNeedsApproval;
    EXPECT_EQ(StuckDeadline(policy, status).has_value(), can_stall);
    const StuckVerdict verdict = DetectStuck(StuckInput{status, kT0, std::nullopt, false}, policy, kT0 + minutes(60));
    EXPECT_EQ(verdict.stuck, can_stall);
    EXPECT_EQ(verdict.idle, minutes(60));
    EXPECT_EQ(verdict.reason.empty(), !can_stall);
}

INSTANTIATE_TEST_SUITE_P(
    Detect, StuckPerStatus,
    ::testing::Values(DeploymentStatus::kQueued, DeploymentStatus::kWaiting, DeploymentStatus::kNeedsApproval,
                      DeploymentStatus::kInitializing, DeploymentStatus::kBuilding, DeploymentStatus::kDeploying,
                      DeploymentStatus::kSuccess, DeploymentStatus::kFailed, DeploymentStatus::kCrashed,
                      DeploymentStatus::kSleeping, DeploymentStatus::kSkipped, DeploymentStatus::kRemoving,
                      DeploymentStatus::kRemoved, DeploymentStatus::kUnknown),
    [](const auto& info) {
        return std::string(info.param == DeploymentStatus::kUnknown ? "Unknown" : ToString(info.param));
    });

TEST(DetectStuck, TheDeadlineIsExclusive) {
    const StuckPolicy policy;  // 600 s
    const StuckInput in{DeploymentStatus::kDeploying, kT0, std::nullopt, false};
    EXPECT_FALSE(DetectStuck(in, policy, kT0 + Seconds(599)).stuck);
    EXPECT_FALSE(DetectStuck(in, policy, kT0 + Seconds(600)).stuck);
    const StuckVerdict v = DetectStuck(in, policy, kT0 + Seconds(601));
    EXPECT_TRUE(v.stuck);
    EXPECT_EQ(v.deadline, Seconds(600));
    EXPECT_EQ(v.phase, DeploymentStatus::kDeploying);
    EXPECT_NE(v.reason.find("DEPLOYING"), std::string::npos);
    EXPECT_NE(v.reason.find("601"), std::string::npos);
}

TEST(DetectStuck, ProgressWithinThePhaseResetsTheClock) {
    const StuckPolicy policy;
    StuckInput in{DeploymentStatus::kBuilding, kT0, kT0 + minutes(8), false};  // a step event at 8 min
    EXPECT_FALSE(DetectStuck(in, policy, kT0 + minutes(15)).stuck);
    EXPECT_EQ(DetectStuck(in, policy, kT0 + minutes(15)).idle, minutes(7));
    EXPECT_TRUE(DetectStuck(in, policy, kT0 + minutes(19)).stuck);
    in.last_progress_at = kT0 - minutes(5);  // older than the status change: ignored
    EXPECT_EQ(DetectStuck(in, policy, kT0 + minutes(1)).idle, minutes(1));
}

TEST(DetectStuck, PerPhaseDeadlinesOverrideTheDefault) {
    StuckPolicy policy;
    policy.per_phase[DeploymentStatus::kBuilding] = minutes(30);
    policy.per_phase[DeploymentStatus::kNeedsApproval] = minutes(60);
    policy.per_phase[DeploymentStatus::kQueued] = std::nullopt;
    EXPECT_FALSE(DetectStuck(StuckInput{DeploymentStatus::kBuilding, kT0, {}, false}, policy, kT0 + minutes(20)).stuck);
    EXPECT_TRUE(DetectStuck(StuckInput{DeploymentStatus::kBuilding, kT0, {}, false}, policy, kT0 + minutes(31)).stuck);
    EXPECT_TRUE(
        DetectStuck(StuckInput{DeploymentStatus::kNeedsApproval, kT0, {}, false}, policy, kT0 + minutes(61)).stuck);
    EXPECT_FALSE(DetectStuck(StuckInput{DeploymentStatus::kQueued, kT0, {}, false}, policy, kT0 + minutes(600)).stuck);
    EXPECT_TRUE(
        DetectStuck(StuckInput{DeploymentStatus::kInitializing, kT0, {}, false}, policy, kT0 + minutes(11)).stuck);
}

TEST(DetectStuck, APlatformIncidentIsNamedInTheVerdict) {
    const StuckVerdict v =
        DetectStuck(StuckInput{DeploymentStatus::kInitializing, kT0, {}, true}, StuckPolicy{}, kT0 + minutes(20));
    EXPECT_TRUE(v.stuck);
    EXPECT_TRUE(v.platform_suspected);
    EXPECT_NE(v.reason.find("incident"), std::string::npos);
    const StuckVerdict calm =
        DetectStuck(StuckInput{DeploymentStatus::kInitializing, kT0, {}, true}, StuckPolicy{}, kT0 + minutes(2));
    EXPECT_FALSE(calm.platform_suspected);
}

TEST(DetectStuck, FromHistoryUsesTheNewestChange) {
    const std::vector<StatusChange> history = {{kT0 + minutes(3), DeploymentStatus::kBuilding},
                                               {kT0, DeploymentStatus::kInitializing},
                                               {kT0 + minutes(9), DeploymentStatus::kDeploying}};
    const StuckVerdict v = DetectStuck(history, std::nullopt, StuckPolicy{}, kT0 + minutes(20));
    EXPECT_TRUE(v.stuck);
    EXPECT_EQ(v.phase, DeploymentStatus::kDeploying);
    EXPECT_EQ(v.idle, minutes(11));
    EXPECT_FALSE(DetectStuck({}, std::nullopt, StuckPolicy{}, kT0).stuck);
}

// ---- Crash loops

std::vector<StatusChange> CrashEvery(Duration gap, int crashes, Timestamp start) {
    std::vector<StatusChange> h;
    Timestamp t = start;
    for (int i = 0; i < crashes; ++i) {
        h.push_back({t, DeploymentStatus::kSuccess});
        h.push_back({t + gap / 2, DeploymentStatus::kCrashed});
        t += gap;
    }
    return h;
}

TEST(DetectCrashLoop, ThreeCrashesInTenMinutesIsALoop) {
    const auto history = CrashEvery(minutes(3), 3, kT0);  // crashes at 1.5, 4.5, 7.5 min
    const CrashLoopVerdict v = DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(8));
    EXPECT_TRUE(v.looping);
    EXPECT_EQ(v.crashes_in_window, 3);
    EXPECT_EQ(v.first_crash, kT0 + Seconds(90));
    EXPECT_EQ(v.last_crash, kT0 + Seconds(450));
    EXPECT_NE(v.reason.find("3 crashes"), std::string::npos);
}

TEST(DetectCrashLoop, TwoCrashesAreNotALoop) {
    const CrashLoopVerdict v = DetectCrashLoop(CrashEvery(minutes(3), 2, kT0), CrashLoopPolicy{}, kT0 + minutes(8));
    EXPECT_FALSE(v.looping);
    EXPECT_EQ(v.crashes_in_window, 2);
    EXPECT_TRUE(v.reason.empty());
}

TEST(DetectCrashLoop, CrashesOutsideTheWindowDoNotCount) {
    // Crashes every 6 minutes: at most 2 fall into any 10-minute window.
    const auto history = CrashEvery(minutes(6), 5, kT0);
    const CrashLoopVerdict v = DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(30));
    EXPECT_FALSE(v.looping);
    EXPECT_EQ(v.crashes_in_window, 2);
}

TEST(DetectCrashLoop, TheWindowIncludesItsStart) {
    const std::vector<StatusChange> history = {{kT0, DeploymentStatus::kCrashed},
                                               {kT0 + minutes(1), DeploymentStatus::kSuccess},
                                               {kT0 + minutes(5), DeploymentStatus::kCrashed},
                                               {kT0 + minutes(6), DeploymentStatus::kSuccess},
                                               {kT0 + minutes(10), DeploymentStatus::kCrashed}};
    EXPECT_TRUE(DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(10)).looping);
    EXPECT_FALSE(DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(10) + Seconds(1)).looping);
}

TEST(DetectCrashLoop, RepeatedCrashedObservationsAreOneCrash) {
    const std::vector<StatusChange> history = {{kT0, DeploymentStatus::kCrashed},
                                               {kT0 + minutes(1), DeploymentStatus::kCrashed},
                                               {kT0 + minutes(2), DeploymentStatus::kCrashed}};
    EXPECT_EQ(DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(3)).crashes_in_window, 1);
}

TEST(DetectCrashLoop, OrderOfInputAndFutureEntriesDoNotMatter) {
    std::vector<StatusChange> history = CrashEvery(minutes(2), 3, kT0);
    std::reverse(history.begin(), history.end());
    history.push_back({kT0 + minutes(100), DeploymentStatus::kCrashed});  // after now: ignored
    const CrashLoopVerdict v = DetectCrashLoop(history, CrashLoopPolicy{}, kT0 + minutes(6));
    EXPECT_TRUE(v.looping);
    EXPECT_EQ(v.crashes_in_window, 3);
}

TEST(DetectCrashLoop, ThePolicyIsConfigurable) {
    CrashLoopPolicy policy;
    policy.crashes = 5;
    policy.window = minutes(60);
    const auto history = CrashEvery(minutes(6), 5, kT0);
    EXPECT_TRUE(DetectCrashLoop(history, policy, kT0 + minutes(30)).looping);
    policy.crashes = 6;
    EXPECT_FALSE(DetectCrashLoop(history, policy, kT0 + minutes(30)).looping);
}

// ---- Attention

AttentionFacts Deploying(Timestamp since) {
    AttentionFacts f;
    f.status = InstanceStatus::kDeploying;
    f.deployment_status = "DEPLOYING";
    f.created_at = since - minutes(30);
    f.status_entered_at = since;
    return f;
}

TEST(DecideAttention, FlaggedInstancesNeedAttentionWithTheirReason) {
    AttentionFacts f;
    f.status = InstanceStatus::kFailed;
    f.deployment_status = "FAILED";
    f.flagged = true;
    f.flag_reason = "redeploys exhausted";
    const AttentionVerdict v = DecideAttention(f, StuckPolicy{}, kT0, false);
    EXPECT_TRUE(v.needs_attention);
    EXPECT_TRUE(v.flagged);
    EXPECT_FALSE(v.stuck.stuck);
    EXPECT_EQ(v.reason, "redeploys exhausted");
    f.flag_reason.reset();
    EXPECT_EQ(DecideAttention(f, StuckPolicy{}, kT0, false).reason, "flagged");
}

TEST(DecideAttention, StuckIsMeasuredFromWhenTheCurrentStatusBegan) {
    const AttentionFacts f = Deploying(kT0);  // created 30 min earlier: not what counts
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(10), false).needs_attention);
    const AttentionVerdict v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(11), false);
    EXPECT_TRUE(v.needs_attention);
    EXPECT_TRUE(v.stuck.stuck);
    EXPECT_EQ(v.idle_since, kT0);
    EXPECT_EQ(v.reason, v.stuck.reason);
}

// attentionSince: a stall from when its idle time passed the deadline (not the last sign of life,
// which is when the stall began), a flag from when it was set.
TEST(DecideAttention, ItNeedsAttentionSinceItsDeadlinePassedOrItsFlagWasSet) {
    AttentionFacts f = Deploying(kT0);
    f.deployment_updated_at = kT0 + minutes(2);
    AttentionVerdict v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(30), false);
    ASSERT_TRUE(v.stuck.stuck);
    EXPECT_EQ(v.idle_since, kT0 + minutes(2));
    EXPECT_EQ(v.since, kT0 + minutes(12));  // the default deadline: 600 s
    StuckPolicy policy;
    policy.default_deadline = minutes(1);
    EXPECT_EQ(DecideAttention(f, policy, kT0 + minutes(30), false).since, kT0 + minutes(3));
    // Flagged (the engine's own stall check, or a failure's reactions): when the flag was set,
    // however recent the sign of life or however long the stall.
    f.flagged = true;
    f.decided_at = kT0 + minutes(5);
    v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(30), false);
    EXPECT_EQ(v.since, kT0 + minutes(5));
    f.decided_at.reset();  // no decision row kept: the last sign of life
    EXPECT_EQ(DecideAttention(f, StuckPolicy{}, kT0 + minutes(30), false).since, kT0 + minutes(2));
    // Needing none: the last sign of life.
    f.flagged = false;
    v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(5), false);
    EXPECT_FALSE(v.needs_attention);
    EXPECT_EQ(v.since, kT0 + minutes(2));
}

TEST(DecideAttention, WithoutATimelineTheStartThenTheCreationCounts) {
    AttentionFacts f = Deploying(kT0);
    f.status_entered_at.reset();
    f.deployment_started_at = kT0 - minutes(5);
    EXPECT_TRUE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(6), false).stuck.stuck);
    f.deployment_started_at.reset();
    f.created_at = kT0;
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(6), false).stuck.stuck);
}

TEST(DecideAttention, LogLinesAndUpdatesAreSignsOfLife) {
    AttentionFacts f = Deploying(kT0);
    f.last_log_at = kT0 + minutes(8);
    AttentionVerdict v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(15), false);
    EXPECT_FALSE(v.needs_attention);
    EXPECT_EQ(v.idle_since, kT0 + minutes(8));
    f.last_log_at.reset();
    f.deployment_updated_at = kT0 + minutes(9);
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(15), false).needs_attention);
    EXPECT_TRUE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(20), false).needs_attention);
}

TEST(DecideAttention, ThePhaseDeadlineComesFromThePolicy) {
    AttentionFacts f = Deploying(kT0);
    f.deployment_status = "NEEDS_APPROVAL";  // waits for a person: no deadline by default
    f.status = InstanceStatus::kInitializing;
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(600), false).needs_attention);
    StuckPolicy policy;
    policy.per_phase[DeploymentStatus::kNeedsApproval] = minutes(60);
    EXPECT_TRUE(DecideAttention(f, policy, kT0 + minutes(61), false).needs_attention);
}

TEST(DecideAttention, WithoutAKnownDeploymentStatusTheInstanceStatusGivesThePhase) {
    AttentionFacts f = Deploying(kT0);
    f.deployment_status.reset();
    EXPECT_EQ(CurrentPhase(f.deployment_status, f.status), DeploymentStatus::kDeploying);
    EXPECT_TRUE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(11), false).needs_attention);
    f.deployment_status = "SOMETHING_NEW";  // a status Railway added later
    f.status = InstanceStatus::kInitializing;
    EXPECT_EQ(CurrentPhase(f.deployment_status, f.status), DeploymentStatus::kInitializing);
    EXPECT_EQ(CurrentPhase(std::nullopt, InstanceStatus::kRunning), DeploymentStatus::kUnknown);
}

TEST(DecideAttention, SettledInstancesAreNeverStuck) {
    AttentionFacts f = Deploying(kT0);
    f.status = InstanceStatus::kRunning;
    f.deployment_status = "SUCCESS";
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(6000), false).needs_attention);
    f.status = InstanceStatus::kDeleted;
    f.flagged = true;
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(6000), false).needs_attention);
}

TEST(DecideAttention, AStallDuringARailwayIncidentIsNotBlamedOnTheUser) {
    AttentionFacts f = Deploying(kT0);
    const AttentionVerdict v = DecideAttention(f, StuckPolicy{}, kT0 + minutes(20), true);
    EXPECT_TRUE(v.needs_attention);
    EXPECT_TRUE(v.platform_suspected);
    EXPECT_NE(v.reason.find("incident"), std::string::npos);
    f.flagged = true;  // flagged by the monitor for its own reasons: that is not Railway's stall
    EXPECT_FALSE(DecideAttention(f, StuckPolicy{}, kT0 + minutes(20), true).platform_suspected);
    EXPECT_FALSE(DecideAttention(Deploying(kT0), StuckPolicy{}, kT0 + minutes(20), false).platform_suspected);
}

}  // namespace
}  // namespace railwatch::core
