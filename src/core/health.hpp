#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/detect.hpp"
#include "core/time.hpp"

/// Instance health: HEALTHY / DEGRADED / UNHEALTHY / UNKNOWN from the instance status, the
/// deployment status, the replicas' statuses, HTTP probe results with consecutive-failure and
/// consecutive-success thresholds (like Kubernetes probes and Gatus), and crash loops.
///
///   UpdateProbe(state, result, policy)     -> the probe state after one more probe result
///   EvaluateHealth(input, policy, now)     -> Health{status, reasons, uptime, last_checked_at}
///
/// The worst finding wins (UNHEALTHY > DEGRADED > HEALTHY); UNKNOWN when there is no basis for a
/// verdict (no deployment status yet, an unknown status, or a deployment still in progress).
/// Uptime is measured from when the deployment became active (SUCCESS), not from the instance's
/// creation. Pure and thread-safe.
namespace railwatch::core {

enum class HealthStatus { kHealthy, kDegraded, kUnhealthy, kUnknown };

/// "HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN".
std::string_view ToString(HealthStatus status);

/// Railway's `DeploymentInstanceStatus` (a replica's status), plus kUnknown.
enum class ReplicaStatus {
    kCreated,
    kInitializing,
    kRunning,
    kRestarting,
    kCrashed,
    kExited,
    kStopped,
    kSkipped,
    kRemoving,
    kRemoved,
    kUnknown,
};

std::string_view ToString(ReplicaStatus status);
/// Railway's spelling; anything else is kUnknown.
ReplicaStatus ParseReplicaStatus(std::string_view text);

/// One HTTP probe of the service's public URL.
struct ProbeResult {
    Timestamp at{};
    bool ok = false;      ///< a 2xx (or the configured expectation) arrived in time
    int http_status = 0;  ///< 0 when no answer arrived
    Duration latency{};
    std::string error;  ///< e.g. "timeout", "HTTP 502"
};

enum class ProbeVerdict {
    kUnknown,  ///< not enough results yet
    kPassing,
    kFailing,
};

/// The probe's memory between checks (store it with the instance).
struct ProbeState {
    ProbeVerdict verdict = ProbeVerdict::kUnknown;
    int consecutive_failures = 0;
    int consecutive_successes = 0;
    std::optional<ProbeResult> last;
};

struct HealthPolicy {
    int failure_threshold = 3;             ///< consecutive failures before FAILING (UNHEALTHY)
    int success_threshold = 2;             ///< consecutive successes before FAILING recovers
    Duration slow_threshold = Seconds(2);  ///< a successful probe slower than this is DEGRADED
};

/// Applies one probe result. A passing probe turns failing after `failure_threshold` failures in a
/// row; a failing one recovers after `success_threshold` successes in a row. From kUnknown the
/// first success passes (there is nothing to recover from) and `failure_threshold` failures fail.
ProbeState UpdateProbe(ProbeState state, const ProbeResult& result, const HealthPolicy& policy);

struct HealthInput {
    std::optional<InstanceStatus> instance_status;      ///< railwatch's instance status, if any
    std::optional<DeploymentStatus> deployment_status;  ///< nullopt before the first check
    bool deployment_stopped = false;           ///< Railway's deploymentStopped: SUCCESS and the process exited 0
    std::vector<ReplicaStatus> replicas;       ///< Deployment.instances[].status
    std::optional<ProbeState> probe;           ///< nullopt when the service is not probed
    CrashLoopVerdict crash_loop;               ///< from DetectCrashLoop
    std::optional<Timestamp> active_since;     ///< when the deployment became SUCCESS
    std::optional<Timestamp> last_checked_at;  ///< when railwatch last checked the deployment
};

struct Health {
    HealthStatus status = HealthStatus::kUnknown;
    std::vector<std::string> reasons;  ///< why, in words a person can act on; never empty
    Duration uptime{};                 ///< since active_since while the deployment serves, else 0
    std::optional<Timestamp> last_checked_at;
};

Health EvaluateHealth(const HealthInput& input, const HealthPolicy& policy, Timestamp now);

}  // namespace railwatch::core
