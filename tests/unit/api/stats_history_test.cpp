// GET /api/v1/stats/history and the `budget` of GET /api/v1/stats (docs/DASHBOARD.md).
#include <gtest/gtest.h>

#include "api_test_support.hpp"

namespace railwatch::api::test {
namespace {

using nlohmann::json;

// The FakeClock's start, 2026-01-01T00:00:00Z, plus `s` seconds.
core::Timestamp T(long long s) {
    return util::FakeClock::DefaultStart() + core::Seconds(s);
}

store::Transition MakeTransition(const std::string& instance, const std::string& deployment, std::string to,
                                 core::Timestamp at, std::optional<core::ErrorClass> error_class = std::nullopt) {
    store::Transition t;
    t.instance_id = instance;
    t.deployment_id = deployment;
    t.to_status = std::move(to);
    t.at = at;
    t.source = "poll";
    t.state.status = core::InstanceStatus::kDeploying;
    t.state.deployment_id = deployment;
    t.state.deployment_status = t.to_status;
    t.state.error_type = error_class;
    return t;
}

TEST_F(ApiTest, StatsHistoryHasEveryBucketWithDeploymentsChecksAndBudget) {
    const std::string a = AddInstance("svc-a", "dep-a");
    const std::string b = AddInstance("svc-b", "dep-b");
    // dep-a: 120 s, succeeds in the second 15-minute bucket; dep-b fails in the last one, classified.
    ASSERT_TRUE(store_->ApplyTransition(MakeTransition(a, "dep-a", "BUILDING", T(900))));
    ASSERT_TRUE(store_->ApplyTransition(MakeTransition(a, "dep-a", "SUCCESS", T(1020))));
    ASSERT_TRUE(store_->ApplyTransition(MakeTransition(b, "dep-b", "BUILDING", T(3000))));
    ASSERT_TRUE(store_->ApplyTransition(MakeTransition(b, "dep-b", "FAILED", T(3630), core::ErrorClass::kTimeout)));
    ASSERT_TRUE(store_->RecordEngineMinutes(
        "w1", {core::EngineMinute{T(960), 30, 3, 990, T(970)}, core::EngineMinute{T(3600), 12, 2, 950, T(3620)}},
        T(0)));
    ASSERT_TRUE(
        store_->RecordEngineMinutes("w2", {core::EngineMinute{T(960), 5, 1, std::nullopt, std::nullopt}}, T(0)));
    clock_.Advance(core::Seconds(3700));

    auto res = Call("GET", "/api/v1/stats/history?since=2026-01-01T00%3A05%3A00Z&stepSeconds=900");
    ASSERT_EQ(res.status, 200) << res.body;
    const json body = Json(res);
    EXPECT_EQ(body["since"], "2026-01-01T00:05:00.000Z");
    EXPECT_EQ(body["until"], "2026-01-01T01:01:40.000Z");
    EXPECT_EQ(body["stepSeconds"], 900);
    const json& points = body["points"];
    ASSERT_EQ(points.size(), 5u);  // 00:00 (holds since) … 01:00 (the current, partial one)
    EXPECT_EQ(points[0]["at"], "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(points[4]["at"], "2026-01-01T01:00:00.000Z");

    const json& empty = points[0];
    EXPECT_EQ(empty["finished"], 0);
    EXPECT_EQ(empty["failed"], 0);
    EXPECT_TRUE(empty["durationP50Seconds"].is_null());
    EXPECT_TRUE(empty["durationP95Seconds"].is_null());
    EXPECT_EQ(empty["failedByClass"], json::object());
    EXPECT_EQ(empty["checks"], 0);
    EXPECT_EQ(empty["apiRequests"], 0);
    EXPECT_TRUE(empty["budgetRemaining"].is_null());

    const json& second = points[1];
    EXPECT_EQ(second["finished"], 1);
    EXPECT_EQ(second["failed"], 0);
    EXPECT_EQ(second["durationP50Seconds"], 120.0);
    EXPECT_EQ(second["durationP95Seconds"], 120.0);
    EXPECT_EQ(second["checks"], 35);  // both processes
    EXPECT_EQ(second["apiRequests"], 4);
    EXPECT_EQ(second["budgetRemaining"], 990);

    const json& last = points[4];
    EXPECT_EQ(last["finished"], 1);
    EXPECT_EQ(last["failed"], 1);
    EXPECT_EQ(last["failedByClass"], (json{{"TIMEOUT", 1}}));
    EXPECT_EQ(last["durationP50Seconds"], 630.0);
    EXPECT_EQ(last["checks"], 12);
    EXPECT_EQ(last["budgetRemaining"], 950);
}

TEST_F(ApiTest, StatsHistoryDefaultsToTheLastDayIn15MinuteBuckets) {
    clock_.Advance(core::Seconds(3700));
    auto res = Call("GET", "/api/v1/stats/history");
    ASSERT_EQ(res.status, 200) << res.body;
    const json body = Json(res);
    EXPECT_EQ(body["stepSeconds"], 900);
    EXPECT_EQ(body["since"], "2025-12-31T01:01:40.000Z");
    EXPECT_EQ(body["points"].size(), 97u);  // 96 full buckets and the one holding `since`
    EXPECT_EQ(body["points"][0]["at"], "2025-12-31T01:00:00.000Z");
}

TEST_F(ApiTest, StatsHistoryRejectsBadParametersWith400) {
    const auto error_of = [&](std::string_view target) {
        auto res = Call("GET", target);
        EXPECT_EQ(res.status, 400) << target << ": " << res.body;
        return Json(res)["error"]["message"].get<std::string>();
    };
    EXPECT_NE(error_of("/api/v1/stats/history?stepSeconds=30").find("60..86400"), std::string::npos);
    EXPECT_NE(error_of("/api/v1/stats/history?stepSeconds=86460").find("60..86400"), std::string::npos);
    EXPECT_NE(error_of("/api/v1/stats/history?stepSeconds=90").find("multiple of 60"), std::string::npos);
    EXPECT_NE(error_of("/api/v1/stats/history?stepSeconds=ten").find("stepSeconds"), std::string::npos);
    EXPECT_NE(error_of("/api/v1/stats/history?since=yesterday").find("RFC 3339"), std::string::npos);
    EXPECT_NE(error_of("/api/v1/stats/history?since=2026-01-02T00:00:00Z").find("future"), std::string::npos);
    // 7 days of minutes: 10,081 buckets.
    const std::string too_many = error_of("/api/v1/stats/history?since=2025-12-25T00:00:00Z&stepSeconds=60");
    EXPECT_NE(too_many.find("at most 2000"), std::string::npos) << too_many;
    // 2,000 buckets exactly are answered.
    clock_.Advance(core::Seconds(60LL * 1999));
    EXPECT_EQ(Call("GET", "/api/v1/stats/history?since=2026-01-01T00:00:00Z&stepSeconds=60").status, 200);
    EXPECT_EQ(Call("GET", "/api/v1/stats/history?since=2025-12-31T23:59:59Z&stepSeconds=60").status, 400);
}

TEST_F(ApiTest, StatsHistoryNeedsTheToken) {
    auto res = Call("GET", "/api/v1/stats/history", {}, false);
    EXPECT_EQ(res.status, 401);
}

TEST_F(ApiTest, StatsBudgetIsNullWithoutABudgetSource) {
    auto res = Call("GET", "/api/v1/stats");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(Json(res)["budget"].is_null());
    EXPECT_TRUE(Json(res)["incident"].is_null());
}

TEST_F(ApiTest, StatsBudgetShowsTheBudgetSourcesFigures) {
    RestApiOptions options = Options();
    std::optional<core::BudgetStatus> status;
    options.budget = [&status] { return status; };
    RestApi api(Roles(), ops_, clock_, nullptr, &hub_, options);
    auto stats = [&] { return Json(api.Handle(MakeRequest("GET", "/api/v1/stats")))["budget"]; };
    EXPECT_TRUE(stats().is_null());  // before the first Railway request
    status = core::BudgetStatus{1000, 412, T(3600), 588, 9.8, T(2520)};
    const json budget = stats();
    EXPECT_EQ(budget["limitPerHour"], 1000);
    EXPECT_EQ(budget["remaining"], 412);
    EXPECT_EQ(budget["usedLastHour"], 588);
    EXPECT_EQ(budget["requestsPerMinute"], 9.8);
    EXPECT_EQ(budget["resetAt"], "2026-01-01T01:00:00.000Z");
    EXPECT_EQ(budget["exhaustsAt"], "2026-01-01T00:42:00.000Z");
    status->exhausts_at.reset();
    status->reset_at.reset();
    EXPECT_TRUE(stats()["exhaustsAt"].is_null());
    EXPECT_TRUE(stats()["resetAt"].is_null());
}

}  // namespace
}  // namespace railwatch::api::test
