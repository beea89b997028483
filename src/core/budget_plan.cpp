#include "core/budget_plan.hpp"

#include <algorithm>
#include <cmath>

namespace railwatch::core {
namespace {

constexpr double kSecondsPerHour = 3600.0;

double Cost(const FleetGroup& group, double batch, double stretch) {
    const double interval_s = std::max(ToSecondsF(group.interval), 1e-3) * stretch;
    return static_cast<double>(group.count) / (batch * interval_s);
}

}  // namespace

BudgetPlan PlanBudget(const BudgetPlanInput& input) {
    BudgetPlan plan;
    const double batch = static_cast<double>(std::max<std::size_t>(input.batch_size, 1));
    const double reserve = std::isfinite(input.reserve_fraction) ? std::clamp(input.reserve_fraction, 0.0, 0.9) : 0.2;
    const double rate = std::max(0.0, std::min(input.requests_per_hour / kSecondsPerHour, input.requests_per_second));
    plan.budget_requests_per_second = rate * (1.0 - reserve);
    plan.reserve_requests_per_second = rate * reserve;
    plan.budget_requests_per_hour = plan.budget_requests_per_second * kSecondsPerHour;

    double fixed = 0;   // groups that keep their interval while they fit
    double stable = 0;  // groups stretched first
    for (const FleetGroup& group : input.groups) {
        plan.monitored += group.count;
        (IsStable(group.status) ? stable : fixed) += Cost(group, batch, 1.0);
    }
    plan.needed_requests_per_second = fixed + stable;
    const double budget = plan.budget_requests_per_second;
    if (plan.needed_requests_per_second > budget) {
        if (fixed < budget && stable > 0) {
            plan.stable_stretch = stable / (budget - fixed);
        } else {
            // Not even the in-progress deployments fit: everything slows down by one factor.
            const double factor = budget > 0 ? plan.needed_requests_per_second / budget : 1e9;
            plan.stable_stretch = factor;
            plan.in_progress_stretch = factor;
            plan.in_progress_fits = fixed <= budget;
        }
    }
    for (const FleetGroup& group : input.groups) {
        const double stretch = IsStable(group.status) ? plan.stable_stretch : plan.in_progress_stretch;
        plan.groups.push_back(GroupPlan{group, StretchInterval(group.interval, stretch)});
        plan.planned_requests_per_second += Cost(group, batch, stretch);
    }
    // Capacity at the configured intervals: the budget over the fleet's mean cost per deployment.
    const double per_deployment = plan.monitored > 0
                                      ? plan.needed_requests_per_second / static_cast<double>(plan.monitored)
                                      : 1.0 / (batch * std::max(ToSecondsF(input.default_interval), 1e-3));
    plan.capacity = per_deployment > 0 ? static_cast<std::size_t>(std::floor(budget / per_deployment + 1e-9)) : 0;
    return plan;
}

Duration StretchInterval(Duration interval, double stretch) {
    const double stretched = static_cast<double>(interval.count()) * std::max(stretch, 1.0);
    return stretched >= static_cast<double>(kLongestStretchedInterval.count())
               ? kLongestStretchedInterval
               : Duration(static_cast<Duration::rep>(std::llround(stretched)));
}

std::size_t ChecksAllowed(const BudgetPlan& plan, std::size_t batch_size, Duration window) {
    const double batch = static_cast<double>(std::max<std::size_t>(batch_size, 1));
    const double checks = plan.budget_requests_per_second * ToSecondsF(window) * batch;
    if (plan.budget_requests_per_second <= 0) return 0;
    return std::max<std::size_t>(static_cast<std::size_t>(std::floor(checks)), static_cast<std::size_t>(batch));
}

}  // namespace railwatch::core
