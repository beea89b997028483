#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/progress.hpp"
#include "core/time.hpp"
#include "store/model.hpp"
#include "util/result.hpp"

/// The seam between the monitoring engine and the layers above it (the REST API, `serve`, the
/// dashboard's live stream). The API reads stored state straight from the store's roles; every
/// change that the engine must know about goes through `Operations`, and everything the engine
/// learns comes back up through an `EventSink` it is given. The monitor never includes api/.
namespace railwatch::monitor {

/// What `POST /api/v1/instances` asks for (interface.md). Validated by Operations::AddInstance.
struct AddInstanceRequest {
    std::string service_id;
    std::string environment_id;
    std::optional<std::string> deployment_id;  ///< none: the service's latest deployment is found
    std::optional<std::string> project_name;
    std::optional<std::string> user_id;   ///< must name an existing user
    std::optional<int> check_interval_s;  ///< ≥ 1; none: per-status intervals of [monitor.intervals]
};

/// Where a deployment is, for `GET /instances/{id}/progress`.
struct ProgressReport {
    std::string instance_id;
    int progress = 0;                         ///< 0..100, step-aware when steps are known
    std::string phase;                        ///< "queued", "building", "deploying", "running", "failed", ...
    std::optional<std::int64_t> eta_seconds;  ///< from the service's own past durations; none when unknown
    bool step_aware = false;                  ///< Railway's steps (deploymentEvents) decided the percent
    /// The deployment's step list (core::DeploymentSteps): its statuses as the timeline saw them,
    /// Railway's steps under BUILDING and DEPLOYING while they are known (kept from the phase
    /// reads of a deployment still followed), medians from the instance's earlier deployments.
    std::vector<core::StepRow> steps;
};

/// The fleet against the token's budget (the API's /stats and /metrics show it).
struct CapacityReport {
    double requests_per_hour = 0;  ///< the budget the plan uses (pro-rated hourly limit), this process's share
    double requests_per_second = 0;
    /// Processes sharing the token's budget (the live workers on the store, this one included):
    /// the budget above is the token's divided by this.
    int shared_by = 1;
    /// Deployments one status request carries now: the configured batch size, or fewer once the
    /// client learnt that Railway refuses that many (RailwayApi::StatusBatchSize).
    std::size_t batch_size = 0;
    /// Instances the plan counts: every monitored one this process knows of; beside other live
    /// workers (kept claims), those it keeps.
    std::size_t monitored = 0;
    std::size_t capacity = 0;  ///< deployments that fit at the configured intervals
    double stretch = 1.0;      ///< factor applied to stable statuses' intervals (1 = none)
    /// Effective interval per Railway status (after stretching), seconds.
    std::vector<std::pair<std::string, double>> effective_interval_s;
    /// Instances this engine follows, by the Railway status it last saw ("UNKNOWN" before the
    /// first answer is not counted: such instances are not in the plan yet).
    std::map<std::string, std::size_t> by_status;
};

/// One batched status check, after its answers were written (for metrics).
struct CheckBatchReport {
    std::size_t checked = 0;  ///< instances the batch answered for
    std::size_t errors = 0;   ///< of them, answered with an error (the deployment's own or the call's)
    std::size_t transitions = 0;
    core::Duration request_time{};  ///< the poll's status requests, sent together, retries included (steady time)
    /// How late each instance was checked: answer time − its due time (next_check_at), ≥ 0.
    std::vector<core::Duration> delays;
};

/// How often a followed instance's logs are fetched at most (Operations::FollowLogs).
inline constexpr core::Duration kLogFollowInterval = core::Seconds(5);

/// The engine's operations. Thread-safety: every method from any thread at once. Errors:
/// kInvalidArgument (bad input, message names the field), kNotFound (unknown instance or user),
/// kConflict (e.g. monitoring a deleted instance, a redeploy Railway refuses up front),
/// kUnavailable (store or Railway unreachable; nothing was changed). Each call returns once its
/// change is durable; work that needs Railway (a redeploy, finding the latest deployment) may
/// continue in the background, recorded in the timeline.
class Operations {
  public:
    virtual ~Operations() = default;

    /// Stores a new instance and schedules its first check at once. Without a deployment id the
    /// service's latest deployment is looked up first (kNotFound when Railway has none).
    virtual util::Result<store::Instance> AddInstance(const AddInstanceRequest& request) = 0;

    /// Stops monitoring and marks the instance DELETED (kept for history). Idempotent.
    virtual util::Result<store::Instance> DeleteInstance(const std::string& id) = 0;

    /// Turns monitoring on (first check at once) or off. `check_interval_s`: ≥ 1 sets the
    /// instance's own interval (for every status), 0 removes it (the per-status intervals of
    /// [monitor.intervals] apply again), none leaves it as it is.
    virtual util::Result<store::Instance> SetMonitoring(const std::string& id, bool enabled,
                                                        std::optional<int> check_interval_s) = 0;

    /// Asks Railway to redeploy the instance's deployment (a user's request: it does not count
    /// against the automatic redeploy limit). Returns once accepted; the outcome is recorded
    /// in the timeline (source "user").
    virtual util::Result<void> Redeploy(const std::string& id) = 0;

    /// A push (Railway webhook): check the instances following `deployment_id` now. Unknown
    /// deployment ids are not an error (Railway sends events for every service of a project):
    /// returns how many instances were woken.
    virtual util::Result<int> CheckDeploymentNow(const std::string& deployment_id) = 0;

    /// Progress, phase and ETA of one instance.
    virtual util::Result<ProgressReport> Progress(const std::string& id) = 0;

    /// A person follows the instance's logs (`GET …/logs`, an instance's event stream): the new
    /// build and deploy lines of its current deployment (and its steps) are fetched soon, in the
    /// background, at most once per `kLogFollowInterval` per instance and best effort within
    /// the budget (what the reserve and polling leave). Without it, lines are fetched on phase
    /// changes and failures only. Returns whether a fetch was queued: false when one was asked
    /// for this instance within the interval (then the store is not read), the instance has no deployment yet or is
    /// deleted, its deployment's lines cannot grow (FAILED, SKIPPED, REMOVING, REMOVED), or the
    /// budget has nothing left now. kNotFound for an unknown instance.
    virtual util::Result<bool> FollowLogs(const std::string& id) = 0;

    /// The fleet against the budget, as planned at the last scheduling round.
    virtual CapacityReport Capacity() const = 0;
    /// The interval the engine checks `instance` at now (the stored row, as the store returns
    /// it): its own interval, else its Railway status's ([monitor.intervals]), stretched as the
    /// budget requires at the last scheduling round (CapacityReport::stretch); each wait is this
    /// or a little shorter (the jitter only shortens). None when the instance is not monitored.
    /// Reads no store. Default: none (an engine that does not schedule).
    virtual std::optional<core::Duration> CheckInterval(const store::Instance& instance) const {
        (void)instance;
        return std::nullopt;
    }

    /// Railway's incident or maintenance message as last read, nullopt when Railway reported
    /// none. The engine reads `platformStatus` when a stall is about to be flagged (at most once
    /// a minute), so this may be stale while nothing stalls. Default: none.
    virtual std::optional<std::string> PlatformIncident() const { return std::nullopt; }
};

/// Receives what the engine learns, after it is durable. Implemented by the API's SSE hub and
/// the metrics adapter. Called from the engine's threads: implementations must be thread-safe
/// and must not block (queue and return).
class EventSink {
  public:
    virtual ~EventSink() = default;
    /// An instance's stored state changed (status, progress, health, attention, monitoring).
    virtual void OnInstance(const store::Instance& instance) = 0;
    /// A status transition was recorded (the timeline row, with its store id).
    virtual void OnTransition(const store::Instance& instance, const store::TimelineEvent& event) = 0;
    /// A health probe finished.
    virtual void OnHealth(const store::Instance& instance, const store::HealthCheck& check) = 0;
    /// A batch of status checks is written. Default: ignored.
    virtual void OnChecks(const CheckBatchReport& report) { (void)report; }
    /// Log lines of one instance were fetched and stored (some may have been stored before: a
    /// fetch after a restart starts again from Railway's newest page). Default: ignored.
    virtual void OnLogLines(const std::string& instance_id, std::span<const store::LogLine> lines) {
        (void)instance_id;
        (void)lines;
    }
};

}  // namespace railwatch::monitor
