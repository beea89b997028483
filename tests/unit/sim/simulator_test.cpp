// The GraphQL pipeline of the Simulator, without sockets, on a FakeClock: lifecycles, null
// propagation, errors as Railway sends them, limits, faults, the control API basics.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "sim/config.hpp"
#include "sim/rate_limiter.hpp"
#include "sim_test_support.hpp"
#include "util/clock.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::Control;
using testing::Gql;
using testing::Header;
using testing::SimulatorTest;

bool IsTraceId(const json& v) {
    return v.is_string() && std::regex_match(v.get<std::string>(), std::regex("[0-9a-f]{32}"));
}

TEST_F(SimulatorTest, DeploymentStartsInitializingAndMovesThroughItsLifecycleAsTheClockAdvances) {
    const auto ids = Create({{"kind", "success"}});
    const std::string q = R"(query Q($id: String!) { deployment(id: $id) { id status deploymentStopped } })";
    EXPECT_EQ(Query(q, {{"id", ids[0]}})["data"]["deployment"]["status"], "INITIALIZING");
    EXPECT_EQ(Truth(ids[0])["currentStatus"], "INITIALIZING");
    EXPECT_EQ(Truth(ids[0])["timeline"][0]["status"], "INITIALIZING");
    clock_.Advance(10s);
    const json done = Query(q, {{"id", ids[0]}});
    EXPECT_EQ(done["data"]["deployment"]["status"], "SUCCESS");
    EXPECT_EQ(done["data"]["deployment"]["deploymentStopped"], false);
}

TEST_F(SimulatorTest, OneUnknownIdAmongHundredAliasesNullsAllOfDataAndItsErrorNamesTheAlias) {
    const auto ids = Create({{"count", 99}, {"mix", {{"success", 3}, {"build_failed", 1}}}});
    std::string q = "query Batch {";
    for (int i = 0; i < 100; ++i) {
        const std::string id = i == 50 ? "no-such-id" : ids[static_cast<std::size_t>(i < 50 ? i : i - 1)];
        q += " d" + std::to_string(i) + ": deployment(id: \"" + id + "\") { id status }";
    }
    q += " }";
    const json body = Query(q);
    ASSERT_TRUE(body.contains("data"));
    EXPECT_TRUE(body["data"].is_null());
    ASSERT_EQ(body["errors"].size(), 1u);
    const json& e = body["errors"][0];
    EXPECT_EQ(e["message"], "Deployment not found");
    EXPECT_EQ(e["path"], json::array({"d50"}));
    EXPECT_EQ(e["locations"].size(), 1u);
    EXPECT_EQ(e["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    EXPECT_TRUE(IsTraceId(e["extensions"]["traceId"])) << e.dump();
    const json stats = sim_->Stats();
    EXPECT_EQ(stats["rootFields"]["deployment"], 100);
    EXPECT_EQ(stats["total"], 1);
    // Without the bad id, every alias answers.
    const json good =
        Query(R"(query Q($a: String!, $b: String!) { x: deployment(id: $a) { id } y: deployment(id: $b) { id } })",
              {{"a", ids[0]}, {"b", ids[1]}});
    EXPECT_EQ(good["data"]["y"]["id"], ids[1]);
    EXPECT_FALSE(good.contains("errors"));
}

TEST_F(SimulatorTest, QueriesLogRecordsEachDeploymentFieldWithItsTimeAndQueryString) {
    const auto ids = Create({{"count", 2}, {"kind", "success"}});
    const std::string q = "query Q($a: String!) { x: deployment(id: $a) { id } y: deployment(id: \"" + ids[1] +
                          "\") { id } z: deployment(id: \"no-such-id\") { id } }";
    net::ServerRequest first = Gql(q, {{"a", ids[0]}});
    first.query = "w=a&source=railwatch";
    Send(first);
    const core::Timestamp first_at = clock_.Now();
    clock_.Advance(core::Seconds(3));
    net::ServerRequest second = Gql("query Q($a: String!) { deployment(id: $a) { id } }", {{"a", ids[0]}});
    second.query = "w=b&source=railwatch";
    Send(second);
    Send(Gql("{ deployments(input: {}) { edges { node { id } } } }"));  // not a deployment(id) field

    const auto read = [&](std::vector<std::pair<std::string, std::string>> params) {
        const auto res = sim_->HandleControl(Control("GET", "/_sim/queries", "", std::move(params)));
        EXPECT_EQ(res.status, 200) << res.body;
        return json::parse(res.body);
    };
    const json some = read({{"id", ids[0] + "," + ids[1] + ",never-asked"}});
    const json& a = some["deployments"][ids[0]];
    ASSERT_EQ(a.size(), 2u) << some.dump();
    EXPECT_EQ(a[0]["query"], "w=a&source=railwatch");
    EXPECT_EQ(a[1]["query"], "w=b&source=railwatch");
    EXPECT_EQ(a[0]["operation"], "Q");
    EXPECT_EQ(util::ParseRfc3339(a[0]["at"].get<std::string>()).value(), first_at);
    EXPECT_EQ(util::ParseRfc3339(a[1]["at"].get<std::string>()).value(), first_at + core::Seconds(3));
    ASSERT_EQ(some["deployments"][ids[1]].size(), 1u);
    EXPECT_EQ(some["unknown"], json::array({"never-asked"}));
    EXPECT_EQ(some["dropped"], 0);

    // Without ids: every id asked for, unknown ones included.
    const json all = read({});
    EXPECT_EQ(all["deployments"].size(), 3u) << all.dump();
    EXPECT_EQ(all["deployments"]["no-such-id"].size(), 1u);

    // A reset forgets them.
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/reset")).status, 200);
    EXPECT_TRUE(read({})["deployments"].empty());
}

TEST_F(SimulatorTest, EverySiblingErrorIsReportedWhenConfigured) {
    const auto ids = Create({{"kind", "success"}});
    const std::string q = R"(query Q($id: String!) { a: deployment(id: "gone-1") { id } b: deployment(id: $id) { id }
                             c: deployment(id: "gone-2") { id } })";
    EXPECT_EQ(Query(q, {{"id", ids[0]}})["errors"].size(), 1u);
    const json settings = Configure({{"errors", {{"siblingErrors", "all"}}}});
    EXPECT_EQ(settings["errors"]["siblingErrors"], "all");
    const json all = Query(q, {{"id", ids[0]}});
    EXPECT_TRUE(all["data"].is_null());
    ASSERT_EQ(all["errors"].size(), 2u);
    EXPECT_EQ(all["errors"][0]["path"], json::array({"a"}));
    EXPECT_EQ(all["errors"][1]["path"], json::array({"c"}));
    // One answer, one trace: both errors carry the same id.
    EXPECT_EQ(all["errors"][0]["extensions"]["traceId"], all["errors"][1]["extensions"]["traceId"]);
}

TEST_F(SimulatorTest, BadOrMissingTokenGetsNotAuthorizedWithNullDataCodeAndTraceId) {
    for (const std::string token : {"", "wrong"}) {
        auto res = sim_->HandleGraphql(Gql("{ me { id } }", json::object(), token));
        EXPECT_EQ(res.status, 200);
        const json body = json::parse(res.body);
        ASSERT_TRUE(body.contains("data"));
        EXPECT_TRUE(body["data"].is_null());
        ASSERT_EQ(body["errors"].size(), 1u);
        EXPECT_EQ(body["errors"][0]["message"], "Not Authorized");
        EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
        EXPECT_TRUE(IsTraceId(body["errors"][0]["extensions"]["traceId"]));
    }
    const json bad_project = Send(testing::ProjectGql("{ projectToken { projectId environmentId } }", {}, "nope"));
    EXPECT_TRUE(bad_project["data"].is_null());
    EXPECT_EQ(bad_project["errors"][0]["message"], "Project Token not found");
    EXPECT_EQ(bad_project["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    const json good = Send(testing::ProjectGql("{ projectToken { projectId environmentId } }"));
    EXPECT_EQ(good["data"]["projectToken"]["projectId"], World::kProjectId);
    EXPECT_EQ(sim_->Stats()["authErrors"], 3);
}

TEST_F(SimulatorTest, ValidationAndParseErrorsAre400WithRailwaysCodesAndATraceId) {
    auto bad_field = sim_->HandleGraphql(Gql(R"({ deployment(id: "x") { id nope } })"));
    EXPECT_EQ(bad_field.status, 400);
    const json body = json::parse(bad_field.body);
    EXPECT_EQ(body["errors"][0]["message"], "Cannot query field \"nope\" on type \"Deployment\".");
    EXPECT_EQ(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    EXPECT_TRUE(IsTraceId(body["errors"][0]["extensions"]["traceId"]));
    auto syntax = sim_->HandleGraphql(Gql("{ deployment(id: \"x\") { id "));
    EXPECT_EQ(syntax.status, 400);
    const json syntax_body = json::parse(syntax.body);
    EXPECT_EQ(syntax_body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    EXPECT_TRUE(IsTraceId(syntax_body["errors"][0]["extensions"]["traceId"]));
    auto bad_variable = sim_->HandleGraphql(Gql("query Q($id: String!) { deployment(id: $id) { id } }", {{"id", 5}}));
    EXPECT_EQ(bad_variable.status, 400);
    EXPECT_EQ(json::parse(bad_variable.body)["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    auto req = Gql("{ me { id } }");
    req.body = "not json";
    EXPECT_EQ(sim_->HandleGraphql(req).status, 400);
    req.body = R"({"variables":{}})";
    EXPECT_EQ(sim_->HandleGraphql(req).status, 400);
}

TEST_F(SimulatorTest, EveryAnswerHasItsOwnTraceId) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const json body = Query(R"({ deployment(id: "missing") { id } })");
        const json& trace = body["errors"][0]["extensions"]["traceId"];
        ASSERT_TRUE(IsTraceId(trace)) << body.dump();
        seen.insert(trace.get<std::string>());
    }
    EXPECT_EQ(seen.size(), 50u);
}

TEST_F(SimulatorTest, LogsReturnLimitPlusOneLinesWithNanosecondTimestampsAndALevelAttribute) {
    const auto ids = Create({{"kind", "build_failed"}, {"reason", "npm_elifecycle"}});
    clock_.Advance(1h);
    const json body = Query(
        R"(query L($id: String!) { buildLogs(deploymentId: $id, limit: 3) { timestamp message severity attributes { key value } } })",
        {{"id", ids[0]}});
    const auto& lines = body["data"]["buildLogs"];
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[3]["message"], "Error: Docker build failed");
    EXPECT_EQ(lines[3]["severity"], "error");
    EXPECT_EQ(lines[3]["attributes"], json::parse(R"([{"key":"level","value":"\"error\""}])"));
    EXPECT_EQ(lines[0]["timestamp"].get<std::string>().size(), 30u);  // 2026-01-01T00:00:00.123456789Z
    const json all = Query(R"(query L($id: String!) { buildLogs(deploymentId: $id) { timestamp } })", {{"id", ids[0]}});
    const std::string start = all["data"]["buildLogs"][5]["timestamp"];
    const json after = Query(
        R"(query L($id: String!, $s: DateTime) { buildLogs(deploymentId: $id, startDate: $s, limit: 2) { timestamp } })",
        {{"id", ids[0]}, {"s", start}});
    ASSERT_EQ(after["data"]["buildLogs"].size(), 3u);
    EXPECT_EQ(after["data"]["buildLogs"][0]["timestamp"], start);  // startDate is inclusive: the overlap line
}

TEST_F(SimulatorTest, RedeployCreatesANewDeploymentThatSupersedesTheOldOne) {
    const auto ids = Create({{"kind", "crash_after_success"}, {"redeployKind", "success"}});
    clock_.Advance(1h);
    const json r = Query(R"(mutation R($id: String!) { deploymentRedeploy(id: $id) { id status } })", {{"id", ids[0]}});
    const std::string fresh = r["data"]["deploymentRedeploy"]["id"];
    EXPECT_NE(fresh, ids[0]);
    EXPECT_EQ(r["data"]["deploymentRedeploy"]["status"], "INITIALIZING");
    clock_.Advance(1h);
    const json truth = sim_->Truth({ids[0], fresh});
    EXPECT_EQ(truth["deployments"][0]["currentStatus"], "REMOVED");
    EXPECT_EQ(truth["deployments"][1]["currentStatus"], "SUCCESS");
    const json restart = Query(R"(mutation { deploymentRestart(id: "missing") })");
    EXPECT_TRUE(restart["data"].is_null());
    EXPECT_EQ(restart["errors"][0]["message"], "Deployment not found");
}

TEST_F(SimulatorTest, RateLimitAnswers429WithRetryAfterAndHeadersOnEveryAnswer) {
    Configure({{"rateLimit", {{"rps", 2}, {"rph", 5}}}});
    for (int i = 0; i < 2; ++i) {
        auto ok = sim_->HandleGraphql(Gql("{ me { id } }"));
        EXPECT_EQ(ok.status, 200);
        EXPECT_EQ(Header(ok, "X-RateLimit-Limit"), "5");
        EXPECT_EQ(Header(ok, "X-RateLimit-Remaining"), std::to_string(4 - i));
        EXPECT_FALSE(testing::HasHeader(ok, "RateLimit-Policy"));
    }
    auto limited = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(Header(limited, "Retry-After"), "1");
    EXPECT_FALSE(Header(limited, "X-RateLimit-Reset").empty());
    clock_.Advance(1s);
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 200);
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 200);
    clock_.Advance(1s);
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 200);
    clock_.Advance(1s);
    auto hourly = sim_->HandleGraphql(Gql("{ me { id } }"));  // 6th in the hour
    EXPECT_EQ(hourly.status, 429);
    EXPECT_GT(std::stoi(Header(hourly, "Retry-After")), 3500);
    EXPECT_EQ(sim_->Stats()["rateLimited"], 2);
}

TEST_F(SimulatorTest, EachFaultKindShowsUpAsConfigured) {
    auto set = [&](const json& faults) { Configure({{"faults", faults}}); };
    set({{"http500", 1}});
    auto r500 = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(r500.status, 500);
    EXPECT_TRUE(IsTraceId(json::parse(r500.body)["errors"][0]["extensions"]["traceId"]));
    set({{"http500", 0}, {"http503", 1}});
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 503);
    set({{"http503", 0}, {"html403", 1}});
    auto html = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(html.status, 403);
    EXPECT_NE(html.body.find("Cloudflare"), std::string::npos);
    set({{"html403", 0}, {"reset", 1}});
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).action, net::ServerResponse::Action::kAbort);
    EXPECT_EQ(resetter_.Count(), 1u);
    set({{"reset", 0}, {"hang", 1}, {"hangMs", 250}});
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).action, net::ServerResponse::Action::kAbort);
    EXPECT_EQ(resetter_.Count(), 2u);
    EXPECT_EQ(clock_.TotalWaited(), core::Duration(250ms));
    set({{"hang", 0}, {"malformedJson", 1}});
    auto malformed = sim_->HandleGraphql(Gql("{ me { id name email } }"));
    EXPECT_EQ(malformed.status, 200);
    EXPECT_FALSE(json::accept(malformed.body));
    set({{"malformedJson", 0}, {"latency", 1}, {"latencyMs", 700}});
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 200);
    EXPECT_EQ(clock_.TotalWaited(), core::Duration(950ms));
    const json faults = sim_->Stats()["faults"];
    for (const char* k : {"http500", "http503", "html403", "reset", "hang", "malformedJson"})
        EXPECT_EQ(faults[k], 1) << k;
    EXPECT_EQ(sim_->Stats()["latencyInjected"], 1);
}

TEST_F(SimulatorTest, FaultFractionsAreRoughlyHonoured) {
    Configure({{"faults", {{"http500", 0.2}}}});
    int failures = 0;
    for (int i = 0; i < 1000; ++i)
        failures += sim_->HandleGraphql(Gql("{ me { id } }")).status == 500 ? 1 : 0;
    EXPECT_GT(failures, 150);
    EXPECT_LT(failures, 250);
}

TEST_F(SimulatorTest, EdgeLimitsRequestsWithoutAQueryStringWithAnHtmlPage) {
    SimConfig c;
    c.rate_limit = {.rps = 0, .rph = 0, .edge_rps = 2};
    Simulator sim(c, clock_);
    auto req = Gql("{ me { id } }");
    req.has_query = false;
    EXPECT_EQ(sim.HandleGraphql(req).status, 200);
    EXPECT_EQ(sim.HandleGraphql(req).status, 200);
    auto blocked = sim.HandleGraphql(req);
    EXPECT_EQ(blocked.status, 403);
    EXPECT_EQ(blocked.content_type.rfind("text/html", 0), 0u);
    req.has_query = true;
    EXPECT_EQ(sim.HandleGraphql(req).status, 200);
}

TEST_F(SimulatorTest, ControlApiRejectsBadSpecsAndResetsState) {
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/deployments", R"({"kind":"exploded"})")).status, 400);
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/deployments", R"({"kind":"success","bogus":1})")).status, 400);
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/deployments", R"({"reason":"gremlins"})")).status, 400);
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/config", R"({"faults":{"http500":0.8,"reset":0.5}})")).status,
              400);
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/config", R"({"bogus":1})")).status, 400);
    EXPECT_EQ(sim_->HandleControl(Control("GET", "/_sim/nope")).status, 404);
    const auto ids = Create({{"count", 3}, {"kind", "deploy_failed"}});
    const auto truth = sim_->HandleControl(Control("GET", "/_sim/truth", "", {{"id", ids[0] + "," + ids[2]}}));
    const json t = json::parse(truth.body);
    ASSERT_EQ(t["deployments"].size(), 2u);
    EXPECT_EQ(t["deployments"][0]["kind"], "deploy_failed");
    EXPECT_EQ(t["deployments"][0]["reason"], "healthcheck");
    EXPECT_EQ(t["deployments"][0]["finalStatus"], "FAILED");
    EXPECT_EQ(t["deployments"][0]["deleted"], false);
    (void)sim_->HandleGraphql(Gql("{ me { id } }"));
    Configure({{"errors", {{"unknownDeployment", "Not Authorized"}}}});
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/reset")).status, 200);
    EXPECT_EQ(sim_->Stats()["total"], 0);
    EXPECT_EQ(json::parse(sim_->HandleControl(Control("GET", "/_sim/truth")).body)["deployments"].size(), 0u);
    EXPECT_EQ(Query(R"({ deployment(id: "x") { id } })")["errors"][0]["message"], "Deployment not found");
}

TEST_F(SimulatorTest, HealthEndpointFollowsTheServiceModeAndItsDeployment) {
    Create({{"kind", "success"}, {"serviceId", "svc-1"}});
    net::ServerRequest req;
    req.method = "GET";
    req.path = "/s/svc-1/health";
    EXPECT_EQ(sim_->HandleHealth(req).status, 502);  // not deployed yet
    clock_.Advance(1h);
    EXPECT_EQ(sim_->HandleHealth(req).status, 200);
    ASSERT_EQ(sim_->HandleControl(Control("POST", "/_sim/health", R"({"serviceId":"svc-1","mode":"failing"})")).status,
              200);
    EXPECT_EQ(sim_->HandleHealth(req).status, 503);
    ASSERT_EQ(sim_->HandleControl(Control("POST", "/_sim/health", R"({"serviceId":"svc-1","mode":"slow"})")).status,
              200);
    EXPECT_EQ(sim_->HandleHealth(req).status, 200);
    EXPECT_EQ(clock_.TotalWaited(), core::Duration(2000ms));
    req.path = "/s/unknown/health";
    EXPECT_EQ(sim_->HandleHealth(req).status, 404);
}

TEST_F(SimulatorTest, ServiceInstanceAndQuotaQueriesAnswer) {
    const auto ids = Create({{"kind", "success"}, {"serviceId", "svc-2"}});
    clock_.Advance(1h);
    const json si = Query(R"(query S($e: String!) { serviceInstance(environmentId: $e, serviceId: "svc-2") {
        healthcheckPath latestDeployment { id url } activeDeployments { id } domains { serviceDomains { domain } } } })",
                          {{"e", std::string(World::kEnvironmentId)}});
    EXPECT_EQ(si["data"]["serviceInstance"]["latestDeployment"]["id"], ids[0]);
    EXPECT_EQ(si["data"]["serviceInstance"]["activeDeployments"].size(), 1u);
    EXPECT_EQ(si["data"]["serviceInstance"]["healthcheckPath"], "/health");
    const json ws = Query(
        R"({ workspace(workspaceId: "w") { plan customer { usageLimit { softLimit hardLimit isOverLimit } } } })");
    EXPECT_EQ(ws["data"]["workspace"]["plan"], "HOBBY");
    EXPECT_EQ(ws["data"]["workspace"]["customer"]["usageLimit"]["isOverLimit"], false);
    const json events =
        Query(R"(query E($id: String!) { deploymentEvents(id: $id) { edges { node { step completedAt } } } })",
              {{"id", ids[0]}});
    EXPECT_EQ(events["data"]["deploymentEvents"]["edges"].size(), 6u);
}

TEST(SimConfig, ParsesScenariosStrictly) {
    auto ok = ParseScenario(R"({"seed": 3, "timeScale": 60, "rateLimit": {"rps": 50, "rph": 10000},
        "faults": {"http500": 0.1}, "durations": {"buildingSeconds": 30, "queuedFraction": 0},
        "workspaceToken": "ws", "projectTokenEnvironmentId": "env-2",
        "logs": {"pageWithStartDate": "tail", "extraLine": false, "severity": "sometimes"},
        "errors": {"unknownDeployment": "Problem processing request", "siblingErrors": "all"},
        "webhookUrl": "http://127.0.0.1:9/hooks", "webhookSecret": "s3cret",
        "deployments": [{"count": 5, "mix": {"success": 4, "crash_loop": 1}}, {"kind": "deploy_failed", "reason": "oom"}]})");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->seed, 3u);
    EXPECT_EQ(ok->rate_limit.rph, 10000);
    EXPECT_DOUBLE_EQ(ok->faults.http500, 0.1);
    EXPECT_DOUBLE_EQ(ok->durations.building_s, 30);
    EXPECT_DOUBLE_EQ(ok->durations.queued_fraction, 0);
    EXPECT_EQ(ok->workspace_token, "ws");
    EXPECT_EQ(ok->project_token_environment_id, "env-2");
    EXPECT_EQ(ok->logs.page_with_start_date, LogPage::kTail);
    EXPECT_FALSE(ok->logs.extra_line);
    EXPECT_EQ(ok->logs.severity, LogSeverity::kSometimes);
    EXPECT_EQ(ok->errors.unknown_deployment, "Problem processing request");
    EXPECT_EQ(ok->errors.sibling_errors, graphql::SiblingErrors::kAll);
    EXPECT_EQ(ok->webhook.url, "http://127.0.0.1:9/hooks");
    EXPECT_EQ(ok->webhook.secret, "s3cret");
    ASSERT_EQ(ok->deployments.size(), 2u);
    EXPECT_EQ(ok->deployments[1].reason, Reason::kOom);
    // The secret never comes back.
    EXPECT_EQ(RuntimeSettingsJson(*ok)["webhookSecret"], "***");
    auto unknown = ParseScenario(R"({"deploymnets": []})");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("deploymnets"), std::string::npos);
    auto bad_item = ParseScenario(R"({"deployments": [{"kind": "success"}, {"count": 0}]})");
    ASSERT_FALSE(bad_item);
    EXPECT_NE(bad_item.error().message.find("deployments[1]"), std::string::npos);
    for (const char* bad :
         {R"({"errors": {"unknownDeployment": "Gone"}})", R"({"rateLimit": {"resetFormat": "hours"}})",
          R"({"rateLimit": {"cost": "alias"}})", R"({"logs": {"pageWithStartDate": "middle"}})",
          R"({"logs": {"extraLine": "yes"}})", R"({"webhookUrl": "ftp://x"})", R"({"webhookSecretHeader": "X Secret"})",
          R"({"durations": {"queuedFraction": 2}})"}) {
        auto parsed = ParseScenario(bad);
        EXPECT_FALSE(parsed) << bad;
    }
    EXPECT_FALSE(ParseScenario("{"));
    EXPECT_FALSE(ParseScenario(R"({"timeScale": -1})"));
    EXPECT_FALSE(LoadScenarioFile("/nonexistent/scenario.json"));
}

TEST(RateLimiterTest, KeepsSeparateBudgetsPerTokenAndChargesCosts) {
    RateLimiter limiter;
    const auto now = util::FakeClock::DefaultStart();
    EXPECT_TRUE(limiter.Acquire("a", now, 1, 0).allowed);
    EXPECT_FALSE(limiter.Acquire("a", now, 1, 0).allowed);
    EXPECT_TRUE(limiter.Acquire("b", now, 1, 0).allowed);
    EXPECT_TRUE(limiter.Acquire("a", now + 1s, 1, 0).allowed);
    const auto peek = limiter.Peek("c", now, 0, 100);
    EXPECT_EQ(peek.hour.remaining, 100);
    EXPECT_TRUE(limiter.Acquire("d", now, 0, 0).allowed);  // unlimited
    const auto three = limiter.Acquire("e", now, 0, 10, 3);
    EXPECT_TRUE(three.allowed);
    EXPECT_EQ(three.hour.remaining, 7);
    const auto too_much = limiter.Acquire("e", now, 0, 10, 8);
    EXPECT_FALSE(too_much.allowed);
    EXPECT_EQ(too_much.hour.remaining, 7);  // nothing charged
    EXPECT_GT(too_much.retry_after_s, 3500);
}

}  // namespace
}  // namespace railwatch::sim
