#include "core/health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace railwatch::core {
namespace {

struct ReplicaName {
    ReplicaStatus status;
    std::string_view name;
};

constexpr std::array<ReplicaName, 10> kReplicaNames = {{
    {ReplicaStatus::kCreated, "CREATED"},
    {ReplicaStatus::kInitializing, "INITIALIZING"},
    {ReplicaStatus::kRunning, "RUNNING"},
    {ReplicaStatus::kRestarting, "RESTARTING"},
    {ReplicaStatus::kCrashed, "CRASHED"},
    {ReplicaStatus::kExited, "EXITED"},
    {ReplicaStatus::kStopped, "STOPPED"},
    {ReplicaStatus::kSkipped, "SKIPPED"},
    {ReplicaStatus::kRemoving, "REMOVING"},
    {ReplicaStatus::kRemoved, "REMOVED"},
}};

int Severity(HealthStatus status) {
    switch (status) {
        case HealthStatus::kHealthy:
            return 1;
        case HealthStatus::kDegraded:
            return 2;
        case HealthStatus::kUnhealthy:
            return 3;
        case HealthStatus::kUnknown:
            break;
    }
    return 0;
}

// Collects findings; the worst one decides.
struct Findings {
    HealthStatus status = HealthStatus::kUnknown;
    std::vector<std::string> reasons;

    void Add(HealthStatus s, std::string reason) {
        if (Severity(s) > Severity(status)) status = s;
        reasons.push_back(std::move(reason));
    }
};

void JudgeReplicas(const std::vector<ReplicaStatus>& replicas, Findings& f) {
    // Like Railway's CLI: replicas being removed do not count.
    int counted = 0, running = 0, troubled = 0, starting = 0;
    for (ReplicaStatus r : replicas) {
        switch (r) {
            case ReplicaStatus::kRemoving:
            case ReplicaStatus::kRemoved:
            case ReplicaStatus::kSkipped:
                continue;
            case ReplicaStatus::kRunning:
                ++running;
                break;
            case ReplicaStatus::kCrashed:
            case ReplicaStatus::kExited:
            case ReplicaStatus::kRestarting:
            case ReplicaStatus::kStopped:
                ++troubled;
                break;
            case ReplicaStatus::kCreated:
            case ReplicaStatus::kInitializing:
            case ReplicaStatus::kUnknown:
                ++starting;
                break;
        }
        ++counted;
    }
    if (counted == 0) return;
    if (running == 0 && troubled > 0) {
        f.Add(HealthStatus::kUnhealthy,
              fmt::format("no replica is running ({} of {} crashed, exited or restarting)", troubled, counted));
    } else if (troubled > 0) {
        f.Add(HealthStatus::kDegraded,
              fmt::format("{} of {} replicas crashed, exited or restarting", troubled, counted));
    } else if (running == 0) {
        f.Add(HealthStatus::kDegraded, fmt::format("no replica is running yet ({} starting)", starting));
    }
}

void JudgeProbe(const ProbeState& probe, const HealthPolicy& policy, Findings& f) {
    switch (probe.verdict) {
        case ProbeVerdict::kFailing:
            f.Add(HealthStatus::kUnhealthy,
                  fmt::format("HTTP probe failing ({} failures in a row{}{})", probe.consecutive_failures,
                              probe.last && !probe.last->error.empty() ? ", last: " : "",
                              probe.last ? probe.last->error : std::string()));
            return;
        case ProbeVerdict::kPassing:
            if (probe.consecutive_failures > 0) {
                f.Add(HealthStatus::kDegraded, fmt::format("HTTP probe failed {} time(s) in a row (unhealthy after {})",
                                                           probe.consecutive_failures, policy.failure_threshold));
            } else if (probe.last && probe.last->latency > policy.slow_threshold) {
                f.Add(
                    HealthStatus::kDegraded,
                    fmt::format("HTTP probe slow: {} ms (threshold {} ms)",
                                std::chrono::duration_cast<std::chrono::milliseconds>(probe.last->latency).count(),
                                std::chrono::duration_cast<std::chrono::milliseconds>(policy.slow_threshold).count()));
            }
            return;
        case ProbeVerdict::kUnknown:
            if (probe.consecutive_failures > 0) {
                f.Add(HealthStatus::kDegraded,
                      fmt::format("HTTP probe failed {} time(s), no success yet", probe.consecutive_failures));
            }
            return;
    }
}

}  // namespace

std::string_view ToString(HealthStatus status) {
    switch (status) {
        case HealthStatus::kHealthy:
            return "HEALTHY";
        case HealthStatus::kDegraded:
            return "DEGRADED";
        case HealthStatus::kUnhealthy:
            return "UNHEALTHY";
        case HealthStatus::kUnknown:
            break;
    }
    return "UNKNOWN";
}

std::string_view ToString(ReplicaStatus status) {
    for (const auto& entry : kReplicaNames) {
        if (entry.status == status) return entry.name;
    }
    return "UNKNOWN";
}

ReplicaStatus ParseReplicaStatus(std::string_view text) {
    for (const auto& entry : kReplicaNames) {
        if (entry.name == text) return entry.status;
    }
    return ReplicaStatus::kUnknown;
}

ProbeState UpdateProbe(ProbeState state, const ProbeResult& result, const HealthPolicy& policy) {
    if (result.ok) {
        ++state.consecutive_successes;
        state.consecutive_failures = 0;
        const int needed = state.verdict == ProbeVerdict::kFailing ? std::max(policy.success_threshold, 1) : 1;
        if (state.consecutive_successes >= needed) state.verdict = ProbeVerdict::kPassing;
    } else {
        ++state.consecutive_failures;
        state.consecutive_successes = 0;
        if (state.consecutive_failures >= std::max(policy.failure_threshold, 1)) state.verdict = ProbeVerdict::kFailing;
    }
    state.last = result;
    return state;
}

Health EvaluateHealth(const HealthInput& input, const HealthPolicy& policy, Timestamp now) {
    Health out;
    out.last_checked_at = input.last_checked_at;
    Findings f;

    // Note: the seed reports any instance older than 24 h as DEGRADED. We do not: age is not a
    // symptom. A service that has run for a month is, if anything, evidence of stability; marking
    // it DEGRADED would make every long-lived instance alert daily and teach people to ignore the
    // status. Health comes from what the service does now (status, replicas, probes, crashes).
    if (input.instance_status == InstanceStatus::kDeleted) {
        f.Add(HealthStatus::kUnhealthy, "the instance is deleted");
    } else if (input.instance_status == InstanceStatus::kFailed && !input.deployment_status) {
        f.Add(HealthStatus::kUnhealthy, "the instance failed");
    }

    const std::optional<DeploymentStatus> status = input.deployment_status;
    bool serving = false;
    if (!status) {
        if (f.reasons.empty()) f.Add(HealthStatus::kUnknown, "the deployment has not been checked yet");
    } else {
        switch (GroupOf(*status)) {
            case StatusGroup::kPending:
            case StatusGroup::kInProgress:
                f.Add(
                    HealthStatus::kUnknown,
                    fmt::format("deployment in progress ({}); health is judged once it is active", ToString(*status)));
                break;
            case StatusGroup::kSucceeded:
                serving = true;
                if (*status == DeploymentStatus::kSleeping) {
                    f.Add(HealthStatus::kHealthy, "asleep (serverless); it wakes on the next request");
                } else if (input.deployment_stopped) {
                    f.Add(HealthStatus::kHealthy, "completed: the process exited successfully");
                } else {
                    f.Add(HealthStatus::kHealthy, "deployment active");
                }
                break;
            case StatusGroup::kFailed:
                if (*status == DeploymentStatus::kCrashed) {
                    // Railway's CLI still calls a CRASHED deployment online while a replica runs.
                    const bool any_running = std::find(input.replicas.begin(), input.replicas.end(),
                                                       ReplicaStatus::kRunning) != input.replicas.end();
                    if (any_running) {
                        serving = true;
                        f.Add(HealthStatus::kDegraded, "the deployment crashed but a replica is still running");
                    } else {
                        f.Add(HealthStatus::kUnhealthy, "the deployment crashed");
                    }
                } else {
                    f.Add(HealthStatus::kUnhealthy, "the deployment failed");
                }
                break;
            case StatusGroup::kInactive:
                f.Add(HealthStatus::kUnhealthy,
                      fmt::format("the deployment does not serve traffic ({})", ToString(*status)));
                break;
            case StatusGroup::kUnknown:
                f.Add(HealthStatus::kUnknown, "Railway reported a status railwatch does not know");
                break;
        }
    }

    if (serving) {
        if (*status == DeploymentStatus::kSuccess && !input.deployment_stopped) JudgeReplicas(input.replicas, f);
        if (input.probe) JudgeProbe(*input.probe, policy, f);
        if (input.active_since && *input.active_since <= now) out.uptime = now - *input.active_since;
    }
    if (input.crash_loop.looping) {
        f.Add(HealthStatus::kUnhealthy,
              input.crash_loop.reason.empty() ? std::string("crash loop") : input.crash_loop.reason);
    }

    out.status = f.status;
    out.reasons = std::move(f.reasons);
    return out;
}

}  // namespace railwatch::core
