#include "core/stats.hpp"

#include <algorithm>
#include <cmath>

namespace railwatch::core {

std::optional<Duration> Percentile(std::vector<Duration> values, double p) {
    values.erase(std::remove_if(values.begin(), values.end(), [](Duration d) { return d < Duration::zero(); }),
                 values.end());
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    const double q = std::isfinite(p) ? std::clamp(p, 0.0, 100.0) / 100.0 : 0.5;
    const double rank = q * static_cast<double>(values.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(rank));
    const std::size_t upper = std::min(lower + 1, values.size() - 1);
    const double weight = rank - static_cast<double>(lower);
    const double a = static_cast<double>(values[lower].count());
    const double b = static_cast<double>(values[upper].count());
    return Duration(static_cast<Duration::rep>(std::llround(a + (b - a) * weight)));
}

std::optional<Duration> Median(std::vector<Duration> values) {
    return Percentile(std::move(values), 50.0);
}

DurationSummary SummarizeDurations(const std::vector<Duration>& values) {
    DurationSummary out;
    double sum = 0.0;
    for (Duration d : values) {
        if (d < Duration::zero()) continue;
        sum += ToSecondsF(d);
        ++out.count;
    }
    if (out.count == 0) return out;
    out.mean_seconds = sum / static_cast<double>(out.count);
    out.p50 = Percentile(values, 50.0);
    out.p95 = Percentile(values, 95.0);
    return out;
}

FleetStats ComputeFleetStats(const std::vector<InstanceSummary>& instances) {
    FleetStats out;
    std::vector<Duration> durations;
    for (const InstanceSummary& instance : instances) {
        switch (instance.status) {
            case InstanceStatus::kDeleted:
                ++out.deleted;
                continue;
            case InstanceStatus::kRunning:
                ++out.running;
                break;
            case InstanceStatus::kFailed:
                ++out.failed;
                break;
            case InstanceStatus::kInitializing:
                ++out.pending;
                ++out.initializing;
                break;
            case InstanceStatus::kDeploying:
                ++out.pending;
                ++out.deploying;
                break;
        }
        ++out.total;
        if (instance.deployment_duration) durations.push_back(*instance.deployment_duration);
    }
    const DurationSummary summary = SummarizeDurations(durations);
    out.avg_deployment_seconds = summary.mean_seconds;
    out.p50_deployment = summary.p50;
    out.p95_deployment = summary.p95;
    const std::size_t finished = out.running + out.failed;
    out.error_rate = finished == 0 ? 0.0 : static_cast<double>(out.failed) / static_cast<double>(finished);
    return out;
}

}  // namespace railwatch::core
