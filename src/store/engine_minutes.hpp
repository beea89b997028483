#pragma once

#include <string>
#include <vector>

#include "core/stats_history.hpp"
#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// Per-minute counts of each engine process (status checks, Railway requests, the budget left),
/// the history behind GET /stats/history's checks, apiRequests and budgetRemaining. Written by
/// app::EngineHistory about once a minute per process; read with Queries::ListEngineMinutes.
///
/// Thread-safety: every method from any thread and process at once. Errors: kInvalidArgument for
/// a bad worker id or a minute not aligned to 60 s (nothing is written); kUnavailable / kIo when
/// the database cannot be reached. A failed call changes nothing.
class EngineMinutes {
  public:
    virtual ~EngineMinutes() = default;

    /// Adds `minutes` to the rows of (minute, worker_id) in one transaction: counts add up
    /// (a minute may be flushed in parts), the budget left seen later (budget_seen_at) replaces
    /// an earlier one. Then deletes every process's rows older than `rotate_before`. Not
    /// idempotent: replaying a call counts twice.
    virtual util::Result<void> RecordEngineMinutes(const std::string& worker_id,
                                                   const std::vector<core::EngineMinute>& minutes,
                                                   Timestamp rotate_before) = 0;
};

}  // namespace railwatch::store
