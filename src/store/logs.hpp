#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// Build and deploy log lines: deduplicated, numbered per instance and rotated to the newest
/// `max_logs` per instance (docs/STORE.md, "Logs: dedup and rotation").
///
/// Thread-safety: every method from any thread and process at once; concurrent appends for the
/// same instance are serialised per instance and lose no line. Errors: kInvalidArgument for a bad
/// line (named by its index) before anything is written; kNotFound when a line names an unknown
/// instance; kUnavailable / kIo when the database cannot be reached. A failed call changes nothing.
class Logs {
  public:
    virtual ~Logs() = default;

    /// Appends lines (any mix of instances), dropping duplicates (same instance, deployment,
    /// kind, timestamp and message, stored before or earlier in the same call), then keeps only
    /// the newest `max_logs` lines of every instance touched. Idempotent: sending the same lines
    /// again stores nothing new. kNotFound when a line names an unknown instance (nothing is
    /// written then).
    virtual util::Result<LogAppendResult> AppendLogs(const std::vector<LogLine>& lines,
                                                     int max_logs = kDefaultMaxLogs) = 0;
    /// The newest `limit` lines of an instance (optionally of one kind), oldest first.
    virtual util::Result<std::vector<LogLine>> RecentLogs(const std::string& instance_id, int limit,
                                                          std::optional<LogKind> kind = std::nullopt) = 0;
    /// Timestamp of the newest stored line of (instance, deployment, kind), for incremental
    /// fetching (Railway's startDate); nullopt when none.
    virtual util::Result<std::optional<Timestamp>> LatestLogTimestamp(const std::string& instance_id,
                                                                      const std::string& deployment_id,
                                                                      LogKind kind) = 0;
};

}  // namespace railwatch::store
