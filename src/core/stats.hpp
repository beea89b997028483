#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// Fleet statistics (the seed's getMonitorStats) and duration summaries.
///
///   Percentile(durations, p)     -> linear interpolation between closest ranks (p in [0, 100])
///   Median(durations)            -> Percentile(durations, 50)
///   SummarizeDurations(durations) -> count, mean, p50, p95
///   ComputeFleetStats(instances) -> total, running, failed, pending, average deployment seconds,
///                                   error rate, p50/p95 deployment duration
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

/// What stats need to know about one instance.
struct InstanceSummary {
    InstanceStatus status = InstanceStatus::kInitializing;
    /// From the deployment's creation to SUCCESS or to the failure verdict; nullopt while running.
    std::optional<Duration> deployment_duration;
};

struct FleetStats {
    std::size_t total = 0;         ///< instances not DELETED (the seed's `deletedAt: null`)
    std::size_t running = 0;       ///< RUNNING
    std::size_t failed = 0;        ///< FAILED
    std::size_t pending = 0;       ///< INITIALIZING or DEPLOYING: not finished yet (total = running+failed+pending)
    std::size_t initializing = 0;  ///< the seed's "pending" (INITIALIZING only)
    std::size_t deploying = 0;     ///< DEPLOYING (the seed counted these nowhere)
    std::size_t deleted = 0;       ///< DELETED, not part of total
    /// Mean deployment duration of non-deleted instances that have one; nullopt if none.
    std::optional<double> avg_deployment_seconds;
    /// failed / (running + failed): the share of finished deployments that failed; 0 when none.
    double error_rate = 0.0;
    std::optional<Duration> p50_deployment;
    std::optional<Duration> p95_deployment;
};

FleetStats ComputeFleetStats(const std::vector<InstanceSummary>& instances);

}  // namespace railwatch::core
