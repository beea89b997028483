#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "sim/config.hpp"
#include "sim/lifecycle.hpp"
#include "util/result.hpp"

/// The simulated Railway account: one workspace, one project, environments, services and their
/// deployments with planned timelines. Status is a pure function of the timeline and `now`, so
/// nothing runs in the background. Not thread-safe: the Simulator guards it with a lock.
namespace railwatch::sim {

/// One deployment and its planned timeline.
struct SimDeployment {
    std::string id;
    std::uint64_t seed = 0;
    Kind kind = Kind::kSuccess;
    Reason reason = Reason::kNone;
    std::size_t service = 0;  ///< index into World::Services()
    std::string environment_id;
    core::Timestamp created_at;
    std::vector<TimelineEntry> timeline;  ///< planned, including future entries
    Kind redeploy_kind = Kind::kSuccess;
    bool redeploy = false;                      ///< created by deploymentRedeploy
    std::uint64_t number = 0;                   ///< creation order, also the index in World::Deployments()
    std::optional<core::Timestamp> deleted_at;  ///< set by Delete: unknown to the API from then on
    std::uint64_t version = 0;                  ///< bumped whenever the timeline is replanned

    core::DeploymentStatus StatusAt(core::Timestamp now) const { return sim::StatusAt(timeline, now); }
    bool Deleted() const { return deleted_at.has_value(); }
};

/// A service; it has an instance in every environment it has deployments in.
struct SimService {
    std::string id;
    std::string name;
    std::string environment_id;  ///< the environment of its first deployment
    HealthMode health = HealthMode::kHealthy;
    std::vector<std::size_t> deployments;   ///< indices, oldest first (deleted ones included)
    std::vector<std::string> environments;  ///< where it has instances, in order of appearance
};

/// Filter of `deployments(input: …)`.
struct DeploymentFilter {
    std::string service_id;
    std::string environment_id;
    std::string project_id;
    std::vector<core::DeploymentStatus> status_in;
    std::vector<core::DeploymentStatus> status_not_in;
};

class World {
  public:
    /// Identifiers of the fixed parts of the account.
    static constexpr std::string_view kProjectId = "7f1c2a9e-0d4b-4c55-9a61-3e8b7d2f1a00";
    static constexpr std::string_view kEnvironmentId = "c0ffee00-1e4f-4a2b-8c3d-5e6f7a8b9c0d";
    static constexpr std::string_view kWorkspaceId = "b7e1d3c5-2a4f-4e6b-9d8c-0a1b2c3d4e5f";

    World(std::uint64_t seed, Durations durations, double time_scale);

    /// Creates the deployments of one spec; returns their ids in creation order.
    /// Errors (kInvalidArgument) name what is wrong with the spec.
    util::Result<std::vector<std::string>> Create(const CreateSpec& spec, core::Timestamp now);

    /// The deployment with this id, or null when there is none or it was deleted.
    const SimDeployment* Find(std::string_view id) const;
    /// The deployment with this id, deleted or not (for the ground truth), or null.
    const SimDeployment* FindIncludingDeleted(std::string_view id) const;
    const SimService* FindService(std::string_view id) const;
    const SimService& ServiceOf(const SimDeployment& d) const { return services_[d.service]; }
    /// Every deployment ever created, deleted ones included, in creation order.
    const std::deque<SimDeployment>& Deployments() const { return deployments_; }
    /// Every service, in creation order.
    const std::vector<SimService>& Services() const { return services_; }

    /// Whether an environment exists: the simulator's own, or one a deployment was created in.
    bool HasEnvironment(std::string_view environment_id) const;
    /// Whether `service` has an instance in `environment_id`.
    static bool HasInstance(const SimService& service, std::string_view environment_id);

    /// Deployments matching the filter, newest first; deleted ones are left out.
    std::vector<const SimDeployment*> List(const DeploymentFilter& filter, core::Timestamp now) const;
    /// The newest deployment (not deleted) of a service in an environment, or null.
    const SimDeployment* Latest(std::string_view service_id, std::string_view environment_id) const;

    /// Deletes deployments: Find no longer sees them (the API answers as for an unknown id), the
    /// ground truth keeps them marked deleted. Returns how many were deleted now; unknown and
    /// already deleted ids are appended to `not_deleted`.
    std::size_t Delete(const std::vector<std::string>& ids, core::Timestamp now, std::vector<std::string>& not_deleted);

    /// deploymentRedeploy: a new deployment of the same service (kind: the old one's redeploy kind).
    util::Result<const SimDeployment*> Redeploy(std::string_view id, core::Timestamp now);
    /// deploymentRestart: SUCCESS / CRASHED / SLEEPING deployments start again; crash kinds crash again.
    util::Result<void> Restart(std::string_view id, core::Timestamp now);
    /// deploymentCancel: a deployment still in progress becomes REMOVED.
    util::Result<void> Cancel(std::string_view id, core::Timestamp now);
    /// deploymentRemove: REMOVING now, REMOVED shortly after.
    util::Result<void> Remove(std::string_view id, core::Timestamp now);
    /// deploymentApprove: a NEEDS_APPROVAL deployment goes on to SUCCESS.
    util::Result<void> Approve(std::string_view id, core::Timestamp now);

    /// Sets a service's health mode. Errors: kNotFound.
    util::Result<void> SetHealth(std::string_view service_id, HealthMode mode);

    LifecycleFacts FactsOf(const SimDeployment& d) const;

    double TimeScale() const { return time_scale_; }
    void SetTimeScale(double scale) { time_scale_ = scale; }
    const Durations& GetDurations() const { return durations_; }

    /// While on, every deployment created, replanned or deleted is recorded for TakeTouched (the
    /// webhook feed follows timelines this way). Off by default.
    void SetChangeTracking(bool on);
    /// The indices recorded since the last call (may repeat), and forgets them.
    std::vector<std::size_t> TakeTouched();

  private:
    std::string NewUuid();
    std::size_t ServiceFor(const CreateSpec& spec, std::string_view environment_id);
    const SimDeployment* AddDeployment(Kind kind, Reason reason, std::size_t service, std::string environment_id,
                                       Kind redeploy_kind, bool redeploy, core::Timestamp now);
    /// Older deployments of the service that are live when `newer` first succeeds get REMOVED.
    void Supersede(const SimDeployment& newer);
    SimDeployment* Mutable(std::string_view id);
    /// Records a replanned (or new, or deleted) deployment: new version, noted for TakeTouched.
    void Touch(SimDeployment& d);

    std::uint64_t seed_;
    std::uint64_t counter_ = 0;
    Durations durations_;
    double time_scale_;
    std::deque<SimDeployment> deployments_;  // deque: references stay valid as it grows
    std::unordered_map<std::string, std::size_t> by_id_;
    std::vector<SimService> services_;
    std::unordered_map<std::string, std::size_t> service_by_id_;
    bool tracking_ = false;
    std::vector<std::size_t> touched_;
};

}  // namespace railwatch::sim
