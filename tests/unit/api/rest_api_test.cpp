#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "api/badge.hpp"
#include "api/render.hpp"
#include "api/static_assets.hpp"
#include "api_test_support.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::api::test {
namespace {

using nlohmann::json;

/// The first value of response header `name` (exact case), if any.
std::optional<std::string> HeaderOf(const net::ServerResponse& res, std::string_view name) {
    for (const auto& [key, value] : res.headers)
        if (key == name) return value;
    return std::nullopt;
}

TEST_F(ApiTest, HealthzAnswersWithoutAToken) {
    auto res = Call("GET", "/healthz", {}, false);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(Json(res)["ok"], true);
}

TEST_F(ApiTest, ReadyzIsOkWhileTheStoreAnswers) {
    auto res = Call("GET", "/readyz", {}, false);
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["ready"], true);
}

TEST_F(ApiTest, EveryApiRouteAnswers401WithoutOrWithAWrongToken) {
    int checked = 0;
    for (const RouteInfo& route : api_.Routes()) {
        if (route.pattern.rfind("/api/", 0) != 0 || route.pattern == "/api/v1/hooks/railway") continue;
        std::string path = route.pattern;
        if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "ins_x");
        auto without = Call(route.method, path, "{}", false);
        EXPECT_EQ(without.status, 401) << route.method << " " << path;
        EXPECT_EQ(Json(without)["error"]["code"], "unauthorized");
        auto req = MakeRequest(route.method, path, "{}", false);
        req.headers.emplace_back("Authorization", "Bearer wrong-token-of-another-length");
        EXPECT_EQ(api_.Handle(req).status, 401) << route.method << " " << path;
        req.headers.back().second = "Bearer " + std::string(kToken.size(), 'x');
        EXPECT_EQ(api_.Handle(req).status, 401) << route.method << " " << path;
        ++checked;
    }
    EXPECT_GE(checked, 19);
}

TEST_F(ApiTest, TheTokenMayUseAnyCaseOfTheBearerScheme) {
    auto req = MakeRequest("GET", "/api/v1/stats", {}, false);
    req.headers.emplace_back("authorization", "bearer " + std::string(kToken));
    EXPECT_EQ(api_.Handle(req).status, 200);
}

TEST_F(ApiTest, UnknownApiPathIs404AsJson) {
    auto res = Call("GET", "/api/v1/nothing-here");
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(Json(res)["error"]["code"], "not_found");
    EXPECT_EQ(Call("GET", "/api/v1/instances/").status, 404);
}

TEST_F(ApiTest, CreateUserAnswers201AndRejectsBadOrDuplicateEmails) {
    auto res = Call("POST", "/api/v1/users", R"({"email":"ana@example.com","name":"Ana","id":"usr_ana"})");
    ASSERT_EQ(res.status, 201) << res.body;
    EXPECT_EQ(Json(res)["id"], "usr_ana");
    EXPECT_EQ(Json(res)["email"], "ana@example.com");
    EXPECT_EQ(Call("POST", "/api/v1/users", R"({"email":"ana@example.com"})").status, 409);
    EXPECT_EQ(Call("POST", "/api/v1/users", R"({"name":"No mail"})").status, 422);
    EXPECT_EQ(Call("POST", "/api/v1/users", R"({"email":"not-an-address"})").status, 422);
    EXPECT_EQ(Call("POST", "/api/v1/users", R"({"email":42})").status, 422);
    EXPECT_EQ(Call("POST", "/api/v1/users", R"(["email"])").status, 400);
    auto list = Call("GET", "/api/v1/users");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(Json(list)["items"].size(), 1u);
}

TEST_F(ApiTest, CreateInstanceAnswers201WithEveryContractField) {
    auto res = Call("POST", "/api/v1/instances",
                    R"({"serviceId":"svc-1","environmentId":"env-1","deploymentId":"dep-1","projectName":"checkout",
                        "checkIntervalSeconds":20})");
    ASSERT_EQ(res.status, 201) << res.body;
    json body = Json(res);
    for (const char* field : {"id",
                              "userId",
                              "projectName",
                              "serviceId",
                              "environmentId",
                              "deploymentId",
                              "status",
                              "deploymentStatus",
                              "progress",
                              "health",
                              "errorType",
                              "errorMessage",
                              "needsAttention",
                              "attentionReason",
                              "retryCount",
                              "monitoring",
                              "checkIntervalSeconds",
                              "createdAt",
                              "deploymentStartedAt",
                              "deploymentUpdatedAt",
                              "deploymentCompletedAt",
                              "deletedAt"}) {
        EXPECT_TRUE(body.contains(field)) << field;
    }
    EXPECT_EQ(body["status"], "INITIALIZING");
    EXPECT_EQ(body["deploymentStatus"], nullptr);
    EXPECT_EQ(body["checkIntervalSeconds"], 20);
    EXPECT_EQ(body["effectiveIntervalSeconds"], 20.0);  // the engine's CheckInterval
    EXPECT_EQ(body["createdAt"], "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(res.headers.front().first, "Location");
    ASSERT_EQ(ops_.Calls().size(), 1u);
    EXPECT_EQ(ops_.Calls()[0], (std::pair<std::string, std::string>{"AddInstance", "svc-1"}));
}

TEST_F(ApiTest, CreateInstanceRejectsBadBodiesWithoutCallingTheEngine) {
    EXPECT_EQ(Call("POST", "/api/v1/instances", "not json").status, 400);
    EXPECT_EQ(Call("POST", "/api/v1/instances", "[1,2]").status, 400);
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"environmentId":"env-1"})").status, 422);
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"serviceId":"","environmentId":"env-1"})").status, 422);
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"serviceId":1,"environmentId":"env-1"})").status, 422);
    auto res = Call("POST", "/api/v1/instances", R"({"serviceId":"s","environmentId":"e","checkIntervalSeconds":0})");
    EXPECT_EQ(res.status, 422);
    EXPECT_NE(Json(res)["error"]["message"].get<std::string>().find("checkIntervalSeconds"), std::string::npos);
    EXPECT_EQ(
        Call("POST", "/api/v1/instances", R"({"serviceId":"s","environmentId":"e","checkIntervalSeconds":1.5})").status,
        422);
    EXPECT_TRUE(ops_.Calls().empty());
}

TEST_F(ApiTest, EngineErrorsBecomeTheirStatusCodes) {
    ops_.FailNext("AddInstance", util::Error(util::ErrorCode::kNotFound, "Railway has no deployment for svc-9"));
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"serviceId":"svc-9","environmentId":"e"})").status, 404);
    ops_.FailNext("AddInstance", util::Error(util::ErrorCode::kUnavailable, "store down"));
    auto res = Call("POST", "/api/v1/instances", R"({"serviceId":"svc-9","environmentId":"e"})");
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(Json(res)["error"]["code"], "unavailable");
    ops_.FailNext("AddInstance", util::Error(util::ErrorCode::kInvalidArgument, "userId names no user"));
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"serviceId":"s","environmentId":"e","userId":"x"})").status, 422);
    ops_.FailNext("AddInstance", util::Error(util::ErrorCode::kRateLimited, "budget"));
    EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"serviceId":"s","environmentId":"e"})").status, 429);
}

TEST_F(ApiTest, EveryInstanceRouteAnswers404ForAnUnknownId) {
    for (const RouteInfo& route : api_.Routes()) {
        if (route.pattern.find("/instances/{id}") == std::string::npos) continue;
        std::string path = route.pattern;
        path.replace(path.find("{id}"), 4, "ins_unknown");
        const std::string body = route.method == "PUT" ? R"({"enabled":true})" : "";
        ops_.FailNext("DeleteInstance", util::Error(util::ErrorCode::kNotFound, "no instance ins_unknown"));
        ops_.FailNext("SetMonitoring", util::Error(util::ErrorCode::kNotFound, "no instance ins_unknown"));
        auto res = Call(route.method, path, body);
        EXPECT_EQ(res.status, 404) << route.method << " " << path << " " << res.body;
    }
}

TEST_F(ApiTest, GetInstanceReturnsTheStoredInstanceWithItsRecentChecksOldestFirst) {
    const std::string id = AddInstance();
    for (int i = 0; i < 3; ++i) {
        store::HealthCheck check;
        check.instance_id = id;
        check.at = clock_.Now() + core::Seconds(i);
        check.ok = i != 1;
        check.http_status = i != 1 ? 200 : 502;
        check.latency_ms = 10 + i;
        ASSERT_TRUE(store_->RecordHealthCheck(check));
    }
    auto res = Call("GET", "/api/v1/instances/" + id);
    ASSERT_EQ(res.status, 200);
    json body = Json(res);
    EXPECT_EQ(body["id"], id);
    ASSERT_EQ(body["recentChecks"].size(), 3u);
    EXPECT_EQ(body["recentChecks"][0]["latencyMs"], 10);
    EXPECT_EQ(body["recentChecks"][1]["ok"], false);
    EXPECT_EQ(body["recentChecks"][2]["latencyMs"], 12);
}

TEST_F(ApiTest, ListInstancesPagesThroughEveryInstanceOnceWithTheCursor) {
    std::set<std::string> added;
    for (int i = 0; i < 5; ++i) {
        added.insert(AddInstance("svc-" + std::to_string(i), "dep-" + std::to_string(i)));
        clock_.Advance(core::Seconds(1));
    }
    std::set<std::string> seen;
    std::string target = "/api/v1/instances?limit=2";
    int pages = 0;
    while (true) {
        auto res = Call("GET", target);
        ASSERT_EQ(res.status, 200) << res.body;
        json body = Json(res);
        EXPECT_LE(body["items"].size(), 2u);
        for (const json& item : body["items"])
            EXPECT_TRUE(seen.insert(item["id"].get<std::string>()).second) << "listed twice: " << item["id"];
        ++pages;
        if (body["nextCursor"].is_null()) break;
        target = "/api/v1/instances?limit=2&cursor=" + body["nextCursor"].get<std::string>();
        ASSERT_LT(pages, 10);
    }
    EXPECT_EQ(seen, added);
    EXPECT_EQ(pages, 3);
}

TEST_F(ApiTest, ListInstancesCarriesEachInstancesOwnRecentChecksAsGetDoes) {
    const std::string a = AddInstance("svc-a", "dep-a");
    clock_.Advance(core::Seconds(1));
    const std::string b = AddInstance("svc-b", "dep-b");
    clock_.Advance(core::Seconds(1));
    const std::string c = AddInstance("svc-c", "dep-c");
    for (int n = 0; n < 25; ++n) {
        store::HealthCheck check;
        check.instance_id = n % 2 == 0 ? a : c;
        check.at = clock_.Now() + core::Seconds(n);
        check.ok = n % 3 != 0;
        check.latency_ms = n;
        ASSERT_TRUE(store_->RecordHealthCheck(check));
    }
    auto res = Call("GET", "/api/v1/instances");
    ASSERT_EQ(res.status, 200) << res.body;
    const json body = Json(res);
    ASSERT_EQ(body["items"].size(), 3u);
    EXPECT_TRUE(body["nextCursor"].is_null());
    for (const json& item : body["items"]) {
        const json one = Json(Call("GET", "/api/v1/instances/" + item["id"].get<std::string>()));
        EXPECT_EQ(item, one);
    }
    EXPECT_EQ(body["items"][0]["id"], c);
    EXPECT_EQ(body["items"][0]["recentChecks"].size(), 12u);
    EXPECT_EQ(body["items"][1]["recentChecks"].size(), 0u);
    EXPECT_EQ(body["items"][2]["recentChecks"].size(), 13u);
}

TEST_F(ApiTest, ListInstancesFiltersByStatusAndAttentionAndRejectsBadFilters) {
    const std::string a = AddInstance("svc-a", "dep-a");
    AddInstance("svc-b", "dep-b");
    store::InstanceState failed;
    failed.status = core::InstanceStatus::kFailed;
    failed.deployment_id = "dep-a";
    failed.needs_attention = true;
    failed.attention_reason = "build failed";
    ASSERT_TRUE(store_->SaveState(a, failed));

    auto res = Call("GET", "/api/v1/instances?status=FAILED");
    ASSERT_EQ(res.status, 200) << res.body;
    ASSERT_EQ(Json(res)["items"].size(), 1u);
    EXPECT_EQ(Json(res)["items"][0]["id"], a);
    auto flagged = Call("GET", "/api/v1/instances?needsAttention=true");
    ASSERT_EQ(flagged.status, 200);
    ASSERT_EQ(Json(flagged)["items"].size(), 1u);
    EXPECT_EQ(Json(flagged)["items"][0]["attentionReason"], "build failed");

    EXPECT_EQ(Call("GET", "/api/v1/instances?status=BROKEN").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?limit=0").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?limit=501").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?limit=abc").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?needsAttention=maybe").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?cursor=forged").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?health=FINE").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?errorType=OOM").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?status=FAILED,").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?count=yes").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?q=" + std::string(201, 'x')).status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances?status=FAILED", {}, false).status, 401);
}

TEST_F(ApiTest, ListInstancesFiltersByStatusListHealthErrorClassAndTextAndCountsWhenAsked) {
    const std::string failed_id = AddInstance("svc-alpha", "dep-a");
    clock_.Advance(core::Seconds(1));
    const std::string running_id = AddInstance("svc-beta", "dep-b");
    clock_.Advance(core::Seconds(1));
    const std::string deploying_id = AddInstance("svc-gamma", "dep-c");
    store::InstanceState failed;
    failed.status = core::InstanceStatus::kFailed;
    failed.deployment_id = "dep-a";
    failed.health = "UNHEALTHY";
    failed.error_type = core::ErrorClass::kConfiguration;
    ASSERT_TRUE(store_->SaveState(failed_id, failed));
    store::InstanceState running;
    running.status = core::InstanceStatus::kRunning;
    running.deployment_id = "dep-b";
    running.health = "HEALTHY";
    ASSERT_TRUE(store_->SaveState(running_id, running));
    store::InstanceState deploying;
    deploying.status = core::InstanceStatus::kDeploying;
    deploying.deployment_id = "dep-c";
    ASSERT_TRUE(store_->SaveState(deploying_id, deploying));

    const auto ids = [&](const std::string& query) {
        auto res = Call("GET", "/api/v1/instances?" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        const json body = Json(res);
        std::vector<std::string> out;
        for (const json& item : body["items"])
            out.push_back(item["id"].get<std::string>());
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(ids("status=FAILED,RUNNING"), (V{running_id, failed_id}));
    EXPECT_EQ(ids("status=FAILED%2CDEPLOYING"), (V{deploying_id, failed_id}));
    EXPECT_EQ(ids("health=HEALTHY,UNHEALTHY"), (V{running_id, failed_id}));
    EXPECT_EQ(ids("health=UNKNOWN"), (V{deploying_id})) << "never probed counts as UNKNOWN";
    EXPECT_EQ(ids("errorType=CONFIGURATION,NETWORK"), (V{failed_id}));
    EXPECT_EQ(ids("errorType=TIMEOUT"), V{});
    EXPECT_EQ(ids("q=BETA"), (V{running_id})) << "service id, any case";
    EXPECT_EQ(ids("q=dep-c"), (V{deploying_id})) << "deployment id";
    EXPECT_EQ(ids("q=" + failed_id), (V{failed_id})) << "instance id";
    EXPECT_EQ(ids("q=checkout").size(), 3u) << "project name";
    EXPECT_EQ(ids("q=%25"), V{}) << "% is a character, not a wildcard";
    EXPECT_EQ(ids("q=svc_"), V{}) << "_ is a character, not a wildcard";
    EXPECT_EQ(ids("status=FAILED,RUNNING&health=HEALTHY&q=svc"), (V{running_id})) << "filters combine with AND";

    // totalCount only when asked: it costs a count over every matching row.
    EXPECT_FALSE(Json(Call("GET", "/api/v1/instances?limit=1")).contains("totalCount"));
    auto counted = Json(Call("GET", "/api/v1/instances?limit=1&count=true"));
    EXPECT_EQ(counted["items"].size(), 1u);
    EXPECT_EQ(counted["totalCount"], 3);
    EXPECT_EQ(Json(Call("GET", "/api/v1/instances?status=FAILED,RUNNING&count=true"))["totalCount"], 2);
    EXPECT_EQ(Json(Call("GET", "/api/v1/instances?q=nothing-like-this&count=true"))["totalCount"], 0);
}

TEST_F(ApiTest, FailureIsNullUntilTheDeploymentFailedThenNamesClassDecidingLineAndNextStep) {
    const std::string id = AddInstance("svc-1", "dep-1");
    auto before = Call("GET", "/api/v1/instances/" + id + "/failure");
    ASSERT_EQ(before.status, 200) << before.body;
    EXPECT_EQ(Json(before)["instanceId"], id);
    EXPECT_TRUE(Json(before)["failure"].is_null());

    std::vector<store::LogLine> lines;
    for (const char* text : {"npm ci", "Error: DATABASE_URL is not set", "exit 1"}) {
        store::LogLine line;
        line.instance_id = id;
        line.deployment_id = "dep-1";
        line.kind = core::LogKind::kBuild;
        line.timestamp = clock_.Now();
        line.severity = std::string(text).starts_with("Error") ? "error" : "info";
        line.message = text;
        lines.push_back(line);
        clock_.Advance(core::Seconds(1));
    }
    ASSERT_TRUE(store_->AppendLogs(lines));
    store::InstanceState s;
    s.status = core::InstanceStatus::kFailed;
    s.deployment_id = "dep-1";
    s.deployment_status = "FAILED";
    s.error_type = core::ErrorClass::kConfiguration;
    s.error_message = "missing environment variable";
    s.error_stack = "Error: DATABASE_URL is not set";
    s.deployment_completed_at = clock_.Now();
    ASSERT_TRUE(store_->SaveState(id, s));

    auto res = Call("GET", "/api/v1/instances/" + id + "/failure");
    ASSERT_EQ(res.status, 200) << res.body;
    const json f = Json(res)["failure"];
    ASSERT_TRUE(f.is_object()) << res.body;
    EXPECT_EQ(f["errorType"], "CONFIGURATION");
    EXPECT_EQ(f["title"], "Configuration error");
    EXPECT_EQ(f["reason"], "missing environment variable");
    EXPECT_EQ(f["message"], "Error: DATABASE_URL is not set");
    EXPECT_EQ(f["decidingLine"]["message"], "Error: DATABASE_URL is not set");
    EXPECT_EQ(f["decidingLine"]["kind"], "build");
    EXPECT_EQ(f["decidingLine"]["severity"], "error");
    // The rule's step, naming what the deciding line names (core::FailureNextStep).
    EXPECT_EQ(f["nextStep"], "Set DATABASE_URL in the service's variables on Railway, then redeploy.");
    EXPECT_TRUE(f["failedStep"].is_null());
    EXPECT_EQ(f["at"], util::FormatRfc3339(clock_.Now()));

    // Before the verdict: failed, class not known yet, no evidence to highlight.
    s.error_type.reset();
    s.error_stack.reset();
    s.error_message = "deployment failed";
    ASSERT_TRUE(store_->SaveState(id, s));
    const json early = Json(Call("GET", "/api/v1/instances/" + id + "/failure"))["failure"];
    EXPECT_TRUE(early["errorType"].is_null());
    EXPECT_TRUE(early["decidingLine"].is_null());
    EXPECT_EQ(early["message"], "deployment failed");
    EXPECT_EQ(early["title"], "Deployment failed");
    EXPECT_EQ(Call("GET", "/api/v1/instances/" + id + "/failure", {}, false).status, 401);
    EXPECT_EQ(Call("GET", "/api/v1/instances/ins_nope/failure").status, 404);
}

TEST_F(ApiTest, TheBadgeShowsOnlyTheStatusWithoutATokenAndRevalidates) {
    const std::string id = AddInstance("svc-secret-name", "dep-1");
    store::InstanceState s;
    s.status = core::InstanceStatus::kFailed;
    s.deployment_id = "dep-1";
    s.deployment_status = "CRASHED";
    s.error_type = core::ErrorClass::kResource;
    s.error_message = "out of memory";
    ASSERT_TRUE(store_->SaveState(id, s));

    auto res = Call("GET", "/badge/" + id + ".svg", {}, false);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.content_type, "image/svg+xml; charset=utf-8");
    EXPECT_EQ(HeaderOf(res, "Cache-Control").value_or(""), "no-cache");
    EXPECT_TRUE(res.body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    EXPECT_NE(res.body.find("deployment: Crashed"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("#d73a31"), std::string::npos) << "red for a crash";
    for (const char* secret : {"svc-secret-name", "checkout", "dep-1", "memory", "RESOURCE", "env-1"})
        EXPECT_EQ(res.body.find(secret), std::string::npos) << "the badge shows " << secret;
    const std::string etag(HeaderOf(res, "ETag").value_or(""));
    ASSERT_FALSE(etag.empty());

    auto again = MakeRequest("GET", "/badge/" + id + ".svg", {}, false);
    again.headers.emplace_back("If-None-Match", etag);
    auto revalidated = api_.Handle(again);
    EXPECT_EQ(revalidated.status, 304);
    EXPECT_TRUE(revalidated.body.empty());

    s.status = core::InstanceStatus::kRunning;
    s.deployment_status = "SUCCESS";
    ASSERT_TRUE(store_->SaveState(id, s));
    auto changed = api_.Handle(again);
    ASSERT_EQ(changed.status, 200) << "a new status is a new representation";
    EXPECT_NE(HeaderOf(changed, "ETag").value_or(""), etag);
    EXPECT_NE(changed.body.find("deployment: Online"), std::string::npos) << changed.body;
    EXPECT_NE(changed.body.find("#2e9e44"), std::string::npos) << "green for a success";
    EXPECT_EQ(Call("HEAD", "/badge/" + id + ".svg", {}, false).body, "");
}

TEST_F(ApiTest, TheBadgeOfAnUnknownInstanceIsA404ImageAndOtherPathsAre404) {
    auto res = Call("GET", "/badge/ins_unknown.svg", {}, false);
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.content_type, "image/svg+xml; charset=utf-8");
    EXPECT_NE(res.body.find("not found"), std::string::npos);
    EXPECT_EQ(Call("GET", "/badge/ins_x.png", {}, false).status, 404);
    EXPECT_EQ(Call("GET", "/badge/.svg", {}, false).status, 404);
    EXPECT_EQ(Call("GET", "/badge/a/b.svg", {}, false).status, 404);
    EXPECT_EQ(Call("POST", "/badge/ins_x.svg", {}, false).status, 404);
}

TEST_F(ApiTest, BadgeColoursFollowRailwaysStatusThenRailwatchsOwn) {
    const auto badge = [](core::InstanceStatus status, std::optional<std::string> railway) {
        store::InstanceState s;
        s.status = status;
        s.deployment_status = std::move(railway);
        return BadgeFor(s);
    };
    EXPECT_EQ(badge(core::InstanceStatus::kDeploying, "BUILDING").message, "Building");
    EXPECT_EQ(badge(core::InstanceStatus::kDeploying, "BUILDING").colour, "#c9820a");
    EXPECT_EQ(badge(core::InstanceStatus::kFailed, "FAILED").colour, "#d73a31");
    EXPECT_EQ(badge(core::InstanceStatus::kRunning, "SLEEPING").message, "Sleeping");
    EXPECT_EQ(badge(core::InstanceStatus::kFailed, "REMOVED").colour, "#7a7a7a");
    EXPECT_EQ(badge(core::InstanceStatus::kRunning, std::nullopt).message, "Running");
    EXPECT_EQ(badge(core::InstanceStatus::kDeleted, std::nullopt).colour, "#7a7a7a");
    EXPECT_EQ(badge(core::InstanceStatus::kInitializing, "SOMETHING_NEW").message, "Initializing")
        << "an unknown Railway value falls back to railwatch's status";
    const std::string svg = BadgeSvg("a<b", "c&d", "#000000");
    EXPECT_NE(svg.find("a&lt;b: c&amp;d"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

TEST_F(ApiTest, DeleteInstanceMarksItDeletedThroughTheEngine) {
    const std::string id = AddInstance();
    auto res = Call("DELETE", "/api/v1/instances/" + id);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["status"], "DELETED");
    EXPECT_FALSE(Json(res)["deletedAt"].is_null());
    EXPECT_EQ(ops_.Calls().back().first, "DeleteInstance");
}

TEST_F(ApiTest, SetMonitoringNeedsEnabledAndAnswersTheUpdatedInstance) {
    const std::string id = AddInstance();
    EXPECT_EQ(Call("PUT", "/api/v1/instances/" + id + "/monitoring", "{}").status, 422);
    EXPECT_EQ(Call("PUT", "/api/v1/instances/" + id + "/monitoring", R"({"enabled":"yes"})").status, 422);
    auto res = Call("PUT", "/api/v1/instances/" + id + "/monitoring", R"({"enabled":false})");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["monitoring"], false);
    EXPECT_TRUE(Json(res)["effectiveIntervalSeconds"].is_null());  // not checked at all
    res = Call("PUT", "/api/v1/instances/" + id + "/monitoring", R"({"enabled":true,"checkIntervalSeconds":45})");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["monitoring"], true);
    EXPECT_EQ(Json(res)["checkIntervalSeconds"], 45);
    // Absent: left as it is; null: removed (the per-status intervals apply again).
    res = Call("PUT", "/api/v1/instances/" + id + "/monitoring", R"({"enabled":true})");
    EXPECT_EQ(Json(res)["checkIntervalSeconds"], 45);
    res = Call("PUT", "/api/v1/instances/" + id + "/monitoring", R"({"enabled":true,"checkIntervalSeconds":null})");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(Json(res)["checkIntervalSeconds"].is_null());
    EXPECT_TRUE(Json(Call("GET", "/api/v1/instances/" + id))["checkIntervalSeconds"].is_null());
    // The interval the engine checks it at, in the object and in the list's.
    EXPECT_EQ(Json(Call("GET", "/api/v1/instances/" + id))["effectiveIntervalSeconds"], 7.5);
    EXPECT_EQ(Json(Call("GET", "/api/v1/instances"))["items"][0]["effectiveIntervalSeconds"], 7.5);
}

TEST_F(ApiTest, ProgressAnswersTheEnginesReport) {
    const std::string id = AddInstance();
    auto res = Call("GET", "/api/v1/instances/" + id + "/progress");
    ASSERT_EQ(res.status, 200) << res.body;
    json body = Json(res);
    EXPECT_EQ(body["instanceId"], id);
    EXPECT_EQ(body["deploymentId"], "dep-1");
    EXPECT_EQ(body["progress"], 40);
    EXPECT_EQ(body["phase"], "building");
    EXPECT_EQ(body["etaSeconds"], 90);
    EXPECT_EQ(body["stepAware"], false);
    EXPECT_EQ(body["steps"], json::array());
    // The step list (docs/DASHBOARD.md): each row's times, duration and median in seconds.
    monitor::ProgressReport report;
    report.progress = 55;
    report.phase = "building image";
    report.step_aware = true;
    const core::Timestamp t0 = clock_.Now();
    core::StepRow queued{"QUEUED", "Queued", core::StepState::kDone, t0, t0 + core::Millis(4500), core::Seconds(4), {}};
    core::StepRow building{"BUILDING",        "Building", core::StepState::kActive, t0 + core::Seconds(5), std::nullopt,
                           core::Seconds(72), {}};
    building.substeps.push_back(core::StepRow{"BUILD_IMAGE",
                                              "building image",
                                              core::StepState::kActive,
                                              t0 + core::Seconds(6),
                                              std::nullopt,
                                              std::nullopt,
                                              {}});
    report.steps = {queued, building};
    ops_.SetProgress(report);
    body = Json(Call("GET", "/api/v1/instances/" + id + "/progress"));
    EXPECT_EQ(body["stepAware"], true);
    ASSERT_EQ(body["steps"].size(), 2u);
    EXPECT_EQ(body["steps"][0],
              json::parse(R"({"name":"QUEUED","label":"Queued","state":"done","startedAt":"2026-01-01T00:00:00.000Z",
                              "completedAt":"2026-01-01T00:00:04.500Z","durationSeconds":4.5,"medianSeconds":4.0,
                              "substeps":[]})"));
    EXPECT_EQ(body["steps"][1]["state"], "active");
    EXPECT_TRUE(body["steps"][1]["durationSeconds"].is_null());
    EXPECT_EQ(body["steps"][1]["medianSeconds"], 72.0);
    EXPECT_EQ(body["steps"][1]["substeps"][0]["name"], "BUILD_IMAGE");
    EXPECT_FALSE(body["steps"][1]["substeps"][0].contains("substeps"));
}

TEST_F(ApiTest, LogsAreTheCurrentDeploymentsNewestLastAndFilteredByKind) {
    const std::string id = AddInstance();
    std::vector<store::LogLine> lines;
    for (int i = 0; i < 4; ++i) {
        store::LogLine line;
        line.instance_id = id;
        line.deployment_id = i == 0 ? "dep-old" : "dep-1";
        line.kind = i == 3 ? core::LogKind::kBuild : core::LogKind::kDeploy;
        line.timestamp = clock_.Now() + core::Seconds(i);
        line.severity = "info";
        line.message = "line " + std::to_string(i);
        lines.push_back(line);
    }
    ASSERT_TRUE(store_->AppendLogs(lines));
    auto res = Call("GET", "/api/v1/instances/" + id + "/logs");
    ASSERT_EQ(res.status, 200) << res.body;
    json items = Json(res)["items"];
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0]["message"], "line 1");
    EXPECT_EQ(items[2]["message"], "line 3");
    auto deploy = Call("GET", "/api/v1/instances/" + id + "/logs?kind=deploy&limit=1");
    ASSERT_EQ(deploy.status, 200);
    ASSERT_EQ(Json(deploy)["items"].size(), 1u);
    EXPECT_EQ(Json(deploy)["items"][0]["message"], "line 2");
    EXPECT_EQ(Json(deploy)["items"][0]["kind"], "deploy");
    EXPECT_EQ(Call("GET", "/api/v1/instances/" + id + "/logs?kind=runtime").status, 400);
    EXPECT_EQ(Call("GET", "/api/v1/instances/" + id + "/logs?limit=1001").status, 400);
}

// A read of an instance's logs asks the engine for the deployment's newer lines (for the next
// read); the engine failing to is no error of the read, which answers what is stored.
TEST_F(ApiTest, ReadingLogsAsksTheEngineToFollowThemAndAnswersWhatIsStoredEvenWhenItCannot) {
    const std::string id = AddInstance();
    const auto follows = [&] {
        const auto calls = ops_.Calls();
        return std::count(calls.begin(), calls.end(), std::pair<std::string, std::string>{"FollowLogs", id});
    };
    ASSERT_EQ(Call("GET", "/api/v1/instances/" + id + "/logs").status, 200);
    EXPECT_EQ(follows(), 1);
    ops_.FailNext("FollowLogs", util::Error(util::ErrorCode::kUnavailable, "store down"));
    auto res = Call("GET", "/api/v1/instances/" + id + "/logs");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(Json(res)["items"].empty());
    EXPECT_EQ(follows(), 2);
    EXPECT_EQ(Call("GET", "/api/v1/instances/ins_nope/logs").status, 404);
}

TEST_F(ApiTest, HealthSummarisesTheStoredChecks) {
    const std::string id = AddInstance();
    for (int i = 0; i < 4; ++i) {
        store::HealthCheck check;
        check.instance_id = id;
        check.at = clock_.Now() + core::Seconds(i);
        check.ok = i != 3;
        check.http_status = i != 3 ? 200 : 0;
        check.error = i != 3 ? std::nullopt : std::optional<std::string>("timeout");
        ASSERT_TRUE(store_->RecordHealthCheck(check));
    }
    clock_.Advance(core::Seconds(10));
    auto res = Call("GET", "/api/v1/instances/" + id + "/health");
    ASSERT_EQ(res.status, 200) << res.body;
    json body = Json(res);
    EXPECT_EQ(body["instanceId"], id);
    EXPECT_EQ(body["status"], "UNKNOWN");
    EXPECT_DOUBLE_EQ(body["uptimePercent"].get<double>(), 75.0);
    EXPECT_EQ(body["lastCheckedAt"], "2026-01-01T00:00:03.000Z");
    ASSERT_EQ(body["reasons"].size(), 1u);
    EXPECT_EQ(body["reasons"][0], "last probe failed: timeout");
    EXPECT_EQ(body["probe"]["at"], "2026-01-01T00:00:03.000Z");  // the last one
    EXPECT_EQ(body["probe"]["ok"], false);
    EXPECT_EQ(body["probe"]["error"], "timeout");
    EXPECT_EQ(body["uptimeSeconds"], 0);  // not running: not up
    EXPECT_TRUE(body["upSince"].is_null());
    // Running since its deployment became active.
    store::InstanceState running;
    running.status = core::InstanceStatus::kRunning;
    running.deployment_id = "dep-1";
    running.deployment_status = "SUCCESS";
    running.deployment_completed_at = clock_.Now() - core::Seconds(90);
    ASSERT_TRUE(store_->SaveState(id, running));
    body = Json(Call("GET", "/api/v1/instances/" + id + "/health"));
    EXPECT_EQ(body["uptimeSeconds"], 90);
    EXPECT_EQ(body["upSince"], util::FormatRfc3339(clock_.Now() - core::Seconds(90)));
    running.status = core::InstanceStatus::kFailed;  // crashed since: no longer up
    ASSERT_TRUE(store_->SaveState(id, running));
    body = Json(Call("GET", "/api/v1/instances/" + id + "/health"));
    EXPECT_EQ(body["uptimeSeconds"], 0);
    EXPECT_TRUE(body["upSince"].is_null());

    auto checks = Call("GET", "/api/v1/instances/" + id + "/health/checks?limit=2");
    ASSERT_EQ(checks.status, 200);
    ASSERT_EQ(Json(checks)["items"].size(), 2u);
    EXPECT_EQ(Json(checks)["items"][1]["error"], "timeout");
    EXPECT_EQ(Call("GET", "/api/v1/instances/" + id + "/health/checks?since=yesterday").status, 400);
}

TEST_F(ApiTest, EventsListTheTimelineOldestFirst) {
    const std::string id = AddInstance();
    store::Transition t;
    t.instance_id = id;
    t.deployment_id = "dep-1";
    t.to_status = "BUILDING";
    t.at = clock_.Now();
    t.state.status = core::InstanceStatus::kDeploying;
    ASSERT_TRUE(store_->ApplyTransition(t));
    t.from_status = "BUILDING";
    t.to_status = "SUCCESS";
    t.at = clock_.Now() + core::Seconds(30);
    t.state.status = core::InstanceStatus::kRunning;
    ASSERT_TRUE(store_->ApplyTransition(t));
    auto res = Call("GET", "/api/v1/instances/" + id + "/events");
    ASSERT_EQ(res.status, 200) << res.body;
    json items = Json(res)["items"];
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0]["from"], nullptr);
    EXPECT_EQ(items[0]["to"], "BUILDING");
    EXPECT_EQ(items[1]["from"], "BUILDING");
    EXPECT_EQ(items[1]["to"], "SUCCESS");
    EXPECT_EQ(items[1]["source"], "poll");
    EXPECT_EQ(items[1]["deploymentId"], "dep-1");
}

TEST_F(ApiTest, RedeployAnswers202AndConflictsForDeletedInstances) {
    const std::string id = AddInstance();
    auto res = Call("POST", "/api/v1/instances/" + id + "/redeploy");
    ASSERT_EQ(res.status, 202) << res.body;
    EXPECT_EQ(Json(res)["instanceId"], id);
    EXPECT_EQ(ops_.Calls().back(), (std::pair<std::string, std::string>{"Redeploy", id}));
    ops_.FailNext("Redeploy", util::Error(util::ErrorCode::kConflict, "a redeploy is in flight"));
    EXPECT_EQ(Call("POST", "/api/v1/instances/" + id + "/redeploy").status, 409);
    ASSERT_EQ(Call("DELETE", "/api/v1/instances/" + id).status, 200);
    EXPECT_EQ(Call("POST", "/api/v1/instances/" + id + "/redeploy").status, 409);
}

TEST_F(ApiTest, StatsCountTheFleet) {
    const std::string a = AddInstance("svc-a", "dep-a");
    AddInstance("svc-b", "dep-b");
    store::InstanceState running;
    running.status = core::InstanceStatus::kRunning;
    running.deployment_id = "dep-a";
    ASSERT_TRUE(store_->SaveState(a, running));
    auto res = Call("GET", "/api/v1/stats");
    ASSERT_EQ(res.status, 200) << res.body;
    json body = Json(res);
    EXPECT_EQ(body["totalInstances"], 2);
    EXPECT_EQ(body["runningInstances"], 1);
    EXPECT_EQ(body["failedInstances"], 0);
    EXPECT_EQ(body["pendingInstances"], 1);
    EXPECT_EQ(body["errorRate"], 0.0);
    EXPECT_EQ(body["byStatus"]["RUNNING"], 1);
    EXPECT_EQ(body["capacity"]["capacity"], 16);
    EXPECT_EQ(body["capacity"]["batchSize"], 25);
    EXPECT_TRUE(body["avgDeploymentSeconds"].is_null());  // no deployment finished
    EXPECT_TRUE(body["p50DeploymentSeconds"].is_null());
    EXPECT_TRUE(body["p95DeploymentSeconds"].is_null());
    EXPECT_EQ(body["byHealth"], json({{"UNKNOWN", 2}}));
    EXPECT_EQ(body["byErrorType"], json::object());
    EXPECT_TRUE(body["checksPerMinute"].is_null());  // no engine history given
}

TEST_F(ApiTest, AttentionListsFlaggedInstancesWithTheirOwner) {
    ASSERT_EQ(Call("POST", "/api/v1/users", R"({"email":"ana@example.com","id":"usr_ana","name":"Ana"})").status, 201);
    auto added = Call("POST", "/api/v1/instances",
                      R"({"serviceId":"svc-1","environmentId":"env-1","deploymentId":"dep-1","userId":"usr_ana"})");
    ASSERT_EQ(added.status, 201) << added.body;
    const std::string id = Json(added)["id"];
    store::InstanceState failed;
    failed.status = core::InstanceStatus::kFailed;
    failed.deployment_id = "dep-1";
    failed.needs_attention = true;
    failed.attention_reason = "crash loop";
    ASSERT_TRUE(store_->SaveState(id, failed));
    auto res = Call("GET", "/api/v1/attention");
    ASSERT_EQ(res.status, 200) << res.body;
    json items = Json(res)["items"];
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0]["id"], id);
    EXPECT_EQ(items[0]["needsAttention"], true);
    EXPECT_EQ(items[0]["attentionKind"], "failed");
    EXPECT_EQ(items[0]["user"]["email"], "ana@example.com");
    // The engine's crash-loop flag (core::DetectCrashLoop's reason) is its own kind.
    failed.attention_reason = "crash loop: 3 crashes within 600 s";
    ASSERT_TRUE(store_->SaveState(id, failed));
    EXPECT_EQ(Json(Call("GET", "/api/v1/attention"))["items"][0]["attentionKind"], "crash_loop");
}

// dep-1 building since `since`, not heard of after.
store::InstanceState BuildingSince(core::Timestamp since) {
    store::InstanceState building;
    building.status = core::InstanceStatus::kDeploying;
    building.deployment_id = "dep-1";
    building.deployment_status = "BUILDING";
    building.deployment_started_at = since;
    building.deployment_updated_at = since;
    return building;
}

// The list judges stalls with the engine's deadlines (RestApiOptions::stuck_policy, from
// [monitor] stuck_after_seconds): 90 s in BUILDING is a stall at 60 s, not at the default 600 s.
TEST_F(ApiTest, AttentionJudgesStallsWithTheEnginesDeadline) {
    auto added =
        Call("POST", "/api/v1/instances", R"({"serviceId":"svc-1","environmentId":"env-1","deploymentId":"dep-1"})");
    ASSERT_EQ(added.status, 201) << added.body;
    const std::string id = Json(added)["id"];
    store::InstanceState building = BuildingSince(clock_.Now() - core::Seconds(90));
    ASSERT_TRUE(store_->SaveState(id, building));
    EXPECT_EQ(Json(Call("GET", "/api/v1/attention"))["items"].size(), 0u);  // the default deadline
    api::RestApiOptions options = Options();
    options.stuck_policy.default_deadline = core::Seconds(60);
    const api::RestApi api(Roles(), ops_, clock_, nullptr, &hub_, options);  // its own: no second metrics
    const auto res = api.Handle(MakeRequest("GET", "/api/v1/attention", "", true));
    ASSERT_EQ(res.status, 200) << res.body;
    const json items = json::parse(res.body)["items"];
    ASSERT_EQ(items.size(), 1u) << res.body;
    EXPECT_EQ(items[0]["attentionKind"], "stuck");
    EXPECT_NE(items[0]["attentionReason"].get<std::string>().find("deadline 60 s"), std::string::npos);
    // Since its 60 s without a sign of life ran out: 30 s ago.
    EXPECT_EQ(items[0]["attentionSince"], util::FormatRfc3339(clock_.Now() - core::Seconds(30)));
    // The engine flagged a stall; a log line since ends the list's own stall, not the flag.
    building.needs_attention = true;
    building.attention_reason = "no progress in BUILDING for 60 s (deadline 60 s)";
    building.deployment_updated_at = clock_.Now() - core::Seconds(5);
    ASSERT_TRUE(store_->SaveState(id, building));
    const json flagged = Json(Call("GET", "/api/v1/attention"))["items"];
    ASSERT_EQ(flagged.size(), 1u);
    EXPECT_EQ(flagged[0]["attentionKind"], "stuck");
}

// A stall is listed as incidentRelated only while the engine last heard of a Railway incident.
TEST_F(ApiTest, AttentionMarksStallsDuringARailwayIncident) {
    auto added =
        Call("POST", "/api/v1/instances", R"({"serviceId":"svc-1","environmentId":"env-1","deploymentId":"dep-1"})");
    ASSERT_EQ(added.status, 201) << added.body;
    const std::string id = Json(added)["id"];
    ASSERT_TRUE(store_->SaveState(id, BuildingSince(clock_.Now() - core::Seconds(7200))));
    const auto listed = [&] {
        auto res = Call("GET", "/api/v1/attention");
        EXPECT_EQ(res.status, 200) << res.body;
        return Json(res)["items"];
    };
    json items = listed();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0]["incidentRelated"], false);
    ops_.SetPlatformIncident("Builds are delayed");
    items = listed();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0]["incidentRelated"], true);
    EXPECT_NE(items[0]["attentionReason"].get<std::string>().find("likely theirs"), std::string::npos);
}

TEST_F(ApiTest, NotificationsListCountUnreadAndMarkRead) {
    ASSERT_EQ(Call("POST", "/api/v1/users", R"({"email":"ana@example.com","id":"usr_ana"})").status, 201);
    for (int i = 0; i < 3; ++i) {
        store::Notification n;
        n.id = "ntf_" + std::to_string(i);
        n.user_id = "usr_ana";
        n.type = "DEPLOYMENT_FAILED";
        n.title = "failed " + std::to_string(i);
        n.message = "the build failed";
        n.data = R"({"instanceId":"ins_1"})";
        n.created_at = clock_.Now() + core::Seconds(i);
        ASSERT_TRUE(store_->AddNotification(n));
    }
    auto res = Call("GET", "/api/v1/notifications?userId=usr_ana&limit=2");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["items"].size(), 2u);
    EXPECT_EQ(Json(res)["unreadCount"], 3);
    EXPECT_EQ(Json(res)["items"][0]["id"], "ntf_2");
    EXPECT_EQ(Json(res)["items"][0]["instanceId"], "ins_1");

    auto read = Call("POST", "/api/v1/notifications/ntf_1/read");
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(Json(read)["id"], "ntf_1");
    EXPECT_FALSE(Json(read)["readAt"].is_null());
    EXPECT_EQ(Call("POST", "/api/v1/notifications/ntf_1/read").status, 200);
    EXPECT_EQ(Call("POST", "/api/v1/notifications/ntf_missing/read").status, 404);
    auto unread = Call("GET", "/api/v1/notifications?unread=true");
    EXPECT_EQ(Json(unread)["items"].size(), 2u);
    EXPECT_EQ(Json(unread)["unreadCount"], 2);
    EXPECT_EQ(Call("GET", "/api/v1/notifications?unread=perhaps").status, 400);
}

TEST_F(ApiTest, DeliveriesListOutboxRowsWithoutTheirPayload) {
    store::OutboxMessage m;
    m.id = "out_1";
    m.channel = "webhook";
    m.dedup_key = "k1";
    m.payload = R"({"type":"DEPLOYMENT_FAILED","instanceId":"ins_1","url":"https://hooks.example.com/?token=s3cret"})";
    m.created_at = clock_.Now();
    ASSERT_TRUE(store_->EnqueueOutbox({m}));
    auto res = Call("GET", "/api/v1/deliveries?status=pending");
    ASSERT_EQ(res.status, 200) << res.body;
    json items = Json(res)["items"];
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0]["id"], "out_1");
    EXPECT_EQ(items[0]["channel"], "webhook");
    EXPECT_EQ(items[0]["status"], "pending");
    EXPECT_EQ(items[0]["notificationType"], "DEPLOYMENT_FAILED");
    EXPECT_EQ(res.body.find("s3cret"), std::string::npos);
    EXPECT_EQ(Json(Call("GET", "/api/v1/deliveries?status=sent"))["items"].size(), 0u);
    EXPECT_EQ(Call("GET", "/api/v1/deliveries?status=lost").status, 400);
}

/// Records what the API tells the notifier.
class RecordingDeliveryControl final : public DeliveryControl {
  public:
    void WakeDispatcher() override { ++wakes; }
    void EndpointEnabled(const std::string& key) override { enabled.push_back(key); }
    int wakes = 0;
    std::vector<std::string> enabled;
};

class DeliveryApiTest : public ApiTest {
  protected:
    DeliveryApiTest() : api_with_control_(Roles(), ops_, clock_, nullptr, &hub_, OptionsWithControl()) {}

    RestApiOptions OptionsWithControl() {
        RestApiOptions options = Options();
        options.deliveries = &control_;
        return options;
    }

    net::ServerResponse Send(std::string method, std::string_view target, bool with_token = true) {
        return api_with_control_.Handle(MakeRequest(std::move(method), target, {}, with_token));
    }

    /// Stores one webhook row and fails it once: dead with `error` when `dead`, else due again later.
    void AddFailedRow(const std::string& id, bool dead, const std::string& error = "HTTP 500 from http://127.0.0.1:1") {
        store::OutboxMessage m;
        m.id = id;
        m.channel = "webhook";
        m.dedup_key = "key-" + id;
        m.payload =
            R"({"version":1,"route":"webhook","event":{"id":"deployment_failed:ins_1:dep-1:1","type":"deployment_failed","instance":{"id":"ins_1"}}})";
        m.created_at = clock_.Now();
        ASSERT_TRUE(store_->EnqueueOutbox({m}));
        auto claimed = store_->ClaimOutbox("worker", clock_.Now(), core::Seconds(60), 10);
        ASSERT_TRUE(claimed);
        ASSERT_EQ(claimed->size(), 1u);
        std::optional<core::Timestamp> retry;
        if (!dead) retry = clock_.Now() + core::Seconds(300);
        ASSERT_TRUE(store_->MarkOutboxFailed(id, "worker", error, retry));
    }

    RecordingDeliveryControl control_;
    RestApi api_with_control_;
};

TEST_F(DeliveryApiTest, ReplayOfADeadDeliveryAnswers202WithThePendingRowAndWakesTheDispatcher) {
    AddFailedRow("out_dead", true);
    auto dead = Json(Send("GET", "/api/v1/deliveries?status=dead"));
    ASSERT_EQ(dead["items"].size(), 1u);
    EXPECT_EQ(dead["items"][0]["lastError"], "HTTP 500 from http://127.0.0.1:1");
    EXPECT_EQ(dead["items"][0]["notificationType"], "deployment_failed");
    EXPECT_EQ(dead["items"][0]["instanceId"], "ins_1");
    EXPECT_EQ(dead["items"][0]["eventId"], "deployment_failed:ins_1:dep-1:1");

    auto res = Send("POST", "/api/v1/deliveries/out_dead/replay");
    ASSERT_EQ(res.status, 202) << res.body;
    EXPECT_EQ(Json(res)["id"], "out_dead");
    EXPECT_EQ(Json(res)["status"], "pending");
    EXPECT_EQ(Json(res)["attempts"], 0);
    EXPECT_EQ(Json(res)["nextAttemptAt"], TimeJson(clock_.Now()));
    EXPECT_EQ(control_.wakes, 1);
    EXPECT_EQ(Json(Send("GET", "/api/v1/deliveries?status=pending"))["items"].size(), 1u);
    EXPECT_EQ(Json(Send("GET", "/api/v1/deliveries?status=dead"))["items"].size(), 0u);
}

TEST_F(DeliveryApiTest, ReplayIs409ForARowThatIsNotDeadAndChangesNothing) {
    AddFailedRow("out_failed", false);
    auto failed = Send("POST", "/api/v1/deliveries/out_failed/replay");
    ASSERT_EQ(failed.status, 409) << failed.body;
    EXPECT_EQ(Json(failed)["error"]["code"], "conflict");
    EXPECT_NE(Json(failed)["error"]["message"].get<std::string>().find("not dead"), std::string::npos);
    EXPECT_EQ(Json(Send("GET", "/api/v1/deliveries?status=failed"))["items"].size(), 1u);

    AddFailedRow("out_twice", true);
    EXPECT_EQ(Send("POST", "/api/v1/deliveries/out_twice/replay").status, 202);
    auto again = Send("POST", "/api/v1/deliveries/out_twice/replay");
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.body.find("not dead"), std::string::npos);
    EXPECT_EQ(control_.wakes, 1);
}

TEST_F(DeliveryApiTest, ReplayOfAnUnknownDeliveryIs404) {
    auto res = Send("POST", "/api/v1/deliveries/out_missing/replay");
    EXPECT_EQ(res.status, 404) << res.body;
    EXPECT_EQ(Json(res)["error"]["code"], "not_found");
    EXPECT_EQ(control_.wakes, 0);
}

TEST_F(DeliveryApiTest, ReplayAndEnableNeedTheToken) {
    AddFailedRow("out_dead", true);
    EXPECT_EQ(Send("POST", "/api/v1/deliveries/out_dead/replay", false).status, 401);
    EXPECT_EQ(Send("POST", "/api/v1/endpoints/webhook:abc/enable", false).status, 401);
    EXPECT_EQ(Json(Send("GET", "/api/v1/deliveries?status=dead"))["items"].size(), 1u);
    EXPECT_EQ(control_.wakes, 0);
}

TEST_F(DeliveryApiTest, ADisabledEndpointIsListedAndEnabledOnceThroughTheApi) {
    ASSERT_TRUE(store_->DisableEndpoint(
        store::DisabledEndpoint{"webhook:0123abcd", "webhook", "answered 410 Gone", clock_.Now()}));
    auto listed = Json(Send("GET", "/api/v1/deliveries"));
    ASSERT_EQ(listed["disabledEndpoints"].size(), 1u);
    EXPECT_EQ(listed["disabledEndpoints"][0]["key"], "webhook:0123abcd");
    EXPECT_EQ(listed["disabledEndpoints"][0]["reason"], "answered 410 Gone");

    auto res = Send("POST", "/api/v1/endpoints/webhook:0123abcd/enable");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(Json(res)["key"], "webhook:0123abcd");
    EXPECT_EQ(control_.enabled, std::vector<std::string>{"webhook:0123abcd"});
    EXPECT_TRUE(Json(Send("GET", "/api/v1/deliveries"))["disabledEndpoints"].empty());
    auto again = Send("POST", "/api/v1/endpoints/webhook:0123abcd/enable");
    EXPECT_EQ(again.status, 404) << again.body;
    EXPECT_EQ(control_.enabled.size(), 1u);
}

TEST_F(ApiTest, RailwayHookNeedsTheSharedSecretNotTheBearerToken) {
    const std::string payload =
        R"({"type":"Deployment.failed","details":{"id":"dep-7","status":"FAILED"},
            "resource":{"deployment":{"id":"dep-7"},"service":{"id":"svc"}}})";
    auto without = Call("POST", "/api/v1/hooks/railway", payload, false);
    EXPECT_EQ(without.status, 401);
    auto req = MakeRequest("POST", "/api/v1/hooks/railway", payload, false);
    req.headers.emplace_back("X-Webhook-Secret", "wrong");
    EXPECT_EQ(api_.Handle(req).status, 401);
    req.headers.back().second = "hook-secret";
    auto res = api_.Handle(req);
    ASSERT_EQ(res.status, 202) << res.body;
    EXPECT_EQ(Json(res)["woken"], 1);
    EXPECT_EQ(ops_.Calls().back(), (std::pair<std::string, std::string>{"CheckDeploymentNow", "dep-7"}));
    req.body = R"({"type":"Volume.alert","resource":{}})";
    EXPECT_EQ(api_.Handle(req).status, 202);
    EXPECT_EQ(ops_.Calls().size(), 1u);
    req.body = "{nope";
    EXPECT_EQ(api_.Handle(req).status, 400);
}

TEST_F(ApiTest, BodiesOverTheLimitAre413) {
    auto res = Call("POST", "/api/v1/instances", std::string(5000, ' '));
    EXPECT_EQ(res.status, 413);
    EXPECT_EQ(Json(res)["error"]["code"], "payload_too_large");
    EXPECT_TRUE(ops_.Calls().empty());
}

TEST_F(ApiTest, RandomAndHostileBodiesNeverCrashAndGetAClientError) {
    const std::string id = AddInstance();
    const std::vector<std::string> hostile = {
        "",
        "null",
        "0",
        "\"x\"",
        "{",
        "}",
        "{\"serviceId\":null,\"environmentId\":null}",
        "{\"serviceId\":{},\"environmentId\":[]}",
        "{\"serviceId\":\"a\",\"environmentId\":\"b\",\"checkIntervalSeconds\":1e300}",
        "{\"serviceId\":\"a\",\"environmentId\":\"b\",\"checkIntervalSeconds\":-9223372036854775808}",
        "{\"serviceId\":\"a\",\"environmentId\":\"b\",\"checkIntervalSeconds\":18446744073709551615}",
        "{\"serviceId\":\"\\u0000\",\"environmentId\":\"b\"}",
        "{\"email\":\"\\ud800@x\"}",
        std::string("{\"serviceId\":\"\xff\xfe\",\"environmentId\":\"b\"}"),
        std::string(3000, '['),
        "{\"enabled\":null}",
        "{\"resource\":{\"deployment\":{\"id\":123}}}",
        "{\"resource\":\"x\",\"details\":[]}",
    };
    std::mt19937 rng(12345);
    std::vector<std::string> bodies = hostile;
    for (int i = 0; i < 300; ++i) {
        std::string body(rng() % 200, '\0');
        for (char& c : body)
            c = static_cast<char>(rng() % 256);
        bodies.push_back(std::move(body));
    }
    const std::vector<std::pair<std::string, std::string>> targets = {
        {"POST", "/api/v1/users"},
        {"POST", "/api/v1/instances"},
        {"PUT", "/api/v1/instances/" + id + "/monitoring"},
        {"POST", "/api/v1/hooks/railway"},
        {"POST", "/api/v1/instances/" + id + "/redeploy"},
    };
    for (const auto& [method, path] : targets) {
        for (const std::string& body : bodies) {
            auto req = MakeRequest(method, path, body);
            req.headers.emplace_back("X-Webhook-Secret", "hook-secret");
            const net::ServerResponse res = api_.Handle(req);
            EXPECT_TRUE(res.status < 500) << method << " " << path << " " << res.status << " " << res.body;
            EXPECT_FALSE(Json(res).is_discarded());
        }
    }
}

TEST_F(ApiTest, MetricsRenderPrometheusTextWithTheApisRequestCounter) {
    Call("GET", "/api/v1/stats");
    auto res = Call("GET", "/metrics", {}, false);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.content_type, std::string(util::kPrometheusContentType));
    EXPECT_NE(res.body.find("# TYPE railwatch_api_requests_total counter"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"(railwatch_api_requests_total{route="/api/v1/stats",code="200"} 1)"), std::string::npos)
        << res.body;
}

TEST_F(ApiTest, TheDashboardNeedsNoTokenAndCarriesCspAndETag) {
    auto res = Call("GET", "/", {}, false);
    ASSERT_EQ(res.status, 200);
    EXPECT_NE(res.content_type.find("text/html"), std::string::npos);
    std::map<std::string, std::string> headers(res.headers.begin(), res.headers.end());
    EXPECT_EQ(headers["Cache-Control"], "no-cache");
    EXPECT_EQ(headers["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(headers["Vary"], "Accept-Encoding");
    EXPECT_NE(headers["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(headers.count("Content-Encoding"), 0u);
    ASSERT_FALSE(headers["ETag"].empty());

    auto again = MakeRequest("GET", "/instances/ins_abc", {}, false);
    again.headers.emplace_back("If-None-Match", headers["ETag"]);
    auto cached = api_.Handle(again);
    EXPECT_EQ(cached.status, 304);
    EXPECT_TRUE(cached.body.empty());

    auto zipped_req = MakeRequest("GET", "/", {}, false);
    zipped_req.headers.emplace_back("Accept-Encoding", "br, gzip;q=0.8");
    auto zipped = api_.Handle(zipped_req);
    ASSERT_EQ(zipped.status, 200);
    std::map<std::string, std::string> zh(zipped.headers.begin(), zipped.headers.end());
    EXPECT_EQ(zh["Content-Encoding"], "gzip");
    EXPECT_NE(zh["ETag"], headers["ETag"]);
    EXPECT_LT(zipped.body.size(), res.body.size());

    auto head = Call("HEAD", "/app.css", {}, false);
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(Call("GET", "/no-such-file.js", {}, false).status, 404);
}

TEST(StaticAssets, GzipIsAcceptedUnlessItsQualityIsZero) {
    EXPECT_TRUE(AcceptsGzip("gzip"));
    EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
    EXPECT_TRUE(AcceptsGzip("*"));
    EXPECT_FALSE(AcceptsGzip(""));
    EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
    EXPECT_FALSE(AcceptsGzip("gzip;q=0.000, br"));
    EXPECT_FALSE(AcceptsGzip("br, deflate"));
}

}  // namespace
}  // namespace railwatch::api::test
