#pragma once

#include <cstddef>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// The scheduling plan: how often each monitored deployment can be checked within the Railway
/// token's budget (docs/ENGINE.md, "Budget").
///
///   PlanBudget(input) -> BudgetPlan{per-group effective intervals, stretch factors, capacity}
///
/// Rules:
/// - The budget is min(requests_per_hour / 3600, requests_per_second) requests per second (the
///   hourly limit pro-rated so that it lasts the hour), minus `reserve_fraction` of it kept for
///   side work (logs, deployment events, redeploys, discovery).
/// - A group of n deployments checked every t seconds, `batch_size` ids per request, costs
///   n / (batch_size * t) requests per second.
/// - When the fleet fits, every group keeps its interval (stretch 1). When it does not, the groups
///   that are not stable (core::IsStable: pending, in progress, unknown values) keep theirs and
///   every stable group is stretched by one common factor so that the total fits. When even the
///   non-stable groups alone do not fit, every group is stretched by one factor and the plan says
///   so (`in_progress_fits` false).
/// - Capacity: how many deployments fit at the configured intervals, with the fleet's own mix of
///   intervals (the `default_interval` when the fleet is empty).
/// Pure and thread-safe.
namespace railwatch::core {

/// Deployments of one status that share one configured interval.
struct FleetGroup {
    DeploymentStatus status = DeploymentStatus::kUnknown;  ///< the deployments' current status
    Duration interval{};    ///< the configured interval (per status, or the instance's own)
    std::size_t count = 0;  ///< how many deployments
};

/// The fleet and the token's limits.
struct BudgetPlanInput {
    std::vector<FleetGroup> groups;
    std::size_t batch_size = 50;              ///< ids per status request (≥ 1)
    double requests_per_hour = 1000;          ///< the token's hourly limit
    double requests_per_second = 10;          ///< the token's per-second limit
    double reserve_fraction = 0.2;            ///< share of the budget kept for side work, clamped to [0, 0.9]
    Duration default_interval = Seconds(30);  ///< quotes capacity for an empty fleet
};

/// One group's planned interval.
struct GroupPlan {
    FleetGroup group;
    Duration effective_interval{};  ///< ≥ group.interval
};

/// The plan: what polling may spend and how much each group's interval is stretched.
struct BudgetPlan {
    double budget_requests_per_second = 0;   ///< pro-rated and after the reserve: what polling may use
    double budget_requests_per_hour = 0;     ///< the same per hour
    double reserve_requests_per_second = 0;  ///< pro-rated, the reserve: what side work may use
    double needed_requests_per_second = 0;   ///< what the fleet needs at its configured intervals
    double planned_requests_per_second = 0;  ///< what it needs at the effective intervals (≤ budget)
    double stable_stretch = 1.0;             ///< factor applied to stable groups' intervals
    double in_progress_stretch = 1.0;        ///< factor applied to the others (1 unless they alone do not fit)
    bool in_progress_fits = true;            ///< false: even in-progress deployments are checked less often
    std::size_t monitored = 0;               ///< deployments in the plan
    std::size_t capacity = 0;                ///< deployments that fit at the configured intervals
    std::vector<GroupPlan> groups;           ///< in input order
};

/// Plans the fleet within the budget (the rules above).
BudgetPlan PlanBudget(const BudgetPlanInput& input);

/// How many status checks the budget allows in `window` (at least 1 batch when the budget is
/// positive): budget_requests_per_second * window * batch_size.
/// The longest interval a stretch makes: a budget far too small for the fleet (1 request an hour
/// for thousands of instances) stretches by millions, past what a nanosecond count holds.
inline constexpr Duration kLongestStretchedInterval = Seconds(7 * 86400);

/// `interval` stretched by `stretch` (at least 1): what the plan, the engine's schedule and its
/// reports use, at most kLongestStretchedInterval.
Duration StretchInterval(Duration interval, double stretch);

std::size_t ChecksAllowed(const BudgetPlan& plan, std::size_t batch_size, Duration window);

}  // namespace railwatch::core
