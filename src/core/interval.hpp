#pragma once

#include <map>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// How long to wait before checking a deployment again, by its status (the seed's table), with
/// per-status overrides from the config (`[monitor.intervals]`) and ± jitter so that many
/// deployments added at once do not stay in lock-step.
///
///   IntervalPolicy{}                               the seed's table, default 30 s, jitter ±10 %
///   BaseCheckInterval(policy, status)              -> the table's value (no jitter)
///   CheckInterval(policy, status, unit_random)     -> base * (1 + jitter * (2u - 1)), >= min
///   JitteredInterval(policy, base, unit_random)    -> the same for a base given by the caller
///
/// Pure and thread-safe.
namespace railwatch::core {

/// The seed's intervals: INITIALIZING 10 s, BUILDING 15 s, DEPLOYING 10 s, SUCCESS 60 s,
/// FAILED 30 s, CRASHED 30 s. Every other status uses IntervalPolicy::fallback.
std::map<DeploymentStatus, Duration> SeedCheckIntervals();

/// Configurable check intervals. Overrides replace entries of `per_status`; statuses absent from
/// the map (including kUnknown) use `fallback`.
struct IntervalPolicy {
    std::map<DeploymentStatus, Duration> per_status = SeedCheckIntervals();
    Duration fallback = Seconds(30);  ///< the config's `default`
    /// Fraction of the interval added or removed at random: 0.1 means ±10 %. Clamped to [0, 0.9].
    double jitter_fraction = 0.1;
    /// No interval is ever shorter than this (protects the API budget from a bad config).
    Duration min_interval = Seconds(1);
};

/// The interval for `status` without jitter (at least policy.min_interval).
Duration BaseCheckInterval(const IntervalPolicy& policy, DeploymentStatus status);

/// The interval for `status` with jitter: base * (1 + f * (2u - 1)) for u = `unit_random` in
/// [0, 1) (clamped) and f = jitter_fraction; never below policy.min_interval.
Duration CheckInterval(const IntervalPolicy& policy, DeploymentStatus status, double unit_random);

/// CheckInterval for a base the caller worked out (a user's own interval, a budget's stretch):
/// max(base, min) with the policy's jitter, never below policy.min_interval.
/// CheckInterval(p, s, u) == JitteredInterval(p, p.per_status[s] or fallback, u).
Duration JitteredInterval(const IntervalPolicy& policy, Duration base, double unit_random);

}  // namespace railwatch::core
