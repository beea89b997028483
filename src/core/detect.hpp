#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// Stall and crash-loop detection over timestamped status changes.
///
///   DetectStuck(input, policy, now)           -> StuckVerdict: no progress and no status change
///                                                 within the phase's deadline (default 600 s, like
///                                                 Kubernetes' progressDeadlineSeconds)
///   DetectStuck(history, last_progress, ...)  -> the same, from a status history
///   DetectCrashLoop(history, policy, now)     -> CrashLoopVerdict: N crashes within a window
///                                                 (default 3 in 10 minutes)
///
/// Verdicts are reports, not actions (as in Kubernetes): the monitor decides what to do.
/// Pure and thread-safe.
namespace railwatch::core {

/// One observed status change: the deployment (or a replica) entered `status` at `at`.
struct StatusChange {
    Timestamp at{};
    DeploymentStatus status = DeploymentStatus::kUnknown;
};

/// Per-phase deadlines. A phase with a nullopt entry never counts as stuck. Only pending and
/// in-progress statuses can be stuck; stable ones (SUCCESS, FAILED, ...) never are.
struct StuckPolicy {
    Duration default_deadline = Seconds(600);
    /// Overrides. By default NEEDS_APPROVAL has no deadline: it waits for a person, not for
    /// Railway, and waiting is what it is supposed to do.
    std::map<DeploymentStatus, std::optional<Duration>> per_phase = {{DeploymentStatus::kNeedsApproval, std::nullopt}};
};

struct StuckInput {
    DeploymentStatus status = DeploymentStatus::kUnknown;
    Timestamp status_since{};                   ///< when the current status began
    std::optional<Timestamp> last_progress_at;  ///< newest sign of life: a step event, a log line
    /// Railway's platformStatus reports an incident or maintenance: a stall is then likely theirs.
    bool platform_incident = false;
};

struct StuckVerdict {
    bool stuck = false;
    DeploymentStatus phase = DeploymentStatus::kUnknown;
    Duration idle{};                   ///< time since the last status change or progress
    std::optional<Duration> deadline;  ///< nullopt: this phase has no deadline
    bool platform_suspected = false;   ///< stuck while Railway reports an incident
    std::string reason;                ///< empty unless stuck
};

/// The deadline for `status`, or nullopt when it cannot be stuck.
std::optional<Duration> StuckDeadline(const StuckPolicy& policy, DeploymentStatus status);

/// Stuck when idle > deadline, where idle = now - max(status_since, last_progress_at).
StuckVerdict DetectStuck(const StuckInput& input, const StuckPolicy& policy, Timestamp now);

/// The same, taking the current status and its start from the newest entry of `history` (any
/// order). An empty history is never stuck.
StuckVerdict DetectStuck(const std::vector<StatusChange>& history, std::optional<Timestamp> last_progress_at,
                         const StuckPolicy& policy, Timestamp now, bool platform_incident = false);

struct CrashLoopPolicy {
    int crashes = 3;                             ///< this many crashes ...
    Duration window = std::chrono::minutes(10);  ///< ... within this window (inclusive) is a loop
};

struct CrashLoopVerdict {
    bool looping = false;
    int crashes_in_window = 0;
    std::optional<Timestamp> first_crash;  ///< oldest crash inside the window
    std::optional<Timestamp> last_crash;   ///< newest crash inside the window
    std::string reason;                    ///< empty unless looping
};

/// Counts entries into CRASHED (a CRASHED entry right after another CRASHED entry is the same
/// crash seen twice, not a new one) with now - window <= at <= now. Entries may come in any order;
/// entries after `now` are ignored.
CrashLoopVerdict DetectCrashLoop(const std::vector<StatusChange>& history, const CrashLoopPolicy& policy,
                                 Timestamp now);

}  // namespace railwatch::core
