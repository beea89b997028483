#include "core/stats_history.hpp"

#include <algorithm>

#include "core/stats.hpp"

namespace railwatch::core {

namespace {

std::size_t ClassIndex(ErrorClass c) {
    const auto it = std::find(kAllErrorClasses.begin(), kAllErrorClasses.end(), c);
    return static_cast<std::size_t>(it - kAllErrorClasses.begin());
}

}  // namespace

Timestamp AlignDown(Timestamp t, Duration step) {
    const Duration since_epoch = t.time_since_epoch();
    Duration rem = since_epoch % step;
    // % keeps the dividend's sign: before the epoch, step back one more bucket.
    if (rem < Duration::zero()) rem += step;
    return t - rem;
}

HistoryWindow PlanHistory(Timestamp since, Duration step, Timestamp now) {
    HistoryWindow w;
    w.step = step;
    if (step <= Duration::zero() || since > now) {
        w.first = since;
        return w;
    }
    w.first = AlignDown(since, step);
    const Timestamp last = AlignDown(now, step);
    w.count = static_cast<std::size_t>((last - w.first) / step) + 1;
    return w;
}

std::vector<HistoryPoint> ComputeStatsHistory(const HistoryWindow& window,
                                              std::span<const FinishedDeployment> deployments,
                                              std::span<const EngineMinute> minutes) {
    std::vector<HistoryPoint> points(window.count);
    if (window.count == 0) return points;
    for (std::size_t i = 0; i < points.size(); ++i)
        points[i].at = window.first + window.step * static_cast<long long>(i);
    const Timestamp end = window.End();
    const auto bucket_of = [&](Timestamp t) -> std::optional<std::size_t> {
        if (t < window.first || t >= end) return std::nullopt;
        return static_cast<std::size_t>((t - window.first) / window.step);
    };

    std::vector<std::vector<Duration>> durations(points.size());
    for (const FinishedDeployment& d : deployments) {
        const auto b = bucket_of(d.finished_at);
        if (!b) continue;
        HistoryPoint& p = points[*b];
        ++p.finished;
        durations[*b].push_back(d.finished_at - d.started_at);
        if (d.failed) {
            ++p.failed;
            ++p.failed_by_class[ClassIndex(d.error_class.value_or(ErrorClass::kUnknown))];
        }
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (durations[i].empty()) continue;
        points[i].duration_p50 = Percentile(durations[i], 50);
        points[i].duration_p95 = Percentile(std::move(durations[i]), 95);
    }

    std::vector<std::optional<Timestamp>> budget_seen(points.size());
    for (const EngineMinute& m : minutes) {
        const auto b = bucket_of(m.minute);
        if (!b) continue;
        HistoryPoint& p = points[*b];
        p.checks += m.checks;
        p.api_requests += m.api_requests;
        if (m.budget_remaining) {
            // A row without a time still counts, as the oldest sighting of its bucket.
            const Timestamp seen = m.budget_seen_at.value_or(m.minute);
            if (!budget_seen[*b] || seen >= *budget_seen[*b]) {
                budget_seen[*b] = seen;
                p.budget_remaining = m.budget_remaining;
            }
        }
    }
    return points;
}

BudgetStatus ComputeBudgetStatus(const BudgetFacts& facts, Timestamp now) {
    BudgetStatus out;
    out.limit_per_hour = facts.limit_per_hour;
    out.remaining = std::max<long long>(0, facts.remaining);
    out.reset_at = facts.reset_at;
    out.used_last_hour = facts.used_last_hour;
    // At least a minute: a start's first requests, sent within seconds, are not a rate (three
    // requests in 0.6 s would read as ~300 a minute and "run out" an hour's budget in half an hour).
    const double span_minutes = std::max(ToSecondsF(facts.recent_span) / 60.0, 1.0);
    if (facts.recent_span > Duration::zero())
        out.requests_per_minute = static_cast<double>(facts.used_recently) / span_minutes;
    const double rate = out.requests_per_minute;
    if (facts.reset_at) {
        if (rate > 0) {
            const auto at = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<60>>(
                                      static_cast<double>(out.remaining) / rate));
            if (at < *facts.reset_at) out.exhausts_at = at;
        }
    } else {
        const double net = rate - static_cast<double>(facts.limit_per_hour) / 60.0;
        if (net > 0) {
            out.exhausts_at = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<60>>(
                                        static_cast<double>(out.remaining) / net));
        }
    }
    return out;
}

}  // namespace railwatch::core
