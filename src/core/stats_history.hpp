#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "core/error_class.hpp"
#include "core/time.hpp"

/// The time series of the dashboard's Stats charts (GET /api/v1/stats/history) and the Railway
/// budget figures of GET /api/v1/stats.
///
///   HistoryBucketCount(since, step, now)  -> how many buckets a window needs
///   ComputeStatsHistory(window, deployments, minutes) -> one point per bucket, every bucket
///   ComputeBudgetStatus(facts, now)       -> the budget left and when it runs out
///
/// Buckets are aligned to multiples of the step since the Unix epoch: the first holds `since`,
/// the last holds `now` (the current, partial one). The store supplies raw rows; the figures
/// (counts, percentiles, sums) are computed here. Pure and thread-safe.
namespace railwatch::core {

/// One deployment that finished, as the timeline (deployment_events) records it.
struct FinishedDeployment {
    Timestamp started_at;   ///< its first event
    Timestamp finished_at;  ///< its first SUCCESS, FAILED or CRASHED event
    /// Reached FAILED or CRASHED, also after a SUCCESS (FleetCounts::deployments_failed's rule).
    bool failed = false;
    /// The class of the failure's verdict; nullopt when it is not classified (yet).
    std::optional<ErrorClass> error_class;
};

/// What one engine process counted in one minute (the store's engine_minutes rows).
struct EngineMinute {
    Timestamp minute;                           ///< the minute's start (a multiple of 60 s since the epoch)
    long long checks = 0;                       ///< deployment status checks answered
    long long api_requests = 0;                 ///< Railway API requests sent
    std::optional<long long> budget_remaining;  ///< the budget left last seen in the minute
    std::optional<Timestamp> budget_seen_at;    ///< when budget_remaining was seen
};

/// The buckets a history covers: `count` buckets of `step` from `first`.
struct HistoryWindow {
    Timestamp first;        ///< the first bucket's start (aligned)
    Duration step{};        ///< bucket width, > 0
    std::size_t count = 0;  ///< number of buckets
    /// The end of the last bucket (first + count * step).
    Timestamp End() const { return first + step * static_cast<long long>(count); }
};

/// The start of the bucket of width `step` (> 0) that holds `t`: a multiple of `step` since the
/// Unix epoch (rounded down, also before 1970).
Timestamp AlignDown(Timestamp t, Duration step);

/// The window from the bucket holding `since` to the one holding `now`. count is 0 when `since` is
/// after `now` or `step` is not positive.
HistoryWindow PlanHistory(Timestamp since, Duration step, Timestamp now);

/// One bucket of the history.
struct HistoryPoint {
    Timestamp at;              ///< the bucket's start
    std::size_t finished = 0;  ///< deployments whose finish (FinishedDeployment::finished_at) is in it
    std::size_t failed = 0;    ///< of those, failed
    /// Of the failed, by class (kAllErrorClasses' order); an unclassified failure counts as kUnknown,
    /// so the classes always add up to `failed`.
    std::array<std::size_t, kAllErrorClasses.size()> failed_by_class{};
    std::optional<Duration> duration_p50;  ///< percentile of finished_at - started_at; nullopt when none
    std::optional<Duration> duration_p95;
    long long checks = 0;        ///< sum of the minutes' checks in the bucket
    long long api_requests = 0;  ///< sum of the minutes' API requests in the bucket
    /// The budget left seen last (by budget_seen_at, any process) in the bucket; nullopt when none.
    std::optional<long long> budget_remaining;
};

/// Every bucket of `window`, in order, with zeros and nullopts where nothing happened. Rows outside
/// the window are ignored. A minute row belongs to the bucket holding its `minute`: exact when the
/// step is a multiple of 60 s (the API accepts only those).
std::vector<HistoryPoint> ComputeStatsHistory(const HistoryWindow& window,
                                              std::span<const FinishedDeployment> deployments,
                                              std::span<const EngineMinute> minutes);

/// What the Railway client's rate limiter knows, plus the requests it sent recently.
struct BudgetFacts {
    int limit_per_hour = 0;             ///< X-RateLimit-Limit, else the configured limit
    long long remaining = 0;            ///< X-RateLimit-Remaining, else the token bucket
    std::optional<Timestamp> reset_at;  ///< X-RateLimit-Reset, when seen
    long long used_last_hour = 0;       ///< requests sent in the last 60 minutes
    long long used_recently = 0;        ///< requests sent in the last `recent_span`
    Duration recent_span{};             ///< about 5 minutes (less just after a start)
};

/// The `budget` object of GET /stats.
struct BudgetStatus {
    int limit_per_hour = 0;
    long long remaining = 0;
    std::optional<Timestamp> reset_at;
    long long used_last_hour = 0;
    /// used_recently per minute of recent_span, a span under a minute counted as one; 0 when the
    /// span is empty.
    double requests_per_minute = 0;
    /// now + remaining / requests_per_minute when that is before reset_at. Without a reset_at the
    /// hourly bucket refills continuously (limit_per_hour / 60 a minute): only a faster rate
    /// exhausts it, at now + remaining / (rate - refill). Else nullopt.
    std::optional<Timestamp> exhausts_at;
};

/// The budget figures from the limiter's facts. Pure.
BudgetStatus ComputeBudgetStatus(const BudgetFacts& facts, Timestamp now);

}  // namespace railwatch::core
