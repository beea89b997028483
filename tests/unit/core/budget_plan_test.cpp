#include "core/budget_plan.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace railwatch::core {
namespace {

BudgetPlanInput Input(std::vector<FleetGroup> groups, double rph, double rps, std::size_t batch = 50) {
    BudgetPlanInput input;
    input.groups = std::move(groups);
    input.requests_per_hour = rph;
    input.requests_per_second = rps;
    input.batch_size = batch;
    input.reserve_fraction = 0.2;
    return input;
}

TEST(BudgetPlan, FleetThatFitsKeepsEveryInterval) {
    const BudgetPlan plan = PlanBudget(Input(
        {{DeploymentStatus::kBuilding, Seconds(15), 100}, {DeploymentStatus::kSuccess, Seconds(60), 1000}}, 10000, 50));
    EXPECT_DOUBLE_EQ(plan.stable_stretch, 1.0);
    EXPECT_DOUBLE_EQ(plan.in_progress_stretch, 1.0);
    EXPECT_TRUE(plan.in_progress_fits);
    ASSERT_EQ(plan.groups.size(), 2u);
    EXPECT_EQ(plan.groups[0].effective_interval, Seconds(15));
    EXPECT_EQ(plan.groups[1].effective_interval, Seconds(60));
    EXPECT_EQ(plan.monitored, 1100u);
}

TEST(BudgetPlan, HourlyLimitIsProRatedAndReserveKeptForSideWork) {
    const BudgetPlan plan = PlanBudget(Input({}, 3600, 50));
    // 3600/h = 1/s, of which 80 % for polling; the per-second limit is not the binding one.
    EXPECT_NEAR(plan.budget_requests_per_second, 0.8, 1e-9);
    EXPECT_NEAR(plan.budget_requests_per_hour, 2880, 1e-6);
    EXPECT_NEAR(plan.reserve_requests_per_second, 0.2, 1e-9);  // side work's
}

TEST(BudgetPlan, OverBudgetStretchesOnlyStableStatusesByOneFactor) {
    // Hobby: 1000/h → 0.2778/s, 0.2222/s after the reserve. 50 building at 15 s with batch 50
    // cost 0.0667/s; 2000 SUCCESS at 60 s and 1000 FAILED at 30 s cost 0.6667/s + 0.6667/s.
    const BudgetPlan plan = PlanBudget(Input({{DeploymentStatus::kBuilding, Seconds(15), 50},
                                              {DeploymentStatus::kSuccess, Seconds(60), 2000},
                                              {DeploymentStatus::kFailed, Seconds(30), 1000}},
                                             1000, 10));
    EXPECT_TRUE(plan.in_progress_fits);
    EXPECT_DOUBLE_EQ(plan.in_progress_stretch, 1.0);
    EXPECT_GT(plan.stable_stretch, 1.0);
    EXPECT_EQ(plan.groups[0].effective_interval, Seconds(15));
    const double success_factor = ToSecondsF(plan.groups[1].effective_interval) / 60.0;
    const double failed_factor = ToSecondsF(plan.groups[2].effective_interval) / 30.0;
    EXPECT_NEAR(success_factor, failed_factor, 1e-6);  // fairly: one common factor
    EXPECT_NEAR(plan.planned_requests_per_second, plan.budget_requests_per_second, 1e-6);
}

TEST(BudgetPlan, WhenEvenInProgressDoesNotFitEverythingStretchesAndThePlanSaysSo) {
    const BudgetPlan plan = PlanBudget(Input(
        {{DeploymentStatus::kDeploying, Seconds(10), 5000}, {DeploymentStatus::kSuccess, Seconds(60), 10}}, 1000, 10));
    EXPECT_FALSE(plan.in_progress_fits);
    EXPECT_GT(plan.in_progress_stretch, 1.0);
    EXPECT_DOUBLE_EQ(plan.in_progress_stretch, plan.stable_stretch);
    EXPECT_GT(plan.groups[0].effective_interval, Seconds(10));
    EXPECT_NEAR(plan.planned_requests_per_second, plan.budget_requests_per_second, 1e-6);
}

// 1 request an hour for 500,000 deployments due every second, one of them a day apart: a stretch
// of ~2e9, whose day-long group no nanosecond count holds; both read as the longest stretched
// interval (a week), the second-long one too.
TEST(BudgetPlan, AStretchBeyondWhatADurationHoldsIsTheLongestStretchedInterval) {
    const BudgetPlan plan = PlanBudget(
        Input({{DeploymentStatus::kDeploying, Seconds(1), 500000}, {DeploymentStatus::kSuccess, Seconds(86400), 1}}, 1,
              10, 1));
    ASSERT_GT(plan.stable_stretch, 1e9);
    EXPECT_EQ(plan.groups[0].effective_interval, kLongestStretchedInterval);
    EXPECT_EQ(plan.groups[1].effective_interval, kLongestStretchedInterval);
    EXPECT_EQ(StretchInterval(Seconds(10), 0.5), Seconds(10));  // never shortened
    EXPECT_EQ(StretchInterval(Seconds(10), 1.5), Seconds(15));
}

TEST(BudgetPlan, CapacityAtTheConfiguredIntervals) {
    // Pro: 10,000/h → 2.778/s, 2.222/s after the reserve; 50 per request every 60 s.
    const BudgetPlan pro = PlanBudget(Input({{DeploymentStatus::kSuccess, Seconds(60), 10}}, 10000, 50));
    EXPECT_EQ(pro.capacity, 6666u);
    // One id per request (the seed's design), hobby at 60 s: 1000/h * 0.8 = 13 deployments.
    BudgetPlanInput seed = Input({}, 1000, 10, 1);
    seed.default_interval = Seconds(60);
    EXPECT_EQ(PlanBudget(seed).capacity, 13u);
    // docs/ENGINE.md's examples at 100, the default batch (400) and the most batch_size allows (500).
    for (const auto& [per_hour, per_second, batch, capacity] :
         {std::tuple{10000, 50, 100, 13333u}, std::tuple{10000, 50, 400, 53333u}, std::tuple{10000, 50, 500, 66666u},
          std::tuple{1000, 10, 100, 1333u}, std::tuple{1000, 10, 400, 5333u}, std::tuple{1000, 10, 500, 6666u}}) {
        EXPECT_EQ(
            PlanBudget(Input({{DeploymentStatus::kSuccess, Seconds(60), 10}}, per_hour, per_second, batch)).capacity,
            capacity)
            << per_hour << "/h, batch " << batch;
    }
}

TEST(BudgetPlan, ChecksAllowedFollowsTheBudgetWithAtLeastOneBatch) {
    const BudgetPlan plan = PlanBudget(Input({}, 36000, 50));  // 10/s, 8/s after the reserve
    EXPECT_EQ(ChecksAllowed(plan, 50, Seconds(1)), 400u);
    EXPECT_EQ(ChecksAllowed(plan, 50, Millis(10)), 50u);
    EXPECT_EQ(ChecksAllowed(PlanBudget(Input({}, 0, 0)), 50, Seconds(1)), 0u);
}

}  // namespace
}  // namespace railwatch::core
