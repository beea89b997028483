#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// One probe's outcome, as HealthChecks::RecordProbes stores it.
struct ProbeRecord {
    HealthCheck check;
    /// The instance's health by this probe's verdict.
    std::string health;
    /// The deployment the probe judged and its status then (the prober probes SUCCESS ones): the
    /// health is written only while the instance still shows both.
    std::string deployment_id;
    std::string deployment_status;
    /// The instance's checks from before this are deleted; none: nothing is deleted this time (a
    /// prober rotates each instance's checks now and then, not with every result).
    std::optional<Timestamp> keep_since;
};

/// Health probe results and the uptime rolled up from them.
///
/// Thread-safety: every method from any thread and process at once. Errors: kInvalidArgument for
/// bad input before anything is written; kNotFound for an unknown instance; kUnavailable / kIo
/// when the database cannot be reached. A failed call changes nothing.
class HealthChecks {
  public:
    virtual ~HealthChecks() = default;

    /// Stores one probe result and returns its row id. Not idempotent: each call adds a row.
    virtual util::Result<std::int64_t> RecordHealthCheck(const HealthCheck& check) = 0;
    /// Probes' outcomes, written together (SQLite: one transaction, each in its own savepoint):
    /// a result per record, in order — the stored check's row id (as RecordHealthCheck), or the
    /// record's error. For each record: stores `check`, sets the instance's `health` column to
    /// `health` — only that column, only when it differs, and only while the instance still shows
    /// the deployment and the status the probe judged (`deployment_id`, `deployment_status`): a
    /// transition written since the probe was sent (a crash, a new deployment, sleep) keeps the
    /// health it set, which a verdict on what ran before must not undo — and deletes the
    /// instance's checks from before `keep_since` (rotation; none: nothing is deleted). A record
    /// that fails — kInvalidArgument (an empty or over-long `health`, an empty `deployment_id` or
    /// `deployment_status`), kNotFound (an unknown instance) — writes nothing of its own and keeps
    /// the others'.
    virtual std::vector<util::Result<std::int64_t>> RecordProbes(std::span<const ProbeRecord> records) = 0;
    /// The newest `limit` checks, newest first.
    virtual util::Result<std::vector<HealthCheck>> RecentHealthChecks(const std::string& instance_id, int limit) = 0;
    /// The newest `limit` checks of several instances in one read (one transaction, one
    /// connection), newest first, as summaries (time, outcome, latency: what an instance list
    /// shows): a list per id, in the order of `instance_ids`, empty for an id without checks (or
    /// unknown). For pages of instances, where one read per instance, or the checks' whole rows,
    /// would cost more than the page. kInvalidArgument when `limit` < 1.
    virtual util::Result<std::vector<std::vector<CheckSummary>>> RecentCheckSummariesOf(
        std::span<const std::string> instance_ids, int limit) = 0;
    /// Checks at or after `since`.
    virtual util::Result<UptimeSummary> Uptime(const std::string& instance_id, Timestamp since) = 0;
};

}  // namespace railwatch::store
