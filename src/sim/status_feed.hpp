#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"
#include "sim/world.hpp"

/// Status changes as they happen, for Railway-style project webhooks. Timelines are planned
/// ahead, so a change "happens" when the clock passes a timeline entry; the feed reports each
/// entry once, in time order, without scanning every deployment each time (a heap of the next
/// entry per deployment, refreshed when World reports a timeline as touched).
/// Not thread-safe: the owner guards it and the World with one lock.
namespace railwatch::sim {

/// One status change of one deployment.
struct StatusChange {
    std::size_t deployment = 0;  ///< index in World::Deployments()
    core::DeploymentStatus status = core::DeploymentStatus::kInitializing;
    core::Timestamp at;
};

/// Reports each planned status change once, when the clock has passed it.
class StatusFeed {
  public:
    /// Starts following `world` (turns its change tracking on): entries at or before `since` count
    /// as already reported; deployments created later are reported from their first entry.
    void Start(World& world, core::Timestamp since);
    /// Stops following (change tracking off) and forgets everything.
    void Stop(World& world);
    bool Active() const { return active_; }

    /// The changes with a time up to `now` not reported yet, oldest first (ties in creation
    /// order). Deleted deployments report nothing more. Empty while not active.
    std::vector<StatusChange> Take(World& world, core::Timestamp now);
    /// When the next change not reported yet is due, if any (nullopt while not active).
    std::optional<core::Timestamp> NextAt(World& world);

  private:
    struct Pending {
        core::Timestamp at;
        std::size_t deployment;
        std::uint64_t version;  ///< the deployment's version when pushed; stale ones are skipped
    };
    void Refresh(World& world);
    void PushNext(const SimDeployment& d);
    void PopStale(const World& world);

    bool active_ = false;
    std::vector<std::size_t> reported_;  ///< per deployment: how many timeline entries were reported
    std::vector<Pending> heap_;          ///< min-heap on `at`
};

/// Railway's project-webhook body for one status change (FACTS §9): `{type: "Deployment.<status
/// in lower case>", details: {id, source, status, branch, commitHash, commitAuthor, commitMessage},
/// resource: {workspace, project, environment, service, deployment: {id}}, severity, timestamp}`.
std::string WebhookBody(const World& world, const StatusChange& change);

}  // namespace railwatch::sim
