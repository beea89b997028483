#include "core/progress.hpp"

#include <algorithm>
#include <array>

namespace railwatch::core {
namespace {

constexpr double kDeployingBase = 70.0;
constexpr double kDeployingCreep = 30.0;
constexpr Duration kDeployingCreepWindow = std::chrono::minutes(5);
constexpr double kDeployingCap = 95.0;
constexpr double kInProgressCap = 99.0;
// A running step fills at most this share of its band until it completes.
constexpr double kStepFillCap = 0.9;

constexpr std::array<StepBand, 10> kBands = {{
    {10, 25, Seconds(10)},   // SNAPSHOT_CODE
    {25, 40, Seconds(10)},   // WAIT_FOR_DEPENDENCIES
    {40, 62, Seconds(120)},  // BUILD_IMAGE
    {62, 70, Seconds(20)},   // PUBLISH_IMAGE
    {70, 75, Seconds(30)},   // PRE_DEPLOY_COMMAND
    {75, 78, Seconds(10)},   // MIGRATE_VOLUMES
    {78, 84, Seconds(15)},   // CREATE_CONTAINER
    {84, 87, Seconds(5)},    // CONFIGURE_NETWORK
    {87, 97, Seconds(60)},   // HEALTHCHECK
    {97, 99, Seconds(30)},   // DRAIN_INSTANCES
}};

// Lifecycle order of the statuses that take time before SUCCESS, for the status-based ETA.
constexpr std::array<DeploymentStatus, 3> kWorkPhases = {DeploymentStatus::kInitializing, DeploymentStatus::kBuilding,
                                                         DeploymentStatus::kDeploying};

std::string PhaseLabel(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kQueued:
            return "queued";
        case DeploymentStatus::kWaiting:
            return "waiting for CI";
        case DeploymentStatus::kNeedsApproval:
            return "awaiting approval";
        case DeploymentStatus::kInitializing:
            return "initializing";
        case DeploymentStatus::kBuilding:
            return "building";
        case DeploymentStatus::kDeploying:
            return "deploying";
        case DeploymentStatus::kSuccess:
            return "active";
        case DeploymentStatus::kFailed:
            return "failed";
        case DeploymentStatus::kCrashed:
            return "crashed";
        case DeploymentStatus::kSleeping:
            return "sleeping";
        case DeploymentStatus::kSkipped:
            return "skipped";
        case DeploymentStatus::kRemoving:
            return "removing";
        case DeploymentStatus::kRemoved:
            return "removed";
        case DeploymentStatus::kUnknown:
            break;
    }
    return "unknown";
}

Duration Elapsed(std::optional<Timestamp> since, Timestamp now) {
    if (!since || *since > now) return Duration::zero();
    return now - *since;
}

double Fill(Duration elapsed, Duration expected) {
    if (expected <= Duration::zero()) return kStepFillCap;
    return std::min(ToSecondsF(elapsed) / ToSecondsF(expected), kStepFillCap);
}

// The running step: the latest-started step that has not completed (nullptr if none).
const DeploymentStep* RunningStep(const std::vector<DeploymentStep>& steps) {
    const DeploymentStep* running = nullptr;
    for (const DeploymentStep& s : steps) {
        if (s.completed_at) continue;
        if (running == nullptr || StepIndex(s.step) > StepIndex(running->step)) running = &s;
    }
    return running;
}

double StepPercent(const std::vector<DeploymentStep>& steps, const HistoricalDurations& typical, Timestamp now) {
    double best = 0.0;
    for (const DeploymentStep& s : steps) {
        const StepBand band = BandOf(s.step);
        double value = band.end;
        if (!s.completed_at) {
            const auto it = typical.steps.find(s.step);
            const Duration expected = it != typical.steps.end() ? it->second : band.expected;
            value = band.start + Fill(Elapsed(s.created_at, now), expected) * (band.end - band.start);
        }
        best = std::max(best, value);
    }
    return best;
}

std::optional<Duration> StepEta(const std::vector<DeploymentStep>& steps, const HistoricalDurations& typical,
                                Timestamp now) {
    if (typical.steps.empty()) return std::nullopt;
    Duration remaining = Duration::zero();
    int last_index = -1;
    for (const DeploymentStep& s : steps)
        last_index = std::max(last_index, StepIndex(s.step));
    if (const DeploymentStep* running = RunningStep(steps)) {
        const auto it = typical.steps.find(running->step);
        if (it == typical.steps.end()) return std::nullopt;
        remaining += std::max(it->second - Elapsed(running->created_at, now), Duration::zero());
    }
    // Later steps count only if earlier deployments had them (PRE_DEPLOY_COMMAND, MIGRATE_VOLUMES
    // and DRAIN_INSTANCES do not happen for every service).
    for (DeploymentEventStep step : kAllDeploymentEventSteps) {
        if (StepIndex(step) <= last_index) continue;
        if (const auto it = typical.steps.find(step); it != typical.steps.end()) remaining += it->second;
    }
    return remaining;
}

std::optional<Duration> StatusEta(const ProgressInput& in, Timestamp now) {
    const auto phase_of = [&](DeploymentStatus s) -> std::optional<Duration> {
        const auto it = in.typical.phases.find(s);
        if (it == in.typical.phases.end()) return std::nullopt;
        return it->second;
    };
    Duration remaining = Duration::zero();
    std::size_t first_later = 0;
    if (GroupOf(in.status) == StatusGroup::kPending) {
        // Time still to wait in the queue or for CI, if known; the work phases follow.
        if (const auto own = phase_of(in.status)) {
            remaining += std::max(*own - Elapsed(in.status_since, now), Duration::zero());
        }
    } else {
        const auto own = phase_of(in.status);
        if (!own) return std::nullopt;
        remaining += std::max(*own - Elapsed(in.status_since, now), Duration::zero());
        first_later = static_cast<std::size_t>(std::find(kWorkPhases.begin(), kWorkPhases.end(), in.status) -
                                               kWorkPhases.begin() + 1);
    }
    for (std::size_t i = first_later; i < kWorkPhases.size(); ++i) {
        const auto later = phase_of(kWorkPhases[i]);
        if (!later) return std::nullopt;  // every service goes through all three
        remaining += *later;
    }
    return remaining;
}

}  // namespace

StepBand BandOf(DeploymentEventStep step) {
    return kBands[static_cast<std::size_t>(StepIndex(step))];
}

std::optional<double> StatusProgress(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kNeedsApproval:
            return 0.0;
        case DeploymentStatus::kWaiting:
            return 2.0;
        case DeploymentStatus::kQueued:
            return 5.0;
        case DeploymentStatus::kInitializing:
            return 10.0;
        case DeploymentStatus::kBuilding:
            return 40.0;
        case DeploymentStatus::kDeploying:
            return kDeployingBase;
        case DeploymentStatus::kSuccess:
        case DeploymentStatus::kSleeping:
            return 100.0;
        case DeploymentStatus::kFailed:
        case DeploymentStatus::kCrashed:
        case DeploymentStatus::kSkipped:
            return 0.0;
        case DeploymentStatus::kRemoving:
        case DeploymentStatus::kRemoved:
        case DeploymentStatus::kUnknown:
            return std::nullopt;
    }
    return std::nullopt;
}

Progress ComputeProgress(const ProgressInput& in, Timestamp now) {
    Progress out;
    out.phase = PhaseLabel(in.status);
    const bool same_deployment = in.previous && in.previous->deployment_id == in.deployment_id;
    const double previous = same_deployment ? in.previous->percent : 0.0;

    const StatusGroup group = GroupOf(in.status);
    if (group == StatusGroup::kFailed || in.status == DeploymentStatus::kSkipped) {
        out.percent = 0.0;  // the seed's table: a failure verdict, not progress going backwards
        return out;
    }
    if (IsSucceeded(in.status)) {
        out.percent = 100.0;
        out.eta = Duration::zero();
        return out;
    }
    const std::optional<double> table = StatusProgress(in.status);
    if (!table) {  // REMOVING, REMOVED, unknown: keep what users saw
        out.percent = previous;
        return out;
    }

    double percent = *table;
    if (in.status == DeploymentStatus::kDeploying) {
        const double creep =
            std::min(ToSecondsF(Elapsed(in.status_since, now)) / ToSecondsF(kDeployingCreepWindow), 1.0);
        percent = std::min(kDeployingBase + creep * kDeployingCreep, kDeployingCap);
    }
    if (!in.steps.empty() && group == StatusGroup::kInProgress) {
        const double by_steps = StepPercent(in.steps, in.typical, now);
        if (by_steps >= percent) {
            percent = by_steps;
            out.step_aware = true;
        }
        if (const DeploymentStep* running = RunningStep(in.steps)) out.phase = std::string(Label(running->step));
        out.eta = StepEta(in.steps, in.typical, now);
    }
    if (!out.eta && in.status != DeploymentStatus::kNeedsApproval) out.eta = StatusEta(in, now);

    // Never below what was shown before, even if that was above the in-progress cap.
    out.percent = std::max(std::clamp(percent, 0.0, kInProgressCap), std::min(previous, 100.0));
    return out;
}

std::string_view ToString(StepState state) {
    switch (state) {
        case StepState::kDone:
            return "done";
        case StepState::kActive:
            return "active";
        case StepState::kFailed:
            return "failed";
        case StepState::kPending:
            return "pending";
        case StepState::kSkipped:
            return "skipped";
        case StepState::kUnknown:
            break;
    }
    return "unknown";
}

namespace {

// A row's place in the lifecycle: pending statuses, then the in-progress ones, then outcomes.
int RankOf(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kQueued:
            return 0;
        case DeploymentStatus::kWaiting:
        case DeploymentStatus::kNeedsApproval:
            return 1;
        case DeploymentStatus::kInitializing:
            return 2;
        case DeploymentStatus::kBuilding:
            return 3;
        case DeploymentStatus::kDeploying:
            return 4;
        default:
            return 5;
    }
}

bool IsOutcome(DeploymentStatus status) {
    return RankOf(status) == 5;
}

StepRow SubstepRow(const DeploymentStep& step, bool ended, bool failed, const HistoricalDurations& typical) {
    StepRow row;
    row.name = std::string(ToString(step.step));
    row.label = std::string(Label(step.step));
    row.started_at = step.created_at;
    row.completed_at = step.completed_at;
    if (!step.error.empty()) {
        row.state = StepState::kFailed;
    } else if (step.completed_at) {
        row.state = StepState::kDone;
    } else if (ended) {
        row.state = failed ? StepState::kFailed : StepState::kDone;  // it ended with the deployment
    } else {
        row.state = StepState::kActive;
    }
    if (const auto it = typical.steps.find(step.step); it != typical.steps.end()) row.median = it->second;
    return row;
}

}  // namespace

std::vector<StepRow> DeploymentSteps(std::span<const StatusEntry> entered, std::span<const DeploymentStep> steps,
                                     const HistoricalDurations& typical) {
    // What was seen, each status once (its first entry), unknown values passed over.
    std::vector<StatusEntry> seen;
    for (const StatusEntry& entry : entered) {
        if (entry.status == DeploymentStatus::kUnknown) continue;
        if (std::any_of(seen.begin(), seen.end(), [&](const StatusEntry& s) { return s.status == entry.status; }))
            continue;
        seen.push_back(entry);
    }
    const DeploymentStatus current = seen.empty() ? DeploymentStatus::kUnknown : seen.back().status;
    const bool ended = !seen.empty() && !IsInProgress(current) && current != DeploymentStatus::kRemoving;
    const bool failed = ended && !IsSucceeded(current);
    // The furthest in-progress row seen (INITIALIZING, BUILDING, DEPLOYING): the rows before it
    // happened; a status only a deploy reaches (SUCCESS, SLEEPING, CRASHED) says every row up to
    // DEPLOYING did. (Where WAITING or NEEDS_APPROVAL stand against QUEUED is not known.)
    int furthest_in_progress = -1;
    for (const StatusEntry& entry : seen) {
        if (GroupOf(entry.status) == StatusGroup::kInProgress) {
            furthest_in_progress = std::max(furthest_in_progress, RankOf(entry.status));
        } else if (ReachedDeploy(entry.status)) {
            furthest_in_progress = std::max(furthest_in_progress, RankOf(DeploymentStatus::kDeploying) + 1);
        }
    }

    // Only outcomes seen (a deployment that ended before railwatch looked): where it ended is not
    // known, unless the outcome says (above).
    const bool outcome_only =
        std::all_of(seen.begin(), seen.end(), [](const StatusEntry& s) { return IsOutcome(s.status); });

    std::vector<DeploymentStatus> rows = {DeploymentStatus::kQueued};
    for (const StatusEntry& entry : seen) {
        if (RankOf(entry.status) == 1) rows.push_back(entry.status);
    }
    rows.insert(rows.end(),
                {DeploymentStatus::kInitializing, DeploymentStatus::kBuilding, DeploymentStatus::kDeploying});
    bool outcome_seen = false;
    for (const StatusEntry& entry : seen) {
        if (IsOutcome(entry.status)) {
            rows.push_back(entry.status);
            outcome_seen = true;
        }
    }
    if (!outcome_seen) rows.push_back(DeploymentStatus::kSuccess);

    // The in-progress row a failure ended: the last one seen right before the first failed outcome.
    std::optional<DeploymentStatus> failed_in;
    for (std::size_t i = 1; i < seen.size(); ++i) {
        const DeploymentStatus status = seen[i].status;
        if (IsOutcome(status) && !IsSucceeded(status)) {
            if (!IsOutcome(seen[i - 1].status)) failed_in = seen[i - 1].status;
            break;
        }
    }

    std::vector<StepRow> out;
    out.reserve(rows.size());
    for (const DeploymentStatus status : rows) {
        StepRow row;
        row.name = std::string(ToString(status));
        row.label = std::string(StatusLabel(status));
        const auto at =
            std::find_if(seen.begin(), seen.end(), [&](const StatusEntry& s) { return s.status == status; });
        if (at != seen.end()) {
            row.started_at = at->at;
            const bool left = at + 1 != seen.end();
            if (left) row.completed_at = (at + 1)->at;
            if (failed_in == status || (IsOutcome(status) && !IsSucceeded(status))) {
                row.state = StepState::kFailed;
            } else if (left || IsSucceeded(status)) {
                row.state = StepState::kDone;
            } else {
                row.state = StepState::kActive;
            }
        } else if (RankOf(status) < furthest_in_progress) {
            // Passed before railwatch saw the deployment: a deployment is queued, initialized,
            // built and deployed in that order (an outcome alone says nothing of where it ended).
            // WAITING and NEEDS_APPROVAL are rows only when seen.
            row.state = StepState::kDone;
        } else if (!ended) {
            row.state = StepState::kPending;
        } else {
            row.state = outcome_only && !IsOutcome(status) ? StepState::kUnknown : StepState::kSkipped;
        }
        if (!IsOutcome(status)) {
            if (const auto it = typical.phases.find(status); it != typical.phases.end()) row.median = it->second;
        }
        if (status == DeploymentStatus::kBuilding || status == DeploymentStatus::kDeploying) {
            std::vector<DeploymentStep> mine;
            for (const DeploymentStep& step : steps) {
                const bool build = StepIndex(step.step) <= StepIndex(DeploymentEventStep::kPublishImage);
                if (build == (status == DeploymentStatus::kBuilding)) mine.push_back(step);
            }
            std::sort(mine.begin(), mine.end(), [](const DeploymentStep& a, const DeploymentStep& b) {
                return StepIndex(a.step) < StepIndex(b.step);
            });
            for (const DeploymentStep& step : mine)
                row.substeps.push_back(SubstepRow(step, ended, failed, typical));
        }
        out.push_back(std::move(row));
    }
    return out;
}

}  // namespace railwatch::core
