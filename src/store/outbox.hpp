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
    /// Records many outcomes in one transaction: each as MarkOutboxSent (kSent) or
    /// MarkOutboxFailed (kFailed with retry_at; kDead) would, each checked against its lease on
    /// its own. The outer result fails (and nothing is written) when the database cannot be
    /// reached or a completion is malformed (kInvalidArgument: kPending, kFailed without
    /// retry_at, an error that is not UTF-8); otherwise it holds one result per completion, in
    /// order: ok, kConflict (lease lost; that row is left as it is) or kNotFound.
    virtual util::Result<std::vector<util::Result<void>>> CompleteOutbox(
        const std::vector<OutboxCompletion>& completions) = 0;
    /// Gives a dead row another life: status pending, attempts 0, due at `next_attempt_at`, no
    /// lease; last_error is kept until the next attempt records its own. Returns the row as it now
    /// is. Once: kConflict for a row that is not dead (pending, failed — e.g. replayed already —
    /// or sent), kNotFound for an unknown id.
    virtual util::Result<OutboxRow> ReplayOutbox(const std::string& id, Timestamp next_attempt_at) = 0;
    /// When a claim can next find a row: the earliest time an open (pending or failed) row is due,
    /// counting a lease that is still live at `now` as delaying its row to the lease's end.
    /// nullopt when no row is open. The time may be ≤ now (rows due already).
    virtual util::Result<std::optional<Timestamp>> NextOutboxDue(Timestamp now) = 0;
    /// Rows by status (all when nullopt), newest first, a page at a time, with the disabled
    /// endpoints. kInvalidArgument for a bad limit or cursor.
    virtual util::Result<DeliveryPage> ListDeliveries(const DeliveryQuery& query) = 0;
    /// The first page of ListDeliveries, rows only: rows by status (all when nullopt), newest
    /// first.
    util::Result<std::vector<OutboxRow>> ListDeliveries(std::optional<OutboxStatus> status, int limit) {
        auto page = ListDeliveries(DeliveryQuery{status, limit, {}});
        if (!page) return tl::unexpected(page.error());
        return std::move(page->items);
    }

    /// Marks an endpoint disabled (durable, across restarts). Idempotent: an endpoint disabled
    /// already keeps its first time and reason. kInvalidArgument for an empty key.
    virtual util::Result<void> DisableEndpoint(const DisabledEndpoint& endpoint) = 0;
    /// Enables an endpoint again; returns false when it was not disabled.
    virtual util::Result<bool> EnableEndpoint(const std::string& key) = 0;
    /// Every disabled endpoint, oldest first.
    virtual util::Result<std::vector<DisabledEndpoint>> ListDisabledEndpoints() = 0;
};

}  // namespace railwatch::store
