#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// Notifications waiting for delivery (email, webhook, ...): enqueued by transitions or directly,
/// claimed by notifier workers with a lease, marked sent or failed. dedup_key makes a
/// notification exactly-once in effect.
///
/// Thread-safety: every method from any thread and process at once; concurrent claimers get
/// disjoint rows. Errors: kInvalidArgument for bad input before anything is written; kNotFound
/// for an unknown row; kConflict when the worker no longer holds the row's lease; kUnavailable /
/// kIo when the database cannot be reached. A failed call changes nothing.
class Outbox {
  public:
    virtual ~Outbox() = default;

    /// Enqueues messages outside a transition. Idempotent: a dedup_key already present is
    /// skipped. Returns how many rows were new.
    virtual util::Result<int> EnqueueOutbox(const std::vector<OutboxMessage>& messages) = 0;
    /// Claims up to `limit` pending rows whose next_attempt_at ≤ now and whose lease (if any)
    /// has expired: sets lease (owner, now + lease) and increments attempts. Each row goes to
    /// one claimer while its lease lives.
    virtual util::Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& owner, Timestamp now, Duration lease,
                                                             int limit) = 0;
    /// The receiver accepted: status sent. kConflict when `owner` no longer holds the lease.
    virtual util::Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, Timestamp at) = 0;
    /// The attempt failed: back to pending until `retry_at`, or dead when `retry_at` is nullopt.
    /// kConflict when `owner` no longer holds the lease.
    virtual util::Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner,
                                                const std::string& error, std::optional<Timestamp> retry_at) = 0;
    /// Rows by status (all when nullopt), newest first.
    virtual util::Result<std::vector<OutboxRow>> ListDeliveries(std::optional<OutboxStatus> status, int limit) = 0;
};

}  // namespace railwatch::store
