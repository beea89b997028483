#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
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
///   DecideAttention(facts, policy, now, incident) -> AttentionVerdict: does an instance need a
///                                                 person (flagged, or stuck per StuckPolicy)? The
///                                                 one attention rule: the store only gathers facts
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

/// What the attention rule looks at for one instance: raw facts as the store keeps them
/// (store::Queries::ListAttentionCandidates gathers them).
struct AttentionFacts {
    bool flagged = false;                    ///< the monitor set needs_attention
    std::optional<std::string> flag_reason;  ///< its attention_reason
    InstanceStatus status = InstanceStatus::kInitializing;
    std::optional<std::string> deployment_status;  ///< Railway's raw string; null before the first check
    Timestamp created_at{};                        ///< when the instance was added
    std::optional<Timestamp> deployment_started_at;
    std::optional<Timestamp> deployment_updated_at;
    /// When the current deployment last entered its current status (the first timeline event of its
    /// current run in it).
    std::optional<Timestamp> status_entered_at;
    /// The newest row recording a decision about the current deployment (a reaction, an attention
    /// flag): when the flag a flagged instance carries was set.
    std::optional<Timestamp> decided_at;
    /// The newest stored log line (build or deploy) of the current deployment: a sign of life.
    std::optional<Timestamp> last_log_at;
};

/// Whether an instance needs a person, and why.
/// Whether an attention reason is DetectCrashLoop's ("crash loop: 3 crashes within 600 s").
bool IsCrashLoopReason(std::string_view reason);

struct AttentionVerdict {
    bool needs_attention = false;  ///< flagged || stuck.stuck
    bool flagged = false;
    /// The stall check of the current phase (stuck.stuck, stuck.reason, stuck.deadline, ...).
    StuckVerdict stuck;
    /// Listed only because it is stuck while Railway reports an incident: likely Railway's
    /// stall, not the user's doing (shown apart, not blamed on the user).
    bool platform_suspected = false;
    /// The last sign of life: max(status began, deployment updated, newest log line).
    Timestamp idle_since{};
    /// When the instance started needing attention: a flagged one when its flag was set
    /// (decided_at, else idle_since), a stuck one when its idle time passed the deadline
    /// (idle_since + deadline); idle_since when it needs none.
    Timestamp since{};
    std::string reason;  ///< the flag's reason if flagged (or "flagged"), else the stuck reason
};

/// The phase an instance is in: its deployment status when railwatch knows it, else the phase its
/// instance status implies (INITIALIZING / DEPLOYING; a deployment not checked yet or a status
/// Railway added later), else kUnknown.
DeploymentStatus CurrentPhase(const std::optional<std::string>& deployment_status, InstanceStatus status);

/// The attention rule: flagged, or stuck in its current phase per `policy` (DetectStuck), where
/// the phase began at status_entered_at, else deployment_started_at, else created_at, and
/// deployment_updated_at and last_log_at count as progress. DELETED instances never need
/// attention. `platform_incident`: Railway's status page reports an incident now.
AttentionVerdict DecideAttention(const AttentionFacts& facts, const StuckPolicy& policy, Timestamp now,
                                 bool platform_incident);

}  // namespace railwatch::core
