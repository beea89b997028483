#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The check schedule: which instances are due, and who is checking them (leases). Several
/// workers (threads or processes sharing PostgreSQL) claim from one schedule; docs/STORE.md
/// ("Scale-out") has the statements.
///
/// Thread-safety: every method from any thread and process at once. A claimed instance belongs
/// to its claimer until it releases it or the lease expires; then any worker may claim it again.
/// Errors: kInvalidArgument for a bad owner, limit or lease before anything is written; kConflict
/// for a single release whose lease is lost; kUnavailable / kIo when the database cannot be
/// reached. A failed call changes nothing.
/// The stored lease end (and next_check_at) of a kept claim: held while its owner lives (Schedule,
/// "Kept claims").
inline constexpr Timestamp kHeldWhileOwnerLives = Timestamp::max();

class Schedule {
  public:
    virtual ~Schedule() = default;

    /// Claims up to `limit` monitored, not deleted instances with next_check_at ≤ now and no
    /// live lease, earliest due first; sets lease (owner, now + lease). Concurrent callers
    /// never get the same instance while its lease lives. Not idempotent (a second call gets
    /// the next due ones).
    virtual util::Result<std::vector<Instance>> ClaimDueInstances(const std::string& owner, Timestamp now,
                                                                  Duration lease, int limit) = 0;
    /// Gives one claimed instance back with its next check time (ignored, stored as null, when
    /// monitoring is off or the instance is deleted). kConflict when `owner` does not hold the
    /// lease any more (it expired and another worker may have claimed it): drop the result;
    /// kNotFound for an unknown id.
    virtual util::Result<void> ReleaseInstance(const std::string& id, const std::string& owner,
                                               std::optional<Timestamp> next_check_at) = 0;
    /// Gives many claimed instances back in ONE transaction (the engine's cheap path: checks
    /// that change nothing cost no transaction of their own). Each row is lease-checked on its
    /// own: those `owner` holds are released with their next_check_at, the others (lease lost,
    /// unknown id) are left unchanged and listed in ReleaseReport::lost; that is not an error. A
    /// release naming a deployment the row no longer follows gives the lease back and leaves
    /// next_check_at as stored (InstanceRelease::deployment_id).
    /// kInvalidArgument for a bad owner, a bad or repeated id (nothing is released then).
    /// Releasing an instance that is already released reports it lost: not idempotent.
    virtual util::Result<ReleaseReport> ReleaseInstances(const std::string& owner,
                                                         const std::vector<InstanceRelease>& releases) = 0;
    /// Drops every lease `owner` holds: its claimed instances are due again at their stored next
    /// check time, or at `now` where that is later (a kept claim's stored time is its lease's
    /// end: KeepDueInstances). For a process restarted under the same worker id after a crash,
    /// whose earlier life's claims would otherwise wait for their leases to expire. Never call it
    /// for an owner that may still be running. Returns how many leases were dropped;
    /// kInvalidArgument for a bad owner.
    virtual util::Result<int> DropLeases(const std::string& owner, Timestamp now) = 0;

    // Kept claims (docs/STORE.md, "Scale-out: claims and leases"): a worker may keep what it
    // claimed from check to check, due times in its memory, instead of releasing each instance
    // after each check. A kept lease lives as long as its owner does: its stored end is
    // kHeldWhileOwnerLives, and the owner is alive while its worker row (schedule_workers) is,
    // which each Heartbeat renews — one row, whatever the worker holds. A claim or heartbeat that
    // finds a worker not seen since before its `now` makes that worker's kept instances due at
    // that `now` and their leases expired (claimable by anyone), then forgets the worker. What a
    // worker keeps is stored as due at kHeldWhileOwnerLives too: out of the claim query's way.

    /// ClaimDueInstances for a worker that keeps what it claims: the same claim, leases held while
    /// `owner` lives (recorded as alive at least till now + lease), each claimed instance's stored
    /// next_check_at moved to kHeldWhileOwnerLives (null stays null). The returned rows carry the
    /// next_check_at they had before (the due time to keep) and the lease as stored now.
    virtual util::Result<std::vector<Instance>> KeepDueInstances(const std::string& owner, Timestamp now,
                                                                 Duration lease, int limit) = 0;
    /// Keeps `owner` alive till now + lease: its worker row renewed, and every lease it still has
    /// that is not held so (live or expired, as long as no other worker took it) held while it
    /// lives, those instances parked as KeepDueInstances does. Forgets workers not seen since
    /// before now (above), and returns the live workers (`owner` included) with the live leases
    /// each holds, ordered by owner, and how many instances are monitored. One transaction; its
    /// writes do not grow with what `owner` holds. kInvalidArgument for a bad owner or lease.
    virtual util::Result<ScheduleLoad> Heartbeat(const std::string& owner, Timestamp now, Duration lease) = 0;
};

}  // namespace railwatch::store
