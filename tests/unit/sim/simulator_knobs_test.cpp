// Railway's behaviour where it is not documented is a setting (scenario, POST /_sim/config): the
// not-found message, what the rate-limit headers describe, what aliases cost, how log pages are
// cut, whether log lines carry severity.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/simulator.hpp"
#include "sim_test_support.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::Control;
using testing::Gql;
using testing::HasHeader;
using testing::Header;
using testing::SimulatorTest;

TEST_F(SimulatorTest, UnknownDeploymentMessageIsConfigurableForEveryFieldThatTakesAnId) {
    const std::string queries[] = {
        R"({ deployment(id: "nope") { id } })",
        R"({ deploymentLogs(deploymentId: "nope") { message } })",
        R"({ buildLogs(deploymentId: "nope") { message } })",
        R"({ deploymentEvents(id: "nope") { edges { cursor } } })",
        R"(mutation { deploymentRestart(id: "nope") })",
        R"(mutation { deploymentRedeploy(id: "nope") { id } })",
    };
    for (const auto& q : queries)
        EXPECT_EQ(Query(q)["errors"][0]["message"], "Deployment not found") << q;
    for (const char* message : {"Not Authorized", "Problem processing request", "Deployment not found"}) {
        const json settings = Configure({{"errors", {{"unknownDeployment", message}}}});
        EXPECT_EQ(settings["errors"]["unknownDeployment"], message);
        for (const auto& q : queries) {
            const json body = Query(q);
            EXPECT_TRUE(body["data"].is_null()) << q;
            EXPECT_EQ(body["errors"][0]["message"], message) << q;
            EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR") << q;
        }
    }
    auto bad = sim_->HandleControl(Control("POST", "/_sim/config", R"({"errors":{"unknownDeployment":"Gone"}})"));
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("unknownDeployment"), std::string::npos);
}

TEST_F(SimulatorTest, RateLimitHeadersDescribeTheConfiguredWindowInTheConfiguredUnit) {
    Configure({{"rateLimit", {{"rps", 4}, {"rph", 100}}}});
    const auto start = clock_.Now();
    const long long hour_end_s =
        std::chrono::duration_cast<std::chrono::seconds>((start + 1h).time_since_epoch()).count();
    auto first = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(Header(first, "X-RateLimit-Limit"), "100");
    EXPECT_EQ(Header(first, "X-RateLimit-Remaining"), "99");
    EXPECT_EQ(Header(first, "X-RateLimit-Reset"), std::to_string(hour_end_s));  // default: epoch seconds

    Configure({{"rateLimit", {{"headerWindow", "second"}, {"resetFormat", "epochMillis"}}}});
    auto second = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(Header(second, "X-RateLimit-Limit"), "4");
    EXPECT_EQ(Header(second, "X-RateLimit-Remaining"), "2");
    EXPECT_EQ(
        Header(second, "X-RateLimit-Reset"),
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>((start + 1s).time_since_epoch()).count()));

    clock_.Advance(250ms);
    Configure({{"rateLimit", {{"resetFormat", "secondsFromNow"}}}});
    EXPECT_EQ(Header(sim_->HandleGraphql(Gql("{ me { id } }")), "X-RateLimit-Reset"), "1");  // 0.75 s, rounded up
    Configure({{"rateLimit", {{"headerWindow", "hour"}}}});
    EXPECT_EQ(Header(sim_->HandleGraphql(Gql("{ me { id } }")), "X-RateLimit-Reset"), "3600");

    clock_.Advance(1s);  // a fresh second window
    Configure({{"rateLimit", {{"resetFormat", "rfc3339"}, {"policyHeader", true}}}});
    auto rfc = sim_->HandleGraphql(Gql("{ me { id } }"));
    EXPECT_EQ(rfc.status, 200);
    EXPECT_EQ(Header(rfc, "X-RateLimit-Reset"), util::FormatRfc3339(start + 1h, util::TimePrecision::kSeconds));
    EXPECT_EQ(Header(rfc, "RateLimit-Policy"), "100;w=3600, 4;w=1");
    Configure({{"rateLimit", {{"rps", 0}}}});
    EXPECT_EQ(Header(sim_->HandleGraphql(Gql("{ me { id } }")), "RateLimit-Policy"), "100;w=3600");
    Configure({{"rateLimit", {{"rph", 0}}}});
    EXPECT_FALSE(HasHeader(sim_->HandleGraphql(Gql("{ me { id } }")), "RateLimit-Policy"));
}

TEST_F(SimulatorTest, AliasesCostOneEachWhenConfiguredAndARequestThatDoesNotFitIsRefused) {
    const auto ids = Create({{"count", 7}, {"kind", "success"}});
    auto batch = [&](int n) {
        std::string q = "{";
        for (int i = 0; i < n; ++i)
            q += " d" + std::to_string(i) + ": deployment(id: \"" + ids[static_cast<std::size_t>(i)] + "\") { id }";
        return Gql(q + " }");
    };
    Configure({{"rateLimit", {{"rps", 0}, {"rph", 10}}}});
    EXPECT_EQ(Header(sim_->HandleGraphql(batch(4)), "X-RateLimit-Remaining"), "9");  // default: 1 per request
    Configure({{"rateLimit", {{"cost", "rootField"}}}});
    auto four = sim_->HandleGraphql(batch(4));
    EXPECT_EQ(four.status, 200);
    EXPECT_EQ(Header(four, "X-RateLimit-Remaining"), "5");
    auto seven = sim_->HandleGraphql(batch(7));  // costs 7, only 5 left: refused, having cost 1
    EXPECT_EQ(seven.status, 429);
    EXPECT_GT(std::stoi(Header(seven, "Retry-After")), 3500);
    EXPECT_EQ(Header(seven, "X-RateLimit-Remaining"), "4");
    EXPECT_NE(json::parse(seven.body)["errors"][0]["message"].get<std::string>().find("costs 7"), std::string::npos);
    EXPECT_EQ(Header(sim_->HandleGraphql(batch(4)), "X-RateLimit-Remaining"), "0");
    EXPECT_EQ(sim_->Stats()["rateLimited"], 1);
}

TEST_F(SimulatorTest, LogPagesAfterStartDateHoldTheOldestOrTheNewestLinesWithOrWithoutTheExtraLine) {
    const auto ids = Create({{"kind", "build_failed"}, {"reason", "npm_elifecycle"}});
    clock_.Advance(1h);
    const json all = Query(R"(query L($id: String!) { buildLogs(deploymentId: $id, limit: 1000) { timestamp } })",
                           {{"id", ids[0]}})["data"]["buildLogs"];
    ASSERT_GT(all.size(), 12u);
    const std::string start = all[2]["timestamp"];
    const std::string page = R"(query L($id: String!, $s: DateTime) {
        buildLogs(deploymentId: $id, startDate: $s, limit: 3) { timestamp } })";
    const json head = Query(page, {{"id", ids[0]}, {"s", start}})["data"]["buildLogs"];
    ASSERT_EQ(head.size(), 4u);
    EXPECT_EQ(head[0]["timestamp"], all[2]["timestamp"]);
    EXPECT_EQ(head[3]["timestamp"], all[5]["timestamp"]);

    Configure({{"logs", {{"pageWithStartDate", "tail"}}}});
    const json tail = Query(page, {{"id", ids[0]}, {"s", start}})["data"]["buildLogs"];
    ASSERT_EQ(tail.size(), 4u);
    EXPECT_EQ(tail[3]["timestamp"], all.back()["timestamp"]);
    EXPECT_EQ(tail[0]["timestamp"], all[all.size() - 4]["timestamp"]);

    Configure({{"logs", {{"pageWithStartDate", "head"}, {"extraLine", false}}}});
    const json exact = Query(page, {{"id", ids[0]}, {"s", start}})["data"]["buildLogs"];
    ASSERT_EQ(exact.size(), 3u);
    EXPECT_EQ(exact[2]["timestamp"], all[4]["timestamp"]);
    // Without startDate: always the newest lines.
    const json newest = Query(R"(query L($id: String!) { buildLogs(deploymentId: $id, limit: 2) { timestamp } })",
                              {{"id", ids[0]}})["data"]["buildLogs"];
    ASSERT_EQ(newest.size(), 2u);
    EXPECT_EQ(newest[1]["timestamp"], all.back()["timestamp"]);
}

// errors.updatedAt: "status" keeps a deployment's updatedAt at its status change through a build;
// "logs" moves it with the build's lines (statusUpdatedAt stays) — the two answers a monitor's
// stall check must be right for.
TEST_F(SimulatorTest, UpdatedAtFollowsTheStatusOrAlsoTheLog) {
    const std::string q = R"(query Q($id: String!) { deployment(id: $id) { status statusUpdatedAt updatedAt } })";
    // How often, through one lifecycle, updatedAt was past statusUpdatedAt while BUILDING.
    const auto moved_while_building = [&](const std::string& id) {
        int moved = 0;
        for (int i = 0; i < 400; ++i) {
            clock_.Advance(25ms);
            const json d = Query(q, {{"id", id}})["data"]["deployment"];
            EXPECT_GE(d["updatedAt"].get<std::string>(), d["statusUpdatedAt"].get<std::string>());
            if (d["status"] == "BUILDING" && d["updatedAt"] != d["statusUpdatedAt"]) ++moved;
            if (d["status"] == "SUCCESS") break;
        }
        return moved;
    };
    EXPECT_EQ(moved_while_building(Create({{"kind", "success"}})[0]), 0);
    EXPECT_EQ(Configure({{"errors", {{"updatedAt", "logs"}}}})["errors"]["updatedAt"], "logs");
    EXPECT_GT(moved_while_building(Create({{"kind", "success"}})[0]), 0);
}

TEST_F(SimulatorTest, LogSeverityCanBeLeftOutSoThatClientsReadTheLevelAttribute) {
    const auto ids = Create({{"kind", "crash_loop"}, {"reason", "missing_env"}});
    clock_.Advance(1h);
    const std::string q = R"(query L($id: String!) {
        deploymentLogs(deploymentId: $id, limit: 500) { severity attributes { key value } } })";
    auto lines = [&] { return Query(q, {{"id", ids[0]}})["data"]["deploymentLogs"]; };
    const json always = lines();
    ASSERT_GT(always.size(), 20u);
    bool saw_error = false;
    for (const auto& l : always) {
        ASSERT_TRUE(l["severity"].is_string());
        EXPECT_EQ(l["attributes"][0]["key"], "level");
        EXPECT_EQ(l["attributes"][0]["value"], json(l["severity"].get<std::string>()).dump());
        saw_error = saw_error || l["severity"] == "error";
    }
    EXPECT_TRUE(saw_error);

    Configure({{"logs", {{"severity", "never"}}}});
    for (const auto& l : lines()) {
        EXPECT_TRUE(l["severity"].is_null());
        EXPECT_EQ(l["attributes"][0]["key"], "level");
    }
    Configure({{"logs", {{"severity", "sometimes"}}}});
    const json sometimes = lines();
    std::size_t missing = 0;
    for (std::size_t i = 0; i < sometimes.size(); ++i) {
        if (sometimes[i]["severity"].is_null()) {
            ++missing;
        } else {
            EXPECT_EQ(sometimes[i]["severity"], always[i]["severity"]);
        }
    }
    EXPECT_GT(missing, sometimes.size() / 5);
    EXPECT_LT(missing, sometimes.size() * 4 / 5);
    EXPECT_EQ(lines(), sometimes);  // the same lines lack it every time
}

TEST_F(SimulatorTest, RuntimeSettingsAreEchoedMergedAndValidated) {
    const json first = Configure({{"rateLimit", {{"rps", 7}}}});
    EXPECT_EQ(first["rateLimit"]["rps"], 7);
    EXPECT_EQ(first["rateLimit"]["rph"], 0);  // untouched
    EXPECT_EQ(first["rateLimit"]["headerWindow"], "hour");
    EXPECT_EQ(first["rateLimit"]["resetFormat"], "epochSeconds");
    EXPECT_EQ(first["rateLimit"]["policyHeader"], false);
    EXPECT_EQ(first["rateLimit"]["cost"], "request");
    EXPECT_EQ(first["logs"], json::parse(R"({"pageWithStartDate":"head","extraLine":true,"severity":"always"})"));
    EXPECT_EQ(first["errors"], json::parse(R"({"unknownDeployment":"Deployment not found","siblingErrors":"first",
                                               "paths":true,"maxRootFields":0,"tooManyRootFields":"complexity",
                                               "maxPageSize":0,"largePage":"clamp",
                                               "deploymentOrder":"newestFirst","updatedAt":"status"})"));
    EXPECT_TRUE(first["webhookUrl"].is_null());
    const json hooked = Configure({{"webhookUrl", "http://127.0.0.1:1/h"}, {"webhookSecret", "s3cret"}});
    EXPECT_EQ(hooked["webhookUrl"], "http://127.0.0.1:1/h");
    EXPECT_EQ(hooked["webhookSecret"], "***");
    EXPECT_EQ(hooked["webhookSecretHeader"], "X-Webhook-Secret");
    EXPECT_EQ(hooked.dump().find("s3cret"), std::string::npos);
    EXPECT_EQ(first["slowHealthMs"], 2000);
    EXPECT_EQ(Configure({{"slowHealthMs", 50}})["slowHealthMs"], 50);
    for (const char* bad : {R"({"rateLimit":{"headerWindow":"day"}})", R"({"logs":{"severity":1}})",
                            R"({"errors":{"siblingErrors":"some"}})", R"({"errors":{"maxRootFields":-1}})",
                            R"({"errors":{"tooManyRootFields":"teapot"}})", R"({"errors":{"paths":"no"}})",
                            R"({"errors":{"maxPageSize":-1}})", R"({"errors":{"largePage":"split"}})",
                            R"({"errors":{"deploymentOrder":"random"}})", R"({"webhookUrl":"mailto:x"})",
                            R"({"timeScale":0})", R"({"slowHealthMs":-1})", R"([])", "nope"}) {
        EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/config", bad)).status, 400) << bad;
    }
    EXPECT_EQ(Configure({{"webhookUrl", nullptr}})["webhookUrl"], nullptr);
}

}  // namespace
}  // namespace railwatch::sim
