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

FleetStats ComputeFleetStats(const FleetCounts& counts) {
    FleetStats out;
    out.counts = counts;
    out.pending = counts.initializing + counts.deploying;
    if (counts.deployments_succeeded > 0) {
        out.avg_deployment_seconds =
            ToSecondsF(counts.succeeded_time_total) / static_cast<double>(counts.deployments_succeeded);
    }
    if (const auto p50 = Percentile(counts.succeeded_times, 50.0)) out.p50_deployment_seconds = ToSecondsF(*p50);
    if (const auto p95 = Percentile(counts.succeeded_times, 95.0)) out.p95_deployment_seconds = ToSecondsF(*p95);
    // A deployment that succeeded and crashed later counts as finished once and failed once.
    if (counts.deployments_finished > 0) {
        out.error_rate = static_cast<double>(std::min(counts.deployments_failed, counts.deployments_finished)) /
                         static_cast<double>(counts.deployments_finished);
    }
    return out;
}

}  // namespace railwatch::core
