#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The monitored deployments themselves: add, read, list, change settings and state, delete.
/// The schedule's leases are Schedule's; status changes with history are Timeline's.
///
/// Thread-safety: every method from any thread (and process) at once; each call is one
/// transaction. Errors: kInvalidArgument for bad input (text, ranges, a foreign cursor) before
/// anything is written; kNotFound for an unknown id; kConflict as stated; kUnavailable / kIo when
/// the database cannot be reached. A failed call changes nothing.
class Instances {
  public:
    virtual ~Instances() = default;

    /// Inserts a new instance (lease fields are ignored). Not idempotent: kConflict when the id
    /// exists; kNotFound when user_id names no user.
    virtual util::Result<void> CreateInstance(const Instance& instance) = 0;
    virtual util::Result<Instance> GetInstance(const std::string& id) = 0;
    /// Instances (deleted ones included) currently following `deployment_id`, oldest first.
    virtual util::Result<std::vector<Instance>> FindInstancesByDeployment(const std::string& deployment_id) = 0;
    /// The instances with these ids as stored (deleted ones and the lease included), in the order
    /// of `ids`; unknown ids are left out. One read. kInvalidArgument for more than 10,000 ids or
    /// a repeated id.
    virtual util::Result<std::vector<Instance>> GetInstances(const std::vector<std::string>& ids) = 0;
    /// The change feed (docs/STORE.md, "Change feed"): the instances whose row changed in any
    /// column but next_check_at and the log counters (log_seq, log_first_seq), or whose lease was
    /// taken by any worker (claimed, or taken over from another), in a transaction that committed
    /// after the call that returned `since` read; and the position for the next call. Without
    /// `since`: only the current position (no rows). A write that sets a value it already had is
    /// no change. A change is never missed: it comes with this call or the next; a row may come
    /// more than once. One read. kInvalidArgument for a negative `since`.
    /// `held`: an instance whose newest change in the feed is the one at the position given for
    /// it is left out (the caller holds the row as it wrote it); any later change of it brings it.
    /// A backend that gives no change positions (PostgreSQL) ignores `held`.
    virtual util::Result<InstanceChanges> ChangedInstances(std::optional<std::int64_t> since,
                                                           const HeldChanges& held) = 0;
    util::Result<InstanceChanges> ChangedInstances(std::optional<std::int64_t> since) {
        return ChangedInstances(since, HeldChanges{});
    }
    /// One page, newest first; pass next_cursor back for the next page.
    virtual util::Result<InstancePage> ListInstances(const InstanceQuery& query) = 0;
    /// Writes the deployment-state columns without recording a transition (progress, health,
    /// next_check_at updates). Idempotent (last write wins).
    virtual util::Result<void> SaveState(const std::string& id, const InstanceState& state) = 0;
    /// Turns monitoring on (scheduling the next check at `next_check_at`) or off (clearing it
    /// and any lease). `check_interval_s`: ≥ 1 sets the instance's own interval, 0 removes it (the
    /// per-status intervals apply again), none leaves it as it is. Idempotent. kConflict for a
    /// deleted instance.
    virtual util::Result<void> SetMonitoring(const std::string& id, bool enabled, std::optional<int> check_interval_s,
                                             Timestamp next_check_at) = 0;
    /// Stops monitoring and marks the instance DELETED at `at`; it stays for history.
    /// Idempotent: a second call keeps the first time.
    virtual util::Result<void> DeleteInstance(const std::string& id, Timestamp at) = 0;
};

}  // namespace railwatch::store
