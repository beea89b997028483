#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/deployment_status.hpp"
#include "core/detect.hpp"
#include "core/time.hpp"

/// What one status check means for one monitored instance: the monitor's per-answer decision,
/// pure (docs/ENGINE.md, "Per answer").
///
///   DecideOnAnswer(stored, observed, settings, now, platform_incident) -> CheckDecision
///   DecideOnError(stored, error, now)               -> CheckDecision
///
/// Rules:
/// - The same deployment in the same raw status: nothing changed (kUnchanged), unless it is now
///   stuck in its phase or running past the timeout and not flagged yet (kAttention, once). A
///   stall while Railway reports an incident (`platform_incident`) is marked platform_suspected,
///   its reason saying the stall is likely Railway's.
/// - A different raw status, a different deployment id or the first answer: one transition
///   (kTransition) to the instance status core::ToInstanceStatus gives (an unknown value keeps the
///   current one); SUCCESS/SLEEPING → RUNNING with its completion time and errors cleared;
///   FAILED/CRASHED → FAILED with a message, and evidence must be collected and classified;
///   REMOVING/REMOVED/SKIPPED → the service may have a newer deployment to follow.
/// - Railway does not know the deployment (not found) → monitoring ends (kEnded) with that reason,
///   Railway's message and traceId kept. Any other error → kRetry: nothing changes, checked again
///   at the status's interval.
/// The transition's time is Railway's statusUpdatedAt when it sent one (so a replayed check after
/// a crash records the same row, which the store then ignores), else `now`.
/// Pure and thread-safe.
namespace railwatch::core {

/// What the store holds about the instance (the fields the decision reads). The ids are views
/// of the caller's strings, valid for the call (the decision copies what it keeps): a check reads
/// them once, and copying two 36-character ids per check was an allocation each.
struct StoredCheckState {
    InstanceStatus status = InstanceStatus::kInitializing;
    std::optional<std::string_view> deployment_id;
    std::optional<std::string> deployment_status;  ///< Railway's raw string; null before the first answer
    int progress = 0;
    bool needs_attention = false;
    std::optional<Timestamp> deployment_started_at;
    std::optional<Timestamp> deployment_updated_at;  ///< when the current status began (set by transitions)
    std::optional<Timestamp> deployment_completed_at;
};

/// Railway's answer for the deployment (the status-check selection).
struct ObservedDeployment {
    std::string_view id;  ///< a view, as StoredCheckState's
    RailwayStatus status;
    std::optional<Timestamp> created_at;
    std::optional<Timestamp> updated_at;
    std::optional<Timestamp> status_updated_at;
    bool deployment_stopped = false;
};

/// Why Railway gave no answer for the deployment.
struct ObservedError {
    bool not_found = false;  ///< Railway does not know the id (deleted)
    std::string message;     ///< Railway's message as the client built it (traceId included)
};

/// The [monitor] settings the decision uses.
struct CheckSettings {
    StuckPolicy stuck;
    /// A deployment still in progress this long after it started gets a timeout notice (once).
    Duration timeout_after = Seconds(600);
};

/// What a check means for the instance.
enum class CheckVerdict {
    kUnchanged,   ///< nothing to write but the next check time
    kTransition,  ///< a status change: timeline row + new state (+ follow-up work)
    kAttention,   ///< no status change, but the instance needs a person now (stuck / timeout)
    /// Stuck in a phase whose log shows its progress (LogShowsProgress: BUILDING, DEPLOYING) while
    /// Railway reports no incident: its log is asked first (Railway's updatedAt may stand still
    /// through a long build), and it is flagged only if that shows no sign of life either.
    kConfirmStall,
    kEnded,  ///< the deployment no longer exists: monitoring ends with `end_reason`
    kRetry,  ///< no answer this time: check again later, change nothing
};

/// Work a transition asks for after it is stored.
struct FollowUp {
    bool classify_failure = false;  ///< FAILED/CRASHED: collect evidence (logs, events), classify, react
    bool discover_latest = false;   ///< this deployment will not serve: look for the service's newer one
    bool collect_logs = false;      ///< in progress: fetch new build/deploy log lines
    bool crash_check = false;       ///< CRASHED: look for a crash loop over the timeline
};

/// The decision on one answer; which fields are set depends on `verdict`.
struct CheckDecision {
    CheckVerdict verdict = CheckVerdict::kUnchanged;
    // kTransition
    std::optional<std::string> from_status;
    std::string to_status;
    Timestamp at{};
    InstanceStatus status = InstanceStatus::kInitializing;
    int progress = 0;
    std::optional<Timestamp> started_at;
    std::optional<Timestamp> updated_at;
    std::optional<Timestamp> completed_at;
    bool clear_error = false;                  ///< succeeded: drop the previous failure's error fields
    std::optional<std::string> error_message;  ///< failed: what Railway reported, until classified
    FollowUp follow_up;
    // kAttention / kEnded
    std::string reason;
    /// kAttention: true when the deployment ran past `timeout_after` (a timeout notice), false
    /// when it is stuck in its phase.
    bool timed_out = false;
    /// kAttention for a stall: Railway reported an incident (the stall is likely theirs).
    bool platform_suspected = false;
    /// The status whose interval schedules the next check.
    DeploymentStatus interval_status = DeploymentStatus::kUnknown;
};

/// The decision for an answer with the deployment's data (the rules above).
CheckDecision DecideOnAnswer(const StoredCheckState& stored, const ObservedDeployment& observed,
                             const CheckSettings& settings, Timestamp now, bool platform_incident = false);

/// Whether `decision` is a stall's (kAttention not for a timeout, or kConfirmStall): decided again
/// with `platform_incident` when Railway reports one (a stall then is likely theirs, and flagged
/// at once: an incident stalls many, and confirming each would cost a request).
bool IsStall(const CheckDecision& decision);

/// The stall check of a deployment still in its stored status: stuck in its phase per
/// settings.stuck, idle since the later of the stored deployment_updated_at (else its start, else
/// `now`) and the signs of life given: Railway's updatedAt, the newest log line of the deployment.
/// DecideOnAnswer's, and the monitor's when it confirms a stall against the logs.
StuckVerdict CheckStall(const StoredCheckState& stored, DeploymentStatus phase, std::optional<Timestamp> updated_at,
                        std::optional<Timestamp> last_log_at, const CheckSettings& settings, Timestamp now,
                        bool platform_incident);

/// The decision for an answer without data for the deployment: kEnded when Railway does not know
/// it, kRetry otherwise.
CheckDecision DecideOnError(const StoredCheckState& stored, const ObservedError& error, Timestamp now);

/// The status a stored raw string stands for (kUnknown for null or an unknown value).
DeploymentStatus StoredPhase(const StoredCheckState& stored);

}  // namespace railwatch::core
