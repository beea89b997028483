#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

/// Fleet statistics (the seed's getMonitorStats) and duration summaries.
///
///   Percentile(durations, p)     -> linear interpolation between closest ranks (p in [0, 100])
///   Median(durations)            -> Percentile(durations, 50)
///   SummarizeDurations(durations) -> count, mean, p50, p95
///   ComputeFleetStats(counts)    -> pending, average deployment seconds and the error rate from the
///                                   raw counts the store reports (FleetCounts)
///
/// Pure and thread-safe.
namespace railwatch::core {

/// The p-th percentile (0..100, clamped) of `values` by linear interpolation between the closest
/// ranks (numpy's default); nullopt for an empty list. Negative durations are ignored.
std::optional<Duration> Percentile(std::vector<Duration> values, double p);
std::optional<Duration> Median(std::vector<Duration> values);

struct DurationSummary {
    std::size_t count = 0;
    std::optional<double> mean_seconds;
    std::optional<Duration> p50;
    std::optional<Duration> p95;
};

DurationSummary SummarizeDurations(const std::vector<Duration>& values);

/// The raw figures of a fleet, as the store counts them (store::Queries::CountFleet): counts and
/// sums only, no rates. ComputeFleetStats turns them into the figures users see.
struct FleetCounts {
    // The instances as they are now (the instances table).
    std::size_t total = 0;         ///< instances not DELETED (the seed's `deletedAt: null`)
    std::size_t running = 0;       ///< RUNNING
    std::size_t failed = 0;        ///< FAILED
    std::size_t initializing = 0;  ///< INITIALIZING (the seed's "pending")
    std::size_t deploying = 0;     ///< DEPLOYING (the seed counted these nowhere)
    std::size_t deleted = 0;       ///< DELETED, not part of total
    std::size_t flagged = 0;       ///< not DELETED and flagged needs_attention
    // Every deployment the timeline has seen (deployment_events), including finished ones of
    // deleted instances and earlier deployments of live ones.
    std::size_t deployments_seen = 0;       ///< distinct deployments with at least one event
    std::size_t deployments_finished = 0;   ///< reached SUCCESS, FAILED or CRASHED
    std::size_t deployments_failed = 0;     ///< reached FAILED or CRASHED (also after a SUCCESS)
    std::size_t deployments_succeeded = 0;  ///< reached SUCCESS
    /// Sum over the succeeded deployments of the time from their first event to their first
    /// SUCCESS (millisecond resolution).
    Duration succeeded_time_total{};
    /// Each succeeded deployment's time from its first event to its first SUCCESS (the terms of
    /// succeeded_time_total, millisecond resolution), in no particular order.
    std::vector<Duration> succeeded_times;
    /// Instances not DELETED by their stored health ("UNKNOWN" for none) and by their stored
    /// error class (instances without one left out), as stored: no zero entries.
    std::map<std::string, std::size_t> by_health;
    std::map<std::string, std::size_t> by_error_type;
};

/// The fleet figures of GET /stats.
struct FleetStats {
    FleetCounts counts;
    std::size_t pending = 0;  ///< INITIALIZING + DEPLOYING: not finished yet (total = running+failed+pending)
    /// Mean seconds from a deployment's first event to its first SUCCESS, over the deployments
    /// that succeeded; nullopt when none did.
    std::optional<double> avg_deployment_seconds;
    /// The median and 95th percentile of the same times (core::Percentile); nullopt when none
    /// succeeded.
    std::optional<double> p50_deployment_seconds;
    std::optional<double> p95_deployment_seconds;
    /// THE error rate of railwatch (the only place that computes it): the share of finished
    /// deployments that failed, deployments_failed / deployments_finished over the whole
    /// timeline; 0 when none finished. Per deployment, not per instance, because railwatch
    /// redeploys failed services on its own: an instance that failed and was redeployed to
    /// RUNNING would vanish from a per-instance rate although its deployment failed; the
    /// deployment rate also does not move when an instance is deleted, shares its basis with
    /// avg_deployment_seconds, and is the usual "change failure rate". The instance counts show
    /// the fleet as it is now.
    double error_rate = 0.0;
};

/// Rates and averages from raw counts. Pure.
FleetStats ComputeFleetStats(const FleetCounts& counts);

}  // namespace railwatch::core
