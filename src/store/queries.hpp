#pragma once

#include <vector>

#include "core/stats.hpp"
#include "core/stats_history.hpp"
#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// Fleet-wide reads for the API (GET /attention, GET /stats, GET /stats/history). The store gathers raw facts and
/// counts; the rules that turn them into answers live in core (core::DecideAttention,
/// core::ComputeFleetStats), applied by ListAttention and GetFleetStats below, so that each
/// rule is written once.
///
/// Thread-safety: every method from any thread at once; each reads one consistent snapshot.
/// Read-only, so idempotent. Errors: kUnavailable / kIo when the database cannot be reached.
class Queries {
  public:
    virtual ~Queries() = default;

    /// Every instance the attention rule must look at: not deleted, and flagged or not finished
    /// (INITIALIZING / DEPLOYING), with its user and the timeline and log facts the rule needs.
    /// Ordered by id. Their number is bounded by the instances flagged or deploying.
    virtual util::Result<std::vector<AttentionCandidate>> ListAttentionCandidates() = 0;
    /// Raw counts of instances (now) and deployments (the whole timeline); no rates.
    virtual util::Result<core::FleetCounts> CountFleet() = 0;
    /// The deployments whose finish (first SUCCESS, FAILED or CRASHED event) is in [from, until),
    /// oldest finish first, with their first event, whether they ever failed and the error class
    /// of their newest event that carries one (core::FinishedDeployment).
    virtual util::Result<std::vector<core::FinishedDeployment>> ListFinishedDeployments(Timestamp from,
                                                                                        Timestamp until) = 0;
    /// Every process's engine minutes (EngineMinutes::RecordEngineMinutes) with `minute` in
    /// [from, until), oldest first.
    virtual util::Result<std::vector<core::EngineMinute>> ListEngineMinutes(Timestamp from, Timestamp until) = 0;
};

/// The instances that need a person now (GET /attention): the candidates that
/// core::DecideAttention lists, those the user can act on first, then those stuck during a Railway
/// incident; each group by when it started needing attention, oldest first (then by id); at most query.limit.
/// kInvalidArgument for a limit outside 1..10000. Thread-safe as `queries` is.
util::Result<std::vector<AttentionItem>> ListAttention(Queries& queries, const AttentionQuery& query);

/// The fleet figures (GET /stats): core::ComputeFleetStats over queries.CountFleet(), the only
/// place the error rate is defined. Thread-safe as `queries` is.
util::Result<core::FleetStats> GetFleetStats(Queries& queries);

/// Every bucket of `window` (GET /stats/history): core::ComputeStatsHistory over the finished
/// deployments and the engine minutes in the window. Thread-safe as `queries` is.
util::Result<std::vector<core::HistoryPoint>> GetStatsHistory(Queries& queries, const core::HistoryWindow& window);

}  // namespace railwatch::store
