#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_event.hpp"
#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// Deployment progress as a percentage, a phase label and an ETA.
///
///   StatusProgress(status)            -> the seed's table (plus the statuses it did not know)
///   ComputeProgress(input, now)       -> Progress{percent, phase, eta, step_aware}
///   DeploymentSteps(entered, steps, typical) -> the step list (statuses, Railway's steps under them)
///
/// Rules (docs/STATUSES.md): the seed's table INITIALIZING 10, BUILDING 40, DEPLOYING 70, SUCCESS
/// 100, FAILED/CRASHED 0; pending statuses 0–5 (NEEDS_APPROVAL 0, WAITING 2, QUEUED 5). While
/// DEPLOYING, +30 creeps in linearly over 5 minutes measured from when DEPLOYING began (the seed
/// measured from the instance's creation, so a long build made DEPLOYING jump to 95 at once),
/// capped at 95. When deploymentEvents steps are known, each step owns a band of the bar and
/// fills it as it runs. Within one deployment id the percent never decreases while the deployment
/// moves forward; a failure verdict (FAILED, CRASHED, SKIPPED) reports 0 as the seed's table does.
/// A new deployment id starts over. Nothing but SUCCESS/SLEEPING reaches 100 (in progress <= 99).
/// Pure and thread-safe.
namespace railwatch::core {

/// Typical durations from earlier deployments of the same service (e.g. medians, see
/// core/stats.hpp Median). Missing entries mean "not known".
struct HistoricalDurations {
    std::map<DeploymentStatus, Duration> phases;    ///< time spent in INITIALIZING, BUILDING, DEPLOYING, ...
    std::map<DeploymentEventStep, Duration> steps;  ///< time from a step's createdAt to completedAt
};

/// The value reported last time, so that progress never goes backwards.
struct PreviousProgress {
    std::string deployment_id;
    double percent = 0.0;
};

struct ProgressInput {
    std::string deployment_id;
    DeploymentStatus status = DeploymentStatus::kUnknown;
    /// When the current status began (for DEPLOYING: when DEPLOYING began). Unknown = just now.
    std::optional<Timestamp> status_since;
    std::vector<DeploymentStep> steps;         ///< from deploymentEvents, any order
    std::optional<PreviousProgress> previous;  ///< ignored when its deployment id differs
    HistoricalDurations typical;
};

struct Progress {
    double percent = 0.0;         ///< 0..100
    std::string phase;            ///< "building", "building image", "active", "failed", ...
    std::optional<Duration> eta;  ///< remaining time, when past durations allow an estimate
    bool step_aware = false;      ///< true when deploymentEvents steps decided the percent
};

/// The percent the status table gives (DEPLOYING without its creep). REMOVING, REMOVED and unknown
/// values return nullopt: they keep the previous value.
std::optional<double> StatusProgress(DeploymentStatus status);

/// The band [start, end] of the progress bar that `step` fills.
struct StepBand {
    double start;
    double end;
    Duration expected;  ///< used to fill the band when no typical duration is known
};
StepBand BandOf(DeploymentEventStep step);

/// Computes progress at `now`. See the rules above.
Progress ComputeProgress(const ProgressInput& input, Timestamp now);

/// Where a row of a deployment's step list stands.
enum class StepState {
    kDone,     ///< entered and left (or passed before railwatch watched: no times then)
    kActive,   ///< the deployment is in it now
    kFailed,   ///< the deployment failed in it (or it is the failure itself: FAILED, CRASHED, ...)
    kPending,  ///< not entered yet, still possible
    kSkipped,  ///< not entered, and the deployment ended before it
    kUnknown,  ///< not seen: the deployment ended before railwatch saw where it was
};
/// "done", "active", "failed", "pending", "skipped", "unknown".
std::string_view ToString(StepState state);

/// A status the deployment entered, and when (its timeline's rows, oldest first).
struct StatusEntry {
    DeploymentStatus status = DeploymentStatus::kUnknown;
    Timestamp at{};
};

/// One row of the step list: a Railway status, or (in `substeps`) one of Railway's steps.
struct StepRow {
    std::string name;   ///< Railway's spelling: "BUILDING", or a step's "BUILD_IMAGE"
    std::string label;  ///< "Building", "building image"
    StepState state = StepState::kPending;
    std::optional<Timestamp> started_at;    ///< when it was entered, if seen
    std::optional<Timestamp> completed_at;  ///< when the next one was entered, if seen
    std::optional<Duration> median;         ///< the same row's typical duration (HistoricalDurations)
    std::vector<StepRow> substeps;          ///< Railway's steps of BUILDING and DEPLOYING
};

/// A deployment's step list, in lifecycle order: QUEUED, WAITING and NEEDS_APPROVAL when they
/// were entered, INITIALIZING, BUILDING, DEPLOYING, then the outcomes entered (SUCCESS, CRASHED,
/// FAILED, …; SUCCESS still to come while none is). `entered` is what railwatch saw, oldest first
/// (repeats and unknown values are passed over); a row not seen but followed by an in-progress
/// one that was, or by a status only a deploy reaches (SUCCESS, SLEEPING, CRASHED), is done
/// (Railway queues, initializes, builds and deploys in that order), else
/// skipped once the deployment ended (unknown when none of them was seen: a failure seen alone
/// says nothing of where it failed), else pending. The in-progress row a failure (FAILED, CRASHED right
/// after DEPLOYING, …) ended is failed. `steps` (deploymentEvents, any order) go under BUILDING
/// (SNAPSHOT_CODE … PUBLISH_IMAGE) and DEPLOYING (the rest); `typical` gives the medians.
std::vector<StepRow> DeploymentSteps(std::span<const StatusEntry> entered, std::span<const DeploymentStep> steps,
                                     const HistoricalDurations& typical);

}  // namespace railwatch::core
