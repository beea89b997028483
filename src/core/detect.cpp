#include "core/detect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace railwatch::core {
namespace {

// How DetectCrashLoop's reason begins (IsCrashLoopReason reads it back).
constexpr std::string_view kCrashLoop = "crash loop";

}  // namespace

std::optional<Duration> StuckDeadline(const StuckPolicy& policy, DeploymentStatus status) {
    if (!IsInProgress(status)) return std::nullopt;
    if (const auto it = policy.per_phase.find(status); it != policy.per_phase.end()) return it->second;
    return policy.default_deadline;
}

StuckVerdict DetectStuck(const StuckInput& input, const StuckPolicy& policy, Timestamp now) {
    StuckVerdict verdict;
    verdict.phase = input.status;
    verdict.deadline = StuckDeadline(policy, input.status);
    Timestamp last_sign = input.status_since;
    if (input.last_progress_at && *input.last_progress_at > last_sign) last_sign = *input.last_progress_at;
    verdict.idle = std::max(now - last_sign, Duration::zero());
    if (!verdict.deadline || verdict.idle <= *verdict.deadline) return verdict;

    verdict.stuck = true;
    verdict.platform_suspected = input.platform_incident;
    verdict.reason = fmt::format("no progress in {} for {} s (deadline {} s)", ToString(input.status),
                                 ToSeconds(verdict.idle), ToSeconds(*verdict.deadline));
    if (input.platform_incident) verdict.reason += "; Railway reports an incident, so the stall is likely theirs";
    return verdict;
}

StuckVerdict DetectStuck(const std::vector<StatusChange>& history, std::optional<Timestamp> last_progress_at,
                         const StuckPolicy& policy, Timestamp now, bool platform_incident) {
    if (history.empty()) return StuckVerdict{};
    const auto newest = std::max_element(history.begin(), history.end(),
                                         [](const StatusChange& a, const StatusChange& b) { return a.at < b.at; });
    return DetectStuck(StuckInput{newest->status, newest->at, last_progress_at, platform_incident}, policy, now);
}

bool IsCrashLoopReason(std::string_view reason) {
    return reason.starts_with(kCrashLoop) && reason.substr(kCrashLoop.size()).starts_with(": ");
}

CrashLoopVerdict DetectCrashLoop(const std::vector<StatusChange>& history, const CrashLoopPolicy& policy,
                                 Timestamp now) {
    std::vector<StatusChange> sorted;
    sorted.reserve(history.size());
    for (const StatusChange& change : history) {
        if (change.at <= now) sorted.push_back(change);
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const StatusChange& a, const StatusChange& b) { return a.at < b.at; });

    CrashLoopVerdict verdict;
    const Timestamp window_start = now - policy.window;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (sorted[i].status != DeploymentStatus::kCrashed) continue;
        if (i > 0 && sorted[i - 1].status == DeploymentStatus::kCrashed) continue;
        if (sorted[i].at < window_start) continue;
        ++verdict.crashes_in_window;
        if (!verdict.first_crash) verdict.first_crash = sorted[i].at;
        verdict.last_crash = sorted[i].at;
    }
    verdict.looping = verdict.crashes_in_window >= std::max(policy.crashes, 1);
    if (verdict.looping) {
        verdict.reason =
            fmt::format("{}: {} crashes within {} s", kCrashLoop, verdict.crashes_in_window, ToSeconds(policy.window));
    }
    return verdict;
}

DeploymentStatus CurrentPhase(const std::optional<std::string>& deployment_status, InstanceStatus status) {
    if (deployment_status) {
        if (const auto parsed = ParseDeploymentStatus(*deployment_status)) return *parsed;
    }
    switch (status) {
        case InstanceStatus::kInitializing:
            return DeploymentStatus::kInitializing;
        case InstanceStatus::kDeploying:
            return DeploymentStatus::kDeploying;
        case InstanceStatus::kRunning:
        case InstanceStatus::kFailed:
        case InstanceStatus::kDeleted:
            break;
    }
    return DeploymentStatus::kUnknown;
}

AttentionVerdict DecideAttention(const AttentionFacts& facts, const StuckPolicy& policy, Timestamp now,
                                 bool platform_incident) {
    AttentionVerdict verdict;
    if (facts.status == InstanceStatus::kDeleted) return verdict;
    StuckInput input;
    input.status = CurrentPhase(facts.deployment_status, facts.status);
    input.status_since = facts.status_entered_at.value_or(facts.deployment_started_at.value_or(facts.created_at));
    for (const auto& sign : {facts.deployment_updated_at, facts.last_log_at}) {
        if (sign && (!input.last_progress_at || *sign > *input.last_progress_at)) input.last_progress_at = sign;
    }
    input.platform_incident = platform_incident;
    verdict.stuck = DetectStuck(input, policy, now);
    verdict.idle_since = std::max(input.status_since, input.last_progress_at.value_or(input.status_since));
    verdict.flagged = facts.flagged;
    verdict.needs_attention = verdict.flagged || verdict.stuck.stuck;
    verdict.platform_suspected = !verdict.flagged && verdict.stuck.stuck && verdict.stuck.platform_suspected;
    verdict.since = verdict.idle_since;
    if (verdict.flagged) {
        verdict.reason = facts.flag_reason && !facts.flag_reason->empty() ? *facts.flag_reason : "flagged";
        verdict.since = facts.decided_at.value_or(verdict.idle_since);
    } else {
        verdict.reason = verdict.stuck.reason;
        if (verdict.stuck.stuck) verdict.since += *verdict.stuck.deadline;  // stuck implies a deadline
    }
    return verdict;
}

}  // namespace railwatch::core
