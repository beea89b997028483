#include "core/interval.hpp"

#include <algorithm>
#include <cmath>

#include "core/retry.hpp"

namespace railwatch::core {

std::map<DeploymentStatus, Duration> SeedCheckIntervals() {
    return {
        {DeploymentStatus::kInitializing, Seconds(10)}, {DeploymentStatus::kBuilding, Seconds(15)},
        {DeploymentStatus::kDeploying, Seconds(10)},    {DeploymentStatus::kSuccess, Seconds(60)},
        {DeploymentStatus::kFailed, Seconds(30)},       {DeploymentStatus::kCrashed, Seconds(30)},
    };
}

Duration BaseCheckInterval(const IntervalPolicy& policy, DeploymentStatus status) {
    const auto it = policy.per_status.find(status);
    const Duration base = it != policy.per_status.end() ? it->second : policy.fallback;
    return std::max(base, policy.min_interval);
}

Duration CheckInterval(const IntervalPolicy& policy, DeploymentStatus status, double unit_random) {
    return JitteredInterval(policy, BaseCheckInterval(policy, status), unit_random);
}

namespace {
double JitterFraction(const IntervalPolicy& policy) {
    return std::isfinite(policy.jitter_fraction) ? std::clamp(policy.jitter_fraction, 0.0, 0.9) : 0.0;
}
}  // namespace

Duration JitteredInterval(const IntervalPolicy& policy, Duration given, double unit_random) {
    const Duration base = std::max(given, policy.min_interval);
    // Only shorter: the configured interval is the longest wait between two checks.
    const double scale = 1.0 - JitterFraction(policy) * (1.0 - ClampUnit(unit_random));
    const auto jittered = Duration(static_cast<Duration::rep>(std::llround(static_cast<double>(base.count()) * scale)));
    return std::max(jittered, policy.min_interval);
}

double MeanJitterFactor(const IntervalPolicy& policy) {
    return 1.0 - JitterFraction(policy) / 2.0;
}

}  // namespace railwatch::core
