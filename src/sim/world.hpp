#pragma once

#include <cstdint>
#include <deque>
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
    bool redeploy = false;     ///< created by deploymentRedeploy
    std::uint64_t number = 0;  ///< creation order

    core::DeploymentStatus StatusAt(core::Timestamp now) const { return sim::StatusAt(timeline, now); }
};

struct SimService {
    std::string id;
    std::string name;
    std::string environment_id;
    HealthMode health = HealthMode::kHealthy;
    std::vector<std::size_t> deployments;  ///< indices, oldest first
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

    const SimDeployment* Find(std::string_view id) const;
    const SimService* FindService(std::string_view id) const;
    const SimService& ServiceOf(const SimDeployment& d) const { return services_[d.service]; }
    const std::deque<SimDeployment>& Deployments() const { return deployments_; }
    std::size_t ServiceCount() const { return services_.size(); }

    /// Deployments matching the filter, newest first.
    std::vector<const SimDeployment*> List(const DeploymentFilter& filter, core::Timestamp now) const;
    /// The newest deployment of a service in an environment, or null.
    const SimDeployment* Latest(std::string_view service_id, std::string_view environment_id) const;

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

  private:
    std::string NewUuid();
    std::size_t ServiceFor(const CreateSpec& spec, std::string_view environment_id);
    const SimDeployment* AddDeployment(Kind kind, Reason reason, std::size_t service, std::string environment_id,
                                       Kind redeploy_kind, bool redeploy, core::Timestamp now);
    /// Older deployments of the service that are live when `newer` first succeeds get REMOVED.
    void Supersede(const SimDeployment& newer);
    SimDeployment* Mutable(std::string_view id);

    std::uint64_t seed_;
    std::uint64_t counter_ = 0;
    Durations durations_;
    double time_scale_;
    std::deque<SimDeployment> deployments_;  // deque: references stay valid as it grows
    std::unordered_map<std::string, std::size_t> by_id_;
    std::vector<SimService> services_;
    std::unordered_map<std::string, std::size_t> service_by_id_;
};

}  // namespace railwatch::sim
