#include "core/health.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace railwatch::core {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

const Timestamp kT0 = Timestamp{} + Seconds(1'767'225'600);  // 2026-01-01T00:00:00Z

bool HasReason(const Health& h, const std::string& word) {
    for (const std::string& r : h.reasons) {
        if (r.find(word) != std::string::npos) return true;
    }
    return false;
}

HealthInput Active() {
    HealthInput in;
    in.instance_status = InstanceStatus::kRunning;
    in.deployment_status = DeploymentStatus::kSuccess;
    in.active_since = kT0;
    in.last_checked_at = kT0 + minutes(59);
    return in;
}

struct StatusHealthRow {
    DeploymentStatus status;
    HealthStatus expected;
};

void PrintTo(const StatusHealthRow& r, std::ostream* os) {
    *os << ToString(r.status);
}

class HealthPerStatus : public ::testing::TestWithParam<StatusHealthRow> {};

TEST_P(HealthPerStatus, EveryDeploymentStatusHasAVerdictWithAReason) {
    HealthInput in;
    in.deployment_status = GetParam().status;
    const Health h = EvaluateHealth(in, HealthPolicy{}, kT0);
    EXPECT_EQ(h.status, GetParam().expected);
    EXPECT_FALSE(h.reasons.empty());
}

INSTANTIATE_TEST_SUITE_P(Health, HealthPerStatus,
                         ::testing::Values(StatusHealthRow{DeploymentStatus::kQueued, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kWaiting, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kNeedsApproval, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kInitializing, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kBuilding, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kDeploying, HealthStatus::kUnknown},
                                           StatusHealthRow{DeploymentStatus::kSuccess, HealthStatus::kHealthy},
                                           StatusHealthRow{DeploymentStatus::kFailed, HealthStatus::kUnhealthy},
                                           StatusHealthRow{DeploymentStatus::kCrashed, HealthStatus::kUnhealthy},
                                           StatusHealthRow{DeploymentStatus::kSleeping, HealthStatus::kHealthy},
                                           StatusHealthRow{DeploymentStatus::kSkipped, HealthStatus::kUnhealthy},
                                           StatusHealthRow{DeploymentStatus::kRemoving, HealthStatus::kUnhealthy},
                                           StatusHealthRow{DeploymentStatus::kRemoved, HealthStatus::kUnhealthy},
                                           StatusHealthRow{DeploymentStatus::kUnknown, HealthStatus::kUnknown}),
                         [](const auto& info) {
                             return std::string(info.param.status == DeploymentStatus::kUnknown
                                                    ? "Unknown"
                                                    : ToString(info.param.status));
                         });

TEST(Health, NotCheckedYetIsUnknown) {
    const Health h = EvaluateHealth(HealthInput{}, HealthPolicy{}, kT0);
    EXPECT_EQ(h.status, HealthStatus::kUnknown);
    EXPECT_TRUE(HasReason(h, "not been checked"));
}

TEST(Health, DeletedOrFailedInstanceIsUnhealthy) {
    HealthInput deleted = Active();
    deleted.instance_status = InstanceStatus::kDeleted;
    EXPECT_EQ(EvaluateHealth(deleted, HealthPolicy{}, kT0).status, HealthStatus::kUnhealthy);
    HealthInput failed;
    failed.instance_status = InstanceStatus::kFailed;
    EXPECT_EQ(EvaluateHealth(failed, HealthPolicy{}, kT0).status, HealthStatus::kUnhealthy);
}

TEST(Health, UptimeCountsFromActivationAndLastCheckedIsPassedThrough) {
    const Health h = EvaluateHealth(Active(), HealthPolicy{}, kT0 + hours(2));
    EXPECT_EQ(h.status, HealthStatus::kHealthy);
    EXPECT_EQ(h.uptime, hours(2));
    EXPECT_EQ(h.last_checked_at, kT0 + minutes(59));
    HealthInput future = Active();
    future.active_since = kT0 + hours(5);
    EXPECT_EQ(EvaluateHealth(future, HealthPolicy{}, kT0).uptime, Duration::zero());
}

TEST(Health, OldAgeAloneIsNotDegraded) {
    // The seed calls anything older than 24 h DEGRADED; we do not.
    const Health h = EvaluateHealth(Active(), HealthPolicy{}, kT0 + hours(24 * 40));
    EXPECT_EQ(h.status, HealthStatus::kHealthy);
    EXPECT_EQ(h.uptime, hours(24 * 40));
}

TEST(Health, NoUptimeWhileNotServing) {
    HealthInput in = Active();
    in.deployment_status = DeploymentStatus::kFailed;
    EXPECT_EQ(EvaluateHealth(in, HealthPolicy{}, kT0 + hours(1)).uptime, Duration::zero());
}

TEST(Health, ReplicaTroubleDegradesAndNoRunningReplicaIsUnhealthy) {
    HealthInput in = Active();
    in.replicas = {ReplicaStatus::kRunning, ReplicaStatus::kRunning, ReplicaStatus::kRemoved};
    EXPECT_EQ(EvaluateHealth(in, HealthPolicy{}, kT0).status, HealthStatus::kHealthy);
    in.replicas = {ReplicaStatus::kRunning, ReplicaStatus::kRestarting, ReplicaStatus::kCrashed};
    Health h = EvaluateHealth(in, HealthPolicy{}, kT0);
    EXPECT_EQ(h.status, HealthStatus::kDegraded);
    EXPECT_TRUE(HasReason(h, "2 of 3 replicas"));
    in.replicas = {ReplicaStatus::kExited, ReplicaStatus::kCrashed, ReplicaStatus::kRemoving};
    h = EvaluateHealth(in, HealthPolicy{}, kT0);
    EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
    EXPECT_TRUE(HasReason(h, "no replica is running"));
    in.replicas = {ReplicaStatus::kCreated, ReplicaStatus::kInitializing};
    EXPECT_EQ(EvaluateHealth(in, HealthPolicy{}, kT0).status, HealthStatus::kDegraded);
}

TEST(Health, CrashedWithARunningReplicaIsDegradedNotDown) {
    HealthInput in = Active();
    in.deployment_status = DeploymentStatus::kCrashed;
    in.replicas = {ReplicaStatus::kRunning, ReplicaStatus::kCrashed};
    const Health h = EvaluateHealth(in, HealthPolicy{}, kT0 + hours(1));
    EXPECT_EQ(h.status, HealthStatus::kDegraded);
    EXPECT_EQ(h.uptime, hours(1));
}

TEST(Health, StoppedSuccessfulDeploymentIsCompletedAndHealthy) {
    HealthInput in = Active();
    in.deployment_stopped = true;
    in.replicas = {ReplicaStatus::kExited};
    const Health h = EvaluateHealth(in, HealthPolicy{}, kT0);
    EXPECT_EQ(h.status, HealthStatus::kHealthy);
    EXPECT_TRUE(HasReason(h, "completed"));
}

TEST(Health, CrashLoopIsUnhealthyEvenWhileActive) {
    HealthInput in = Active();
    in.crash_loop = CrashLoopVerdict{true, 4, kT0, kT0 + minutes(8), "crash loop: 4 crashes within 600 s"};
    const Health h = EvaluateHealth(in, HealthPolicy{}, kT0 + minutes(9));
    EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
    EXPECT_TRUE(HasReason(h, "crash loop"));
}

// ---- Probes

ProbeResult Ok(Timestamp at, Duration latency = milliseconds(80)) {
    return ProbeResult{at, true, 200, latency, ""};
}
ProbeResult Bad(Timestamp at) {
    return ProbeResult{at, false, 502, milliseconds(30), "HTTP 502"};
}

TEST(UpdateProbe, ThreeFailuresInARowToFailTwoSuccessesToRecover) {
    const HealthPolicy policy;
    ProbeState s;
    s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kPassing);
    s = UpdateProbe(s, Bad(kT0), policy);
    s = UpdateProbe(s, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kPassing);
    EXPECT_EQ(s.consecutive_failures, 2);
    s = UpdateProbe(s, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kPassing);
    EXPECT_EQ(s.consecutive_successes, 2);
    EXPECT_EQ(s.consecutive_failures, 0);
}

TEST(UpdateProbe, AFailureInterruptsRecovery) {
    const HealthPolicy policy;
    ProbeState s;
    for (int i = 0; i < 3; ++i)
        s = UpdateProbe(s, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    s = UpdateProbe(s, Ok(kT0), policy);
    s = UpdateProbe(s, Bad(kT0), policy);
    s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    ASSERT_TRUE(s.last);
    EXPECT_TRUE(s.last->ok);
}

TEST(UpdateProbe, UnknownStaysUnknownUntilAThresholdIsMet) {
    const HealthPolicy policy;
    ProbeState s;
    s = UpdateProbe(s, Bad(kT0), policy);
    s = UpdateProbe(s, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kUnknown);
    s = UpdateProbe(s, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
}

TEST(UpdateProbe, ThresholdsAreConfigurable) {
    HealthPolicy policy;
    policy.failure_threshold = 1;
    policy.success_threshold = 4;
    ProbeState s = UpdateProbe(ProbeState{}, Bad(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    for (int i = 0; i < 3; ++i)
        s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kFailing);
    s = UpdateProbe(s, Ok(kT0), policy);
    EXPECT_EQ(s.verdict, ProbeVerdict::kPassing);
}

TEST(Health, ProbeVerdictsDriveHealthWhileActive) {
    const HealthPolicy policy;
    HealthInput in = Active();
    ProbeState s = UpdateProbe(ProbeState{}, Ok(kT0), policy);
    in.probe = s;
    EXPECT_EQ(EvaluateHealth(in, policy, kT0).status, HealthStatus::kHealthy);

    s = UpdateProbe(s, Bad(kT0), policy);  // one failure: not yet unhealthy, but worth saying
    in.probe = s;
    Health h = EvaluateHealth(in, policy, kT0);
    EXPECT_EQ(h.status, HealthStatus::kDegraded);
    EXPECT_TRUE(HasReason(h, "unhealthy after 3"));

    s = UpdateProbe(UpdateProbe(s, Bad(kT0), policy), Bad(kT0), policy);
    in.probe = s;
    h = EvaluateHealth(in, policy, kT0);
    EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
    EXPECT_TRUE(HasReason(h, "HTTP 502"));
}

TEST(Health, SlowAnswersDegrade) {
    const HealthPolicy policy;  // 2 s
    HealthInput in = Active();
    in.probe = UpdateProbe(ProbeState{}, Ok(kT0, milliseconds(2500)), policy);
    const Health h = EvaluateHealth(in, policy, kT0);
    EXPECT_EQ(h.status, HealthStatus::kDegraded);
    EXPECT_TRUE(HasReason(h, "2500 ms"));
    in.probe = UpdateProbe(ProbeState{}, Ok(kT0, milliseconds(1999)), policy);
    EXPECT_EQ(EvaluateHealth(in, policy, kT0).status, HealthStatus::kHealthy);
}

TEST(Health, ProbesAreIgnoredWhileTheDeploymentIsNotServing) {
    HealthInput in;
    in.deployment_status = DeploymentStatus::kBuilding;
    ProbeState failing;
    failing.verdict = ProbeVerdict::kFailing;
    failing.consecutive_failures = 5;
    in.probe = failing;
    EXPECT_EQ(EvaluateHealth(in, HealthPolicy{}, kT0).status, HealthStatus::kUnknown);
}

TEST(ReplicaStatus, ParsesRailwaysTenValuesAndUnknown) {
    for (const char* name : {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "CRASHED", "EXITED", "STOPPED",
                             "SKIPPED", "REMOVING", "REMOVED"}) {
        const ReplicaStatus s = ParseReplicaStatus(name);
        EXPECT_NE(s, ReplicaStatus::kUnknown) << name;
        EXPECT_EQ(ToString(s), name);
    }
    EXPECT_EQ(ParseReplicaStatus("HIBERNATING"), ReplicaStatus::kUnknown);
    EXPECT_EQ(ToString(ReplicaStatus::kUnknown), "UNKNOWN");
}

TEST(HealthStatus, HasTheSeedsNames) {
    EXPECT_EQ(ToString(HealthStatus::kHealthy), "HEALTHY");
    EXPECT_EQ(ToString(HealthStatus::kDegraded), "DEGRADED");
    EXPECT_EQ(ToString(HealthStatus::kUnhealthy), "UNHEALTHY");
    EXPECT_EQ(ToString(HealthStatus::kUnknown), "UNKNOWN");
}

}  // namespace
}  // namespace railwatch::core
