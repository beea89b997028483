#pragma once

#include <map>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// How long to wait before checking a deployment again, by its status (the seed's table), with
/// per-status overrides from the config (`[monitor.intervals]`) and jitter so that many
/// deployments added at once do not stay in lock-step. The jitter only shortens: a configured
/// interval is the longest a deployment waits between checks (a change shows within it), and
/// checks come on average MeanJitterFactor() of it apart.
///
///   IntervalPolicy{}                               the seed's table, default 30 s, jitter 10 %
///   BaseCheckInterval(policy, status)              -> the table's value (no jitter)
///   CheckInterval(policy, status, unit_random)     -> base * (1 - jitter * (1 - u)), >= min
///   JitteredInterval(policy, base, unit_random)    -> the same for a base given by the caller
///   MeanJitterFactor(policy)                       -> 1 - jitter / 2: the mean interval's share
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
    /// Fraction of the interval removed at random: 0.1 means 90–100 % of it. Clamped to [0, 0.9].
    double jitter_fraction = 0.1;
    /// No interval is ever shorter than this (protects the API budget from a bad config).
    Duration min_interval = Seconds(1);
};

/// The interval for `status` without jitter (at least policy.min_interval).
Duration BaseCheckInterval(const IntervalPolicy& policy, DeploymentStatus status);

/// The interval for `status` with jitter: base * (1 - f * (1 - u)) for u = `unit_random` in
/// [0, 1) (clamped) and f = jitter_fraction, so never above the base; never below policy.min_interval.
Duration CheckInterval(const IntervalPolicy& policy, DeploymentStatus status, double unit_random);

/// CheckInterval for a base the caller worked out (a user's own interval, a budget's stretch):
/// max(base, min) with the policy's jitter, never below policy.min_interval.
/// CheckInterval(p, s, u) == JitteredInterval(p, p.per_status[s] or fallback, u).
Duration JitteredInterval(const IntervalPolicy& policy, Duration base, double unit_random);

/// The mean of JitteredInterval over its draws as a share of the base (1 - f / 2): what a budget
/// plan counts each interval as (a check is due that much sooner on average).
double MeanJitterFactor(const IntervalPolicy& policy);

}  // namespace railwatch::core
