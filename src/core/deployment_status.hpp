#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

/// Railway's deployment statuses and the instance status railwatch derives from them.
/// The mapping is documented as a table in docs/STATUSES.md; keep the two in step.
namespace railwatch::core {

/// Railway's `DeploymentStatus` (13 values in the public schema) plus kUnknown for values the
/// schema may gain later. Pure data: no I/O.
enum class DeploymentStatus {
    kQueued,
    kWaiting,
    kNeedsApproval,
    kInitializing,
    kBuilding,
    kDeploying,
    kSuccess,
    kFailed,
    kCrashed,
    kSleeping,
    kSkipped,
    kRemoving,
    kRemoved,
    kUnknown,
};

/// Every known Railway status, in lifecycle order (kUnknown excluded).
inline constexpr std::array<DeploymentStatus, 13> kAllDeploymentStatuses = {
    DeploymentStatus::kQueued,       DeploymentStatus::kWaiting,  DeploymentStatus::kNeedsApproval,
    DeploymentStatus::kInitializing, DeploymentStatus::kBuilding, DeploymentStatus::kDeploying,
    DeploymentStatus::kSuccess,      DeploymentStatus::kFailed,   DeploymentStatus::kCrashed,
    DeploymentStatus::kSleeping,     DeploymentStatus::kSkipped,  DeploymentStatus::kRemoving,
    DeploymentStatus::kRemoved,
};

/// A status as Railway sent it: the parsed value and the raw string, so that an unknown value
/// is kept verbatim (stored, shown, logged) instead of being lost.
struct RailwayStatus {
    DeploymentStatus value = DeploymentStatus::kUnknown;
    std::string raw;

    /// Parses Railway's spelling ("SUCCESS", "NEEDS_APPROVAL", ...). Anything else → kUnknown
    /// with `raw` holding the input.
    static RailwayStatus Parse(std::string_view text);
    /// A known status with its canonical spelling.
    static RailwayStatus Of(DeploymentStatus status);

    friend bool operator==(const RailwayStatus&, const RailwayStatus&) = default;
};

/// Railway's spelling of a status; "UNKNOWN" for kUnknown (use RailwayStatus::raw to keep the
/// original text).
std::string_view ToString(DeploymentStatus status);

/// Parses Railway's spelling; nullopt for anything that is not one of the 13 values.
std::optional<DeploymentStatus> ParseDeploymentStatus(std::string_view text);

/// Groups a user can reason about. A status belongs to exactly one group.
enum class StatusGroup {
    kPending,     ///< accepted, not started: QUEUED, WAITING (for CI), NEEDS_APPROVAL
    kInProgress,  ///< INITIALIZING, BUILDING, DEPLOYING
    kSucceeded,   ///< SUCCESS, SLEEPING (serverless, asleep but healthy)
    kFailed,      ///< FAILED, CRASHED
    kInactive,    ///< SKIPPED, REMOVING, REMOVED: this deployment will not serve traffic
    kUnknown,     ///< a value the schema does not have yet
};

StatusGroup GroupOf(DeploymentStatus status);
std::string_view ToString(StatusGroup group);

/// True while Railway may still move the deployment forward on its own (pending or in progress).
bool IsInProgress(DeploymentStatus status);
/// SUCCESS or SLEEPING.
bool IsSucceeded(DeploymentStatus status);
/// FAILED or CRASHED.
bool IsFailed(DeploymentStatus status);
/// A status that does not change without an outside action (a redeploy, a restart, traffic for a
/// sleeping service, a crash): SUCCESS, SLEEPING, FAILED, CRASHED, SKIPPED, REMOVED.
bool IsStable(DeploymentStatus status);

/// Where following one deployment stands: what `railwatch watch` exits with (0 succeeded, 1 failed,
/// else keep waiting) and what the monitor treats as settled. Decided here, once, from the groups.
enum class Outcome {
    kUndecided,  ///< keep waiting: pending, in progress, REMOVING (it becomes REMOVED), unknown values
    kSucceeded,  ///< the succeeded group: SUCCESS, SLEEPING
    kFailed,     ///< the failed group (FAILED, CRASHED) and the stable inactive statuses (SKIPPED, REMOVED)
};

Outcome OutcomeOf(DeploymentStatus status);
/// "undecided", "succeeded", "failed".
std::string_view ToString(Outcome outcome);

/// True for the statuses a deployment only reaches once its deploy phase began (DEPLOYING, SUCCESS,
/// CRASHED, SLEEPING): after one of these the deploy logs explain a failure, before it the build
/// logs do.
bool ReachedDeploy(DeploymentStatus status);
/// Whether a deployment in this status may still write log lines (so that a reader's follow
/// fetches them): not FAILED (its failure's lines were read for its classification) nor the
/// inactive statuses (SKIPPED, REMOVING, REMOVED); CRASHED may restart, SUCCESS and SLEEPING keep
/// their runtime output, unknown values may be anything.
bool LogsMayGrow(DeploymentStatus status);
/// Whether the deployment's own log is how it shows it is alive in this status: BUILDING (the
/// build's output) and DEPLOYING (the starting container's). A stall there is confirmed against
/// the log before it is flagged (docs/ENGINE.md, "Stalls and the log").
bool LogShowsProgress(DeploymentStatus status);

/// What a person is shown for a status: the Railway CLI's wording (docs/STATUSES.md): "Queued",
/// "Waiting for CI", "Awaiting approval", "Building", "Online" (or "Completed" for a SUCCESS whose
/// process exited, `deploymentStopped`), "Crashed", ...; "Unknown" for kUnknown.
std::string_view StatusLabel(DeploymentStatus status, bool deployment_stopped = false);
/// As above; a value the schema does not have yet is shown as Railway spelled it.
std::string StatusLabel(const RailwayStatus& status, bool deployment_stopped = false);

/// railwatch's instance status (the seed's InstanceStatus).
enum class InstanceStatus {
    kInitializing,
    kDeploying,
    kRunning,
    kFailed,
    kDeleted,
};

std::string_view ToString(InstanceStatus status);
std::optional<InstanceStatus> ParseInstanceStatus(std::string_view text);

/// The instance status a deployment status implies; nullopt for kUnknown, meaning "keep the
/// instance's current status" (an unknown value is never a reason to change what users see).
std::optional<InstanceStatus> ToInstanceStatus(DeploymentStatus status);

}  // namespace railwatch::core
