#include "core/check_decision.hpp"

#include <gtest/gtest.h>

namespace railwatch::core {
namespace {

Timestamp T(long long s) {
    return Timestamp(std::chrono::seconds(1'767'225'600 + s));  // 2026-01-01T00:00:00Z + s
}

// The ids are views (StoredCheckState): literals here.
ObservedDeployment Observed(std::string_view id, const std::string& status,
                            std::optional<Timestamp> at = std::nullopt) {
    ObservedDeployment d;
    d.id = id;
    d.status = RailwayStatus::Parse(status);
    d.created_at = T(0);
    d.status_updated_at = at;
    d.updated_at = at;
    return d;
}

StoredCheckState Stored(std::string_view id, std::optional<std::string> status, InstanceStatus instance_status) {
    StoredCheckState s;
    s.deployment_id = id;
    s.deployment_status = std::move(status);
    s.status = instance_status;
    s.deployment_started_at = T(0);
    s.deployment_updated_at = T(0);
    return s;
}

TEST(CheckDecision, FirstAnswerIsATransitionFromNothing) {
    const auto d = DecideOnAnswer(Stored("d1", std::nullopt, InstanceStatus::kInitializing),
                                  Observed("d1", "BUILDING", T(5)), {}, T(6));
    EXPECT_EQ(d.verdict, CheckVerdict::kTransition);
    EXPECT_FALSE(d.from_status.has_value());
    EXPECT_EQ(d.to_status, "BUILDING");
    EXPECT_EQ(d.status, InstanceStatus::kDeploying);
    EXPECT_EQ(d.at, T(5));  // Railway's statusUpdatedAt: a replay records the same row
    EXPECT_EQ(d.progress, 40);
    EXPECT_TRUE(d.follow_up.collect_logs);
    EXPECT_EQ(d.interval_status, DeploymentStatus::kBuilding);
}

TEST(CheckDecision, SameStatusIsUnchanged) {
    const auto d = DecideOnAnswer(Stored("d1", "BUILDING", InstanceStatus::kDeploying),
                                  Observed("d1", "BUILDING", T(5)), {}, T(60));
    EXPECT_EQ(d.verdict, CheckVerdict::kUnchanged);
    EXPECT_EQ(d.interval_status, DeploymentStatus::kBuilding);
}

TEST(CheckDecision, SuccessMakesTheInstanceRunningWithItsCompletionTimeAndClearsErrors) {
    const auto d = DecideOnAnswer(Stored("d1", "DEPLOYING", InstanceStatus::kDeploying),
                                  Observed("d1", "SUCCESS", T(90)), {}, T(95));
    EXPECT_EQ(d.verdict, CheckVerdict::kTransition);
    EXPECT_EQ(d.from_status, "DEPLOYING");
    EXPECT_EQ(d.status, InstanceStatus::kRunning);
    EXPECT_EQ(d.completed_at, T(90));
    EXPECT_EQ(d.progress, 100);
    EXPECT_TRUE(d.clear_error);
    EXPECT_FALSE(d.follow_up.classify_failure);
}

TEST(CheckDecision, FailedAndCrashedMakeTheInstanceFailedAndAskForClassification) {
    for (const char* status : {"FAILED", "CRASHED"}) {
        const auto d = DecideOnAnswer(Stored("d1", "BUILDING", InstanceStatus::kDeploying),
                                      Observed("d1", status, T(30)), {}, T(31));
        EXPECT_EQ(d.verdict, CheckVerdict::kTransition) << status;
        EXPECT_EQ(d.status, InstanceStatus::kFailed) << status;
        EXPECT_TRUE(d.follow_up.classify_failure) << status;
        ASSERT_TRUE(d.error_message.has_value());
        EXPECT_NE(d.error_message->find(status), std::string::npos);
    }
    EXPECT_TRUE(DecideOnAnswer(Stored("d1", "SUCCESS", InstanceStatus::kRunning), Observed("d1", "CRASHED"), {}, T(1))
                    .follow_up.crash_check);
}

TEST(CheckDecision, RemovedDeploymentLooksForTheServicesNewerOne) {
    const auto d =
        DecideOnAnswer(Stored("d1", "SUCCESS", InstanceStatus::kRunning), Observed("d1", "REMOVED"), {}, T(100));
    EXPECT_EQ(d.verdict, CheckVerdict::kTransition);
    EXPECT_TRUE(d.follow_up.discover_latest);
    EXPECT_EQ(d.at, T(100));  // no statusUpdatedAt: now
}

TEST(CheckDecision, UnknownStatusKeepsTheInstanceStatusButIsRecorded) {
    const auto d =
        DecideOnAnswer(Stored("d1", "BUILDING", InstanceStatus::kDeploying), Observed("d1", "TELEPORTING"), {}, T(10));
    EXPECT_EQ(d.verdict, CheckVerdict::kTransition);
    EXPECT_EQ(d.to_status, "TELEPORTING");
    EXPECT_EQ(d.status, InstanceStatus::kDeploying);
}

TEST(CheckDecision, ANewDeploymentStartsOverFromThePreviousStatus) {
    StoredCheckState stored = Stored("d1", "FAILED", InstanceStatus::kFailed);
    stored.progress = 0;
    stored.deployment_completed_at = T(20);
    const auto d = DecideOnAnswer(stored, Observed("d2", "INITIALIZING", T(50)), {}, T(51));
    EXPECT_EQ(d.verdict, CheckVerdict::kTransition);
    EXPECT_EQ(d.from_status, "FAILED");
    EXPECT_EQ(d.status, InstanceStatus::kInitializing);
    EXPECT_FALSE(d.completed_at.has_value());
}

TEST(CheckDecision, StuckInProgressAsksForAttentionOnce) {
    CheckSettings settings;
    settings.stuck.default_deadline = Seconds(600);
    settings.timeout_after = Seconds(3600);
    StoredCheckState stored = Stored("d1", "INITIALIZING", InstanceStatus::kInitializing);
    const auto d = DecideOnAnswer(stored, Observed("d1", "INITIALIZING"), settings, T(700));
    EXPECT_EQ(d.verdict, CheckVerdict::kAttention);
    EXPECT_FALSE(d.timed_out);  // stuck, not over the limit: told as a stall
    EXPECT_TRUE(IsStall(d));
    EXPECT_FALSE(d.reason.empty());
    stored.needs_attention = true;
    EXPECT_EQ(DecideOnAnswer(stored, Observed("d1", "INITIALIZING"), settings, T(800)).verdict,
              CheckVerdict::kUnchanged);
}

// BUILDING and DEPLOYING show their progress in their log, which Railway's updatedAt may not
// follow: a stall there is confirmed against the log first (kConfirmStall), except while Railway
// reports an incident (flagged at once, as likely theirs).
TEST(CheckDecision, AStallInAPhaseThatLogsIsConfirmedAgainstItsLogFirst) {
    CheckSettings settings;
    settings.stuck.default_deadline = Seconds(600);
    settings.timeout_after = Seconds(3600);
    for (const char* phase : {"BUILDING", "DEPLOYING"}) {
        const StoredCheckState stored = Stored("d1", phase, InstanceStatus::kDeploying);
        const auto calm = DecideOnAnswer(stored, Observed("d1", phase), settings, T(700));
        EXPECT_EQ(calm.verdict, CheckVerdict::kConfirmStall) << phase;
        EXPECT_TRUE(IsStall(calm)) << phase;
        EXPECT_EQ(DecideOnAnswer(stored, Observed("d1", phase), settings, T(700), true).verdict,
                  CheckVerdict::kAttention)
            << phase;
        EXPECT_EQ(DecideOnAnswer(stored, Observed("d1", phase), settings, T(100)).verdict, CheckVerdict::kUnchanged)
            << phase;
    }
    const auto timed_out = DecideOnAnswer(Stored("d1", "BUILDING", InstanceStatus::kDeploying),
                                          Observed("d1", "BUILDING"), settings, T(3700));
    EXPECT_EQ(timed_out.verdict, CheckVerdict::kAttention);  // a timeout needs no log to be told
    EXPECT_FALSE(IsStall(timed_out));
}

TEST(CheckDecision, AStallDuringARailwayIncidentIsMarkedAsLikelyRailways) {
    CheckSettings settings;
    settings.stuck.default_deadline = Seconds(600);
    settings.timeout_after = Seconds(3600);
    const StoredCheckState stored = Stored("d1", "BUILDING", InstanceStatus::kDeploying);
    const auto calm = DecideOnAnswer(stored, Observed("d1", "BUILDING"), settings, T(700), false);
    EXPECT_FALSE(calm.platform_suspected);
    EXPECT_EQ(calm.reason.find("Railway"), std::string::npos);
    const auto incident = DecideOnAnswer(stored, Observed("d1", "BUILDING"), settings, T(700), true);
    EXPECT_EQ(incident.verdict, CheckVerdict::kAttention);
    EXPECT_TRUE(incident.platform_suspected);
    EXPECT_NE(incident.reason.find("likely theirs"), std::string::npos) << incident.reason;
    // An incident does not make anything stuck that is not.
    EXPECT_EQ(DecideOnAnswer(stored, Observed("d1", "BUILDING"), settings, T(100), true).verdict,
              CheckVerdict::kUnchanged);
}

TEST(CheckDecision, RunningPastTheTimeoutAsksForAttention) {
    CheckSettings settings;
    settings.timeout_after = Seconds(300);
    StoredCheckState stored = Stored("d1", "BUILDING", InstanceStatus::kDeploying);
    stored.deployment_updated_at = T(250);
    const auto d = DecideOnAnswer(stored, Observed("d1", "BUILDING", T(250)), settings, T(301));
    EXPECT_EQ(d.verdict, CheckVerdict::kAttention);
    EXPECT_TRUE(d.timed_out);  // told as a timeout notice
    EXPECT_NE(d.reason.find("limit"), std::string::npos);
}

TEST(CheckDecision, StableStatusIsNeverStuck) {
    const auto d =
        DecideOnAnswer(Stored("d1", "SUCCESS", InstanceStatus::kRunning), Observed("d1", "SUCCESS"), {}, T(100000));
    EXPECT_EQ(d.verdict, CheckVerdict::kUnchanged);
}

TEST(CheckDecision, NotFoundEndsMonitoringWithRailwaysMessage) {
    const auto d = DecideOnError(Stored("d1", "BUILDING", InstanceStatus::kDeploying),
                                 ObservedError{true, "Deployment not found (Railway traceId 123)"}, T(1));
    EXPECT_EQ(d.verdict, CheckVerdict::kEnded);
    EXPECT_NE(d.reason.find("traceId 123"), std::string::npos);
    EXPECT_NE(d.reason.find("d1"), std::string::npos);
}

TEST(CheckDecision, OtherErrorsChangeNothing) {
    const auto d =
        DecideOnError(Stored("d1", "BUILDING", InstanceStatus::kDeploying), ObservedError{false, "503"}, T(1));
    EXPECT_EQ(d.verdict, CheckVerdict::kRetry);
    EXPECT_EQ(d.interval_status, DeploymentStatus::kBuilding);
}

}  // namespace
}  // namespace railwatch::core
