#include "core/check_decision.hpp"

#include <algorithm>

#include "core/progress.hpp"

namespace railwatch::core {
namespace {

std::string Minutes(Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(d).count()) + " min";
}

}  // namespace

DeploymentStatus StoredPhase(const StoredCheckState& stored) {
    if (!stored.deployment_status) return DeploymentStatus::kUnknown;
    return RailwayStatus::Parse(*stored.deployment_status).value;
}

CheckDecision DecideOnAnswer(const StoredCheckState& stored, const ObservedDeployment& observed,
                             const CheckSettings& settings, Timestamp now, bool platform_incident) {
    CheckDecision out;
    const DeploymentStatus status = observed.status.value;
    out.interval_status = status;
    const bool same_deployment = stored.deployment_id && *stored.deployment_id == observed.id;
    const bool same_status = stored.deployment_status && *stored.deployment_status == observed.status.raw;

    if (same_deployment && same_status) {
        if (stored.needs_attention) return out;
        const Outcome outcome = OutcomeOf(status);
        if (outcome == Outcome::kUndecided && stored.deployment_started_at &&
            now - *stored.deployment_started_at > settings.timeout_after) {
            out.verdict = CheckVerdict::kAttention;
            out.timed_out = true;
            out.reason = "the deployment has been in progress for " + Minutes(now - *stored.deployment_started_at) +
                         ", over the " + Minutes(settings.timeout_after) +
                         " limit: look at its build and deploy logs, or cancel and redeploy it";
            return out;
        }
        const StuckVerdict stuck =
            CheckStall(stored, status, observed.updated_at, std::nullopt, settings, now, platform_incident);
        if (stuck.stuck && !platform_incident && LogShowsProgress(status)) {
            out.verdict = CheckVerdict::kConfirmStall;
        } else if (stuck.stuck) {
            out.verdict = CheckVerdict::kAttention;
            out.reason = stuck.reason;
            out.platform_suspected = stuck.platform_suspected;
        }
        return out;
    }

    out.verdict = CheckVerdict::kTransition;
    // For a new deployment of the service, "from" is where the previous one stood.
    out.from_status = stored.deployment_status;
    out.to_status = observed.status.raw;
    out.at = observed.status_updated_at.value_or(now);
    out.status = ToInstanceStatus(status).value_or(stored.status);
    out.started_at = observed.created_at ? observed.created_at
                                         : (same_deployment ? stored.deployment_started_at : std::optional(out.at));
    out.updated_at = out.at;

    ProgressInput progress;
    progress.deployment_id = std::string(observed.id);
    progress.status = status;
    progress.status_since = out.at;
    if (same_deployment)
        progress.previous = PreviousProgress{std::string(observed.id), static_cast<double>(stored.progress)};
    const double percent = ComputeProgress(progress, now).percent;
    out.progress = std::clamp(static_cast<int>(percent), 0, 100);

    switch (OutcomeOf(status)) {
        case Outcome::kSucceeded:
            out.completed_at = same_deployment && stored.deployment_completed_at ? stored.deployment_completed_at
                                                                                 : std::optional(out.at);
            out.clear_error = true;
            break;
        case Outcome::kFailed:
            out.completed_at = out.at;
            if (IsFailed(status)) {
                out.error_message = "Railway reports the deployment " + observed.status.raw;
                out.follow_up.classify_failure = true;
            } else {
                out.error_message = "the deployment will not serve traffic (" + observed.status.raw + ")";
                out.follow_up.discover_latest = true;
            }
            break;
        case Outcome::kUndecided:
            out.completed_at = std::nullopt;
            out.clear_error = !same_deployment;  // a new deployment starts with a clean slate
            out.follow_up.collect_logs = IsInProgress(status);
            out.follow_up.discover_latest = GroupOf(status) == StatusGroup::kInactive;
            break;
    }
    out.follow_up.crash_check = IsFailed(status) && ReachedDeploy(status);
    return out;
}

bool IsStall(const CheckDecision& decision) {
    return decision.verdict == CheckVerdict::kConfirmStall ||
           (decision.verdict == CheckVerdict::kAttention && !decision.timed_out);
}

StuckVerdict CheckStall(const StoredCheckState& stored, DeploymentStatus phase, std::optional<Timestamp> updated_at,
                        std::optional<Timestamp> last_log_at, const CheckSettings& settings, Timestamp now,
                        bool platform_incident) {
    const Timestamp since = stored.deployment_updated_at.value_or(stored.deployment_started_at.value_or(now));
    std::optional<Timestamp> life = updated_at;
    if (last_log_at && (!life || *last_log_at > *life)) life = last_log_at;
    return DetectStuck(StuckInput{phase, since, life, platform_incident}, settings.stuck, now);
}

CheckDecision DecideOnError(const StoredCheckState& stored, const ObservedError& error, Timestamp) {
    CheckDecision out;
    out.interval_status = StoredPhase(stored);
    if (error.not_found) {
        out.verdict = CheckVerdict::kEnded;
        out.reason = "monitoring ended: Railway no longer knows deployment " +
                     std::string(stored.deployment_id.value_or("?")) + " (" + error.message +
                     "); add the service again to follow its current deployment";
        return out;
    }
    out.verdict = CheckVerdict::kRetry;
    out.reason = error.message;
    return out;
}

}  // namespace railwatch::core
