#pragma once

#include <span>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The deployment timeline: status transitions, each recorded with the instance's new state and
/// the notifications it causes, atomically; and Railway's steps of the instance's recent
/// deployments.
///
/// Thread-safety: every method from any thread and process at once. Errors: kInvalidArgument for
/// bad input (nothing is written); kNotFound for an unknown instance; kUnavailable / kIo when the
/// database cannot be reached (a PostgreSQL connection lost during COMMIT says the outcome is
/// unknown: replaying the transition is safe). A failed call changes nothing.
class Timeline {
  public:
    virtual ~Timeline() = default;

    /// Records the event, updates the instance's state and enqueues the outbox rows in one
    /// transaction. Idempotent: a transition with the same (instance, deployment, to_status, at)
    /// as a recorded one changes nothing and returns applied = false with the earlier event id.
    virtual util::Result<TransitionResult> ApplyTransition(const Transition& transition) = 0;
    /// Each transition as ApplyTransition would apply it, on its own: one with bad input, or one
    /// whose instance is gone, fails alone and the others are written; results in the order
    /// given. The backend may commit them together (SQLite: in one transaction, each in a
    /// savepoint), which is what makes a poll batch's transitions cheaper than one call each.
    /// A database failure (disk full, connection lost) fails those it undid.
    virtual std::vector<util::Result<TransitionResult>> ApplyTransitions(std::span<const Transition> transitions) = 0;
    /// The instance's timeline, oldest first, at most `limit` (1..10000; the newest are kept).
    virtual util::Result<std::vector<TimelineEvent>> ListEvents(const std::string& instance_id, int limit) = 0;

    /// How many of an instance's deployments keep their steps (the newest saved).
    static constexpr int kStepDeploymentsKept = 20;
    /// Replaces the steps kept for (instance, deployment) with `steps`, in their order (none:
    /// forgets them), and keeps only those of the instance's kStepDeploymentsKept deployments saved
    /// last (`at`: now), in one transaction. Each step's deployment_id is ignored (it is
    /// `deployment_id`). kInvalidArgument for an empty deployment id or step name, kNotFound for an
    /// unknown instance.
    virtual util::Result<void> SaveSteps(const std::string& instance_id, const std::string& deployment_id,
                                         std::span<const DeploymentStepRecord> steps, Timestamp at) = 0;
    /// The steps kept for the instance: by deployment, the one saved longest ago first, each
    /// deployment's steps in the order saved. Empty for an unknown instance.
    virtual util::Result<std::vector<DeploymentStepRecord>> ListSteps(const std::string& instance_id) = 0;
};

}  // namespace railwatch::store
