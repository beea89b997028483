#include "sim/simulator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/config.hpp"
#include "sim/rate_limiter.hpp"
#include "util/clock.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

net::ServerRequest Gql(const std::string& query, json variables = json::object(),
                       std::string token = "sim-account-token") {
    net::ServerRequest req;
    req.method = "POST";
    req.path = "/graphql/v2";
    req.has_query = true;
    req.query = "source=test";
    req.remote_addr = "127.0.0.1";
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = json{{"query", query}, {"variables", variables}}.dump();
    return req;
}

net::ServerRequest Control(std::string method, std::string path, std::string body = "",
                           std::vector<std::pair<std::string, std::string>> params = {}) {
    net::ServerRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    req.params = std::move(params);
    return req;
}

std::string Header(const net::ServerResponse& res, std::string_view name) {
    for (const auto& [k, v] : res.headers)
        if (k == name) return v;
    return "";
}

class SimulatorTest : public ::testing::Test {
  protected:
    SimConfig Config() {
        SimConfig c;
        c.rate_limit = {0, 0, 0};
        c.time_scale = 60;
        return c;
    }
    void SetUp() override { sim_ = std::make_unique<Simulator>(Config(), clock_); }
    std::vector<std::string> Create(json spec) {
        auto res = sim_->HandleControl(Control("POST", "/_sim/deployments", spec.dump()));
        EXPECT_EQ(res.status, 201) << res.body;
        return json::parse(res.body)["ids"].get<std::vector<std::string>>();
    }
    json Query(const std::string& q, json vars = json::object(), int expect_status = 200) {
        auto res = sim_->HandleGraphql(Gql(q, vars));
        EXPECT_EQ(res.status, expect_status) << res.body;
        return json::parse(res.body);
    }

    util::FakeClock clock_;
    std::unique_ptr<Simulator> sim_;
};

TEST_F(SimulatorTest, DeploymentMovesThroughItsLifecycleAsTheClockAdvances) {
    const auto ids = Create({{"kind", "success"}});
    const std::string q = R"(query Q($id: String!) { deployment(id: $id) { id status deploymentStopped } })";
    EXPECT_EQ(Query(q, {{"id", ids[0]}})["data"]["deployment"]["status"], "QUEUED");
    clock_.Advance(150ms);  // QUEUED lasts 5 s / 60 ± 20 %, INITIALIZING 15 s / 60 ± 20 %
    EXPECT_EQ(Query(q, {{"id", ids[0]}})["data"]["deployment"]["status"], "INITIALIZING");
    clock_.Advance(10s);
    const json done = Query(q, {{"id", ids[0]}});
    EXPECT_EQ(done["data"]["deployment"]["status"], "SUCCESS");
    EXPECT_EQ(done["data"]["deployment"]["deploymentStopped"], false);
}

TEST_F(SimulatorTest, HundredAliasesInOneRequestWithPerAliasNotFound) {
    const auto ids = Create({{"count", 99}, {"mix", {{"success", 3}, {"build_failed", 1}}}});
    std::string q = "query Batch {";
    for (int i = 0; i < 99; ++i)
        q += " d" + std::to_string(i) + ": deployment(id: \"" + ids[static_cast<std::size_t>(i)] + "\") { id status }";
    q += " d99: deployment(id: \"no-such-id\") { id status } }";
    const json body = Query(q);
    ASSERT_EQ(body["data"].size(), 100u);
    EXPECT_EQ(body["data"]["d0"]["id"], ids[0]);
    EXPECT_EQ(body["data"]["d98"]["id"], ids[98]);
    EXPECT_TRUE(body["data"]["d99"].is_null());
    ASSERT_EQ(body["errors"].size(), 1u);
    EXPECT_EQ(body["errors"][0]["message"], "Deployment not found");
    EXPECT_EQ(body["errors"][0]["path"], json::array({"d99"}));
    const json stats = sim_->Stats();
    EXPECT_EQ(stats["rootFields"]["deployment"], 100);
    EXPECT_EQ(stats["total"], 1);
}

TEST_F(SimulatorTest, BadOrMissingTokenGetsNotAuthorizedWithNullData) {
    for (const std::string token : {"", "wrong"}) {
        auto res = sim_->HandleGraphql(Gql("{ me { id } }", json::object(), token));
        EXPECT_EQ(res.status, 200);
        const json body = json::parse(res.body);
        EXPECT_TRUE(body["data"].is_null());
        EXPECT_EQ(body["errors"][0]["message"], "Not Authorized");
    }
    auto req = Gql("{ projectToken { projectId environmentId } }", json::object(), "");
    req.headers.emplace_back("Project-Access-Token", "nope");
    EXPECT_EQ(json::parse(sim_->HandleGraphql(req).body)["errors"][0]["message"], "Project Token not found");
    auto good = Gql("{ projectToken { projectId environmentId } }", json::object(), "");
    good.headers.emplace_back("Project-Access-Token", "sim-project-token");
    EXPECT_EQ(json::parse(sim_->HandleGraphql(good).body)["data"]["projectToken"]["projectId"], World::kProjectId);
    EXPECT_EQ(sim_->Stats()["authErrors"], 3);
}

TEST_F(SimulatorTest, ValidationAndParseErrorsAre400WithRailwaysCodes) {
    auto bad_field = sim_->HandleGraphql(Gql(R"({ deployment(id: "x") { id nope } })"));
    EXPECT_EQ(bad_field.status, 400);
    const json body = json::parse(bad_field.body);
    EXPECT_EQ(body["errors"][0]["message"], "Cannot query field \"nope\" on type \"Deployment\".");
    EXPECT_EQ(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    auto syntax = sim_->HandleGraphql(Gql("{ deployment(id: \"x\") { id "));
    EXPECT_EQ(syntax.status, 400);
    EXPECT_EQ(json::parse(syntax.body)["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    auto req = Gql("{ me { id } }");
    req.body = "not json";
    EXPECT_EQ(sim_->HandleGraphql(req).status, 400);
    req.body = R"({"variables":{}})";
    EXPECT_EQ(sim_->HandleGraphql(req).status, 400);
}

TEST_F(SimulatorTest, LogsReturnLimitPlusOneLinesWithNanosecondTimestamps) {
    const auto ids = Create({{"kind", "build_failed"}, {"reason", "npm_elifecycle"}});
    clock_.Advance(1h);
    const json body =
        Query(R"(query L($id: String!) { buildLogs(deploymentId: $id, limit: 3) { timestamp message severity } })",
              {{"id", ids[0]}});
    const auto& lines = body["data"]["buildLogs"];
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[3]["message"], "Error: Docker build failed");
    EXPECT_EQ(lines[3]["severity"], "error");
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
    EXPECT_EQ(r["data"]["deploymentRedeploy"]["status"], "QUEUED");
    clock_.Advance(1h);
    const json truth = sim_->Truth({ids[0], fresh});
    EXPECT_EQ(truth["deployments"][0]["currentStatus"], "REMOVED");
    EXPECT_EQ(truth["deployments"][1]["currentStatus"], "SUCCESS");
    const json latest =
        Query(R"(query L($s: String!) { deployments(input: {serviceId: $s}, first: 1) { edges { node { id } } } })",
              {{"s", truth["deployments"][0]["serviceId"]}});
    EXPECT_EQ(latest["data"]["deployments"]["edges"][0]["node"]["id"], fresh);
    const json restart = Query(R"(mutation { deploymentRestart(id: "missing") })");
    EXPECT_EQ(restart["errors"][0]["message"], "Deployment not found");
}

TEST_F(SimulatorTest, RateLimitAnswers429WithRetryAfterAndHeadersOnEveryAnswer) {
    auto r = sim_->HandleControl(Control("POST", "/_sim/config", R"({"rateLimit":{"rps":2,"rph":5}})"));
    ASSERT_EQ(r.status, 200) << r.body;
    for (int i = 0; i < 2; ++i) {
        auto ok = sim_->HandleGraphql(Gql("{ me { id } }"));
        EXPECT_EQ(ok.status, 200);
        EXPECT_EQ(Header(ok, "X-RateLimit-Limit"), "5");
        EXPECT_EQ(Header(ok, "X-RateLimit-Remaining"), std::to_string(4 - i));
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
    auto set = [&](const std::string& faults) {
        auto r = sim_->HandleControl(Control("POST", "/_sim/config", R"({"faults":)" + faults + "}"));
        ASSERT_EQ(r.status, 200) << r.body;
    };
    set(R"({"http500":1})");
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 500);
    set(R"({"http500":0,"http503":1})");
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 503);
    set(R"({"http503":0,"html403":1})");
    auto html = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(html.status, 403);
    EXPECT_NE(html.body.find("Cloudflare"), std::string::npos);
    set(R"({"html403":0,"reset":1})");
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).action, net::ServerResponse::Action::kResetConnection);
    set(R"({"reset":0,"hang":1,"hangMs":250})");
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).action, net::ServerResponse::Action::kResetConnection);
    EXPECT_EQ(clock_.TotalWaited(), core::Duration(250ms));
    set(R"({"hang":0,"malformedJson":1})");
    auto malformed = sim_->HandleGraphql(Gql("{ me { id name email } }"));
    EXPECT_EQ(malformed.status, 200);
    EXPECT_FALSE(json::accept(malformed.body));
    set(R"({"malformedJson":0,"latency":1,"latencyMs":700})");
    EXPECT_EQ(sim_->HandleGraphql(Gql("{ me { id } }")).status, 200);
    EXPECT_EQ(clock_.TotalWaited(), core::Duration(950ms));
    const json faults = sim_->Stats()["faults"];
    for (const char* k : {"http500", "http503", "html403", "reset", "hang", "malformedJson"})
        EXPECT_EQ(faults[k], 1) << k;
    EXPECT_EQ(sim_->Stats()["latencyInjected"], 1);
}

TEST_F(SimulatorTest, FaultFractionsAreRoughlyHonouredAndDeterministic) {
    ASSERT_EQ(sim_->HandleControl(Control("POST", "/_sim/config", R"({"faults":{"http500":0.2}})")).status, 200);
    int failures = 0;
    for (int i = 0; i < 1000; ++i)
        failures += sim_->HandleGraphql(Gql("{ me { id } }")).status == 500 ? 1 : 0;
    EXPECT_GT(failures, 150);
    EXPECT_LT(failures, 250);
}

TEST_F(SimulatorTest, EdgeLimitsRequestsWithoutAQueryStringWithAnHtmlPage) {
    SimConfig c;
    c.rate_limit = {0, 0, 2};
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
    EXPECT_EQ(sim_->HandleControl(Control("GET", "/_sim/nope")).status, 404);
    const auto ids = Create({{"count", 3}, {"kind", "deploy_failed"}});
    const auto truth = sim_->HandleControl(Control("GET", "/_sim/truth", "", {{"id", ids[0] + "," + ids[2]}}));
    const json t = json::parse(truth.body);
    ASSERT_EQ(t["deployments"].size(), 2u);
    EXPECT_EQ(t["deployments"][0]["kind"], "deploy_failed");
    EXPECT_EQ(t["deployments"][0]["reason"], "healthcheck");
    EXPECT_EQ(t["deployments"][0]["finalStatus"], "FAILED");
    (void)sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/reset")).status, 200);
    EXPECT_EQ(sim_->Stats()["total"], 0);
    EXPECT_EQ(json::parse(sim_->HandleControl(Control("GET", "/_sim/truth")).body)["deployments"].size(), 0u);
}

TEST_F(SimulatorTest, HealthEndpointFollowsTheServiceModeAndItsDeployment) {
    const auto ids = Create({{"kind", "success"}, {"serviceId", "svc-1"}});
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
        "faults": {"http500": 0.1}, "durations": {"buildingSeconds": 30},
        "deployments": [{"count": 5, "mix": {"success": 4, "crash_loop": 1}}, {"kind": "deploy_failed", "reason": "oom"}]})");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->seed, 3u);
    EXPECT_EQ(ok->rate_limit.rph, 10000);
    EXPECT_DOUBLE_EQ(ok->faults.http500, 0.1);
    EXPECT_DOUBLE_EQ(ok->durations.building_s, 30);
    ASSERT_EQ(ok->deployments.size(), 2u);
    EXPECT_EQ(ok->deployments[1].reason, Reason::kOom);
    auto unknown = ParseScenario(R"({"deploymnets": []})");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("deploymnets"), std::string::npos);
    auto bad_item = ParseScenario(R"({"deployments": [{"kind": "success"}, {"count": 0}]})");
    ASSERT_FALSE(bad_item);
    EXPECT_NE(bad_item.error().message.find("deployments[1]"), std::string::npos);
    EXPECT_FALSE(ParseScenario("{"));
    EXPECT_FALSE(ParseScenario(R"({"timeScale": -1})"));
    EXPECT_FALSE(LoadScenarioFile("/nonexistent/scenario.json"));
}

TEST(RateLimiterTest, KeepsSeparateBudgetsPerToken) {
    RateLimiter limiter;
    const auto now = util::FakeClock::DefaultStart();
    EXPECT_TRUE(limiter.Acquire("a", now, 1, 0).allowed);
    EXPECT_FALSE(limiter.Acquire("a", now, 1, 0).allowed);
    EXPECT_TRUE(limiter.Acquire("b", now, 1, 0).allowed);
    EXPECT_TRUE(limiter.Acquire("a", now + 1s, 1, 0).allowed);
    const auto peek = limiter.Peek("c", now, 0, 100);
    EXPECT_EQ(peek.remaining, 100);
    EXPECT_TRUE(limiter.Acquire("d", now, 0, 0).allowed);  // unlimited
}

}  // namespace
}  // namespace railwatch::sim
