// Drives the real `railwatch sim` binary over HTTP on loopback: one process for the suite
// (started with flags and a scenario file, as a user would), plus its own processes for the ready
// line and a clean stop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "sim/lifecycle.hpp"
#include "sim/world.hpp"
#include "support/child_process.hpp"
#include "support/loopback_http.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// Every document sent, with the simulator's verdict, for integration.sim_schema_agreement.
std::mutex g_docs_mutex;
json g_sent_documents = json::array();

void Record(const std::string& query, int status, const std::string& body) {
    bool rejected = false;
    if (status == 400) {
        const json b = json::parse(body, nullptr, false);
        if (!b.is_discarded() && b.contains("errors")) {
            const std::string code = b["errors"][0]["extensions"].value("code", "");
            rejected = code == "GRAPHQL_VALIDATION_FAILED" || code == "GRAPHQL_PARSE_FAILED";
        }
    }
    std::lock_guard lock(g_docs_mutex);
    g_sent_documents.push_back(
        {{"name", "sent #" + std::to_string(g_sent_documents.size())}, {"query", query}, {"valid", !rejected}});
}

class WriteSentDocuments : public ::testing::Environment {
  public:
    void TearDown() override {
        std::ofstream out(SIM_SENT_DOCUMENTS);
        out << g_sent_documents.dump(1);
    }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new WriteSentDocuments);

struct Answer {
    int status = 0;
    std::string raw;  ///< the body as sent
    json body;
    httplib::Headers headers;

    std::string Header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

using test::SimProcess;

/// Writes `scenario` next to nothing else and returns its path (kept until the process ends).
std::string WriteScenario(const test::TempDir& dir, const json& scenario) {
    std::string path = dir.File("scenario.json");
    std::ofstream(path) << scenario.dump(2);
    return path;
}

constexpr const char* kWorkspaceToken = "it-workspace-token";
constexpr const char* kStagingEnvironment = "env-it-staging";

class SimHttpTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        scenario_dir_ = new test::TempDir("railwatch-sim-scenario-");
        // Limits off for the suite (tests that need them turn them on); a 5-minute deploy in 0.1 s.
        const std::string scenario = WriteScenario(
            *scenario_dir_, {{"description", "integration"}, {"rateLimit", {{"rps", 0}, {"rph", 0}, {"edgeRps", 0}}}});
        sim_ = new SimProcess({"--scenario", scenario, "--time-scale", "3000", "--seed", "11", "--workspace-token",
                               kWorkspaceToken, "--project-token-environment", kStagingEnvironment});
        ASSERT_GT(sim_->port(), 0) << "railwatch sim did not start:\n" << sim_->Log();
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
        delete scenario_dir_;
        scenario_dir_ = nullptr;
    }
    void TearDown() override {
        const json reset = Control("/_sim/config", R"({
            "faults":{"http500":0,"http503":0,"hang":0,"reset":0,"malformedJson":0,"html403":0,"latency":0},
            "rateLimit":{"rps":0,"rph":0,"headerWindow":"hour","resetFormat":"epochSeconds","policyHeader":false,
                         "cost":"request"},
            "errors":{"unknownDeployment":"Deployment not found","siblingErrors":"first"},
            "logs":{"pageWithStartDate":"head","extraLine":true,"severity":"always"},
            "webhookUrl":null,"webhookSecret":null})");
        ASSERT_FALSE(reset.contains("error")) << reset.dump();
    }

    static httplib::Client Client() {
        httplib::Client c("127.0.0.1", sim_->port());
        c.set_read_timeout(10, 0);
        return c;
    }

    static Answer Post(const std::string& query, const json& variables, const httplib::Headers& headers) {
        auto c = Client();
        auto res = c.Post("/graphql/v2?source=railwatch-test", headers,
                          json{{"query", query}, {"variables", variables}}.dump(), "application/json");
        Answer a;
        if (!res) return a;
        a.status = res->status;
        a.headers = res->headers;
        a.raw = res->body;
        a.body = json::parse(res->body, nullptr, false);
        Record(query, res->status, res->body);
        return a;
    }

    static Answer Gql(const std::string& query, const json& variables = json::object(),
                      const std::string& token = "sim-account-token") {
        httplib::Headers headers;
        if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
        return Post(query, variables, headers);
    }

    static Answer ProjectGql(const std::string& query, const json& variables = json::object()) {
        return Post(query, variables, {{"Project-Access-Token", "sim-project-token"}});
    }

    static json Control(const std::string& path, const std::string& body) {
        auto c = Client();
        auto res = c.Post(path, body, "application/json");
        if (!res) return json();
        return json::parse(res->body, nullptr, false);
    }

    static json Get(const std::string& path) {
        auto res = Client().Get(path);
        if (!res) return json();
        return json::parse(res->body, nullptr, false);
    }

    static std::vector<std::string> Create(const json& spec) {
        const json created = Control("/_sim/deployments", spec.dump());
        EXPECT_TRUE(created.contains("ids")) << created.dump();
        return created.value("ids", std::vector<std::string>{});
    }

    static test::TempDir* scenario_dir_;
    static SimProcess* sim_;
};
test::TempDir* SimHttpTest::scenario_dir_ = nullptr;
SimProcess* SimHttpTest::sim_ = nullptr;

bool IsTraceId(const json& v) {
    return v.is_string() && std::regex_match(v.get<std::string>(), std::regex("[0-9a-f]{32}"));
}

TEST_F(SimHttpTest, EveryLifecycleKindReachesItsDocumentedEndState) {
    std::map<std::string, std::string> expected;  // id → end status
    std::string query = "query Fleet {";
    int n = 0;
    for (Kind kind : kAllKinds) {
        const json created = Control("/_sim/deployments", json{{"kind", ToString(kind)}}.dump());
        ASSERT_TRUE(created.contains("ids")) << created.dump();
        const std::string id = created["ids"][0];
        expected[id] = std::string(core::ToString(EndStatus(kind)));
        query += " k" + std::to_string(n++) + ": deployment(id: \"" + id + "\") { id status statusUpdatedAt }";
    }
    query += " }";
    std::map<std::string, std::string> seen;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool all_done = false;
    while (!all_done && std::chrono::steady_clock::now() < deadline) {
        const Answer a = Gql(query);
        ASSERT_EQ(a.status, 200);
        all_done = true;
        for (const auto& [alias, d] : a.body["data"].items()) {
            seen[d["id"]] = d["status"];
            if (d["status"] != expected[d["id"]]) all_done = false;
        }
        if (!all_done) std::this_thread::sleep_for(50ms);
    }
    for (const auto& [id, status] : expected)
        EXPECT_EQ(seen[id], status) << id;
    // The ground truth agrees, and a stuck deployment is still stuck well after its peers finished.
    auto c = Client();
    std::string ids;
    for (const auto& [id, status] : expected)
        ids += (ids.empty() ? "" : ",") + id;
    auto truth = c.Get("/_sim/truth?id=" + ids);
    ASSERT_TRUE(truth);
    const json truth_body = json::parse(truth->body);  // must outlive the loop over its member
    for (const auto& d : truth_body["deployments"]) {
        EXPECT_EQ(d["currentStatus"], expected[d["id"]]);
        ASSERT_GE(d["timeline"].size(), 1u);
        EXPECT_EQ(d["timeline"][0]["status"], "INITIALIZING");  // Railway's first state
    }
}

TEST_F(SimHttpTest, AnswersOneHundredAliasesInOneRequest) {
    const json created = Control("/_sim/deployments", R"({"count": 100, "mix": {"success": 1, "crash_loop": 1}})");
    ASSERT_EQ(created["ids"].size(), 100u);
    std::string query = "query Batch {";
    for (int i = 0; i < 100; ++i) {
        query += " d" + std::to_string(i) + ": deployment(id: \"" +
                 created["ids"][static_cast<std::size_t>(i)].get<std::string>() +
                 "\") { id status createdAt url instances { status } }";
    }
    query += " }";
    const json before = json::parse(Client().Get("/_sim/stats")->body);
    const Answer a = Gql(query);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.body["data"].size(), 100u);
    EXPECT_FALSE(a.body.contains("errors"));
    const json after = json::parse(Client().Get("/_sim/stats")->body);
    EXPECT_EQ(after["rootFields"]["deployment"].get<int>() - before["rootFields"].value("deployment", 0), 100);
}

TEST_F(SimHttpTest, RejectsUnknownFieldsAndBadTokensAsRailwayDoes) {
    const Answer invalid = Gql(R"({ deployment(id: "x") { id nonsense } })");
    EXPECT_EQ(invalid.status, 400);
    EXPECT_EQ(invalid.body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    EXPECT_TRUE(IsTraceId(invalid.body["errors"][0]["extensions"]["traceId"]));
    const Answer syntax = Gql(R"({ deployment(id: "x") { id )");
    EXPECT_EQ(syntax.status, 400);
    EXPECT_EQ(syntax.body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    EXPECT_TRUE(IsTraceId(syntax.body["errors"][0]["extensions"]["traceId"]));
    const Answer bad_arg = Gql(R"({ deploymentLogs(deploymentId: "x", since: "y") { message } })");
    EXPECT_EQ(bad_arg.status, 400);
    for (const std::string token : {"", "not-the-token"}) {
        const Answer refused = Gql("{ me { id } }", json::object(), token);
        EXPECT_EQ(refused.status, 200);
        EXPECT_EQ(refused.raw.rfind(R"({"data":null,"errors":[{"message":"Not Authorized")", 0), 0u) << refused.raw;
        EXPECT_EQ(refused.body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
        EXPECT_TRUE(IsTraceId(refused.body["errors"][0]["extensions"]["traceId"]));
    }
    // `deployment` is non-null: an unknown id nulls every alias of the request.
    const Answer unknown = Gql(R"({ a: deployment(id: "missing") { id } b: me { email } })");
    EXPECT_EQ(unknown.status, 200);
    ASSERT_TRUE(unknown.body.contains("data"));
    EXPECT_TRUE(unknown.body["data"].is_null());
    ASSERT_EQ(unknown.body["errors"].size(), 1u);
    const json& e = unknown.body["errors"][0];
    EXPECT_EQ(e["message"], "Deployment not found");
    EXPECT_EQ(e["path"], json::array({"a"}));
    EXPECT_EQ(e["locations"], json::parse(R"([{"line":1,"column":3}])"));
    EXPECT_EQ(e["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    EXPECT_TRUE(IsTraceId(e["extensions"]["traceId"]));
}

TEST_F(SimHttpTest, DeletedIdsNullTheWholeBatchAndErrorPathsNameThem) {
    const auto ids = Create({{"count", 50}, {"kind", "success"}});
    ASSERT_EQ(ids.size(), 50u);
    auto batch = [&](const std::set<std::size_t>& skip) {
        std::string q = "query DeploymentStatuses {";
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (!skip.count(i)) q += " d" + std::to_string(i) + ": deployment(id: \"" + ids[i] + "\") { id status }";
        return Gql(q + " }");
    };
    EXPECT_EQ(batch({}).body["data"].size(), 50u);
    std::set<std::size_t> doomed;
    json doomed_ids = json::array();
    for (std::size_t i = 3; i < 50; i += 5) {
        doomed.insert(i);
        doomed_ids.push_back(ids[i]);
    }
    ASSERT_EQ(doomed.size(), 10u);
    const json deleted = Control("/_sim/deployments/delete", json{{"ids", doomed_ids}}.dump());
    EXPECT_EQ(deleted["deleted"], 10);
    EXPECT_EQ(deleted["notDeleted"], json::array());

    const Answer first = batch({});
    EXPECT_EQ(first.status, 200);
    EXPECT_TRUE(first.body["data"].is_null());
    ASSERT_EQ(first.body["errors"].size(), 1u);
    EXPECT_EQ(first.body["errors"][0]["message"], "Deployment not found");
    EXPECT_EQ(first.body["errors"][0]["path"], json::array({"d3"}));

    ASSERT_FALSE(Control("/_sim/config", R"({"errors":{"siblingErrors":"all"}})").contains("error"));
    const Answer all = batch({});
    EXPECT_TRUE(all.body["data"].is_null());
    ASSERT_EQ(all.body["errors"].size(), 10u);
    std::set<std::string> paths;
    for (const auto& e : all.body["errors"])
        paths.insert(e["path"][0].get<std::string>());
    for (std::size_t i : doomed)
        EXPECT_TRUE(paths.count("d" + std::to_string(i))) << i;

    const Answer rest = batch(doomed);
    EXPECT_EQ(rest.body["data"].size(), 40u);
    EXPECT_FALSE(rest.body.contains("errors"));
    const json truth = Get("/_sim/truth?id=" + ids[3] + "," + ids[4]);
    EXPECT_EQ(truth["deployments"][0]["deleted"], true);
    EXPECT_EQ(truth["deployments"][1]["deleted"], false);
}

TEST_F(SimHttpTest, TheNotFoundMessageIsASettingAtRunTime) {
    for (const char* message : {"Not Authorized", "Problem processing request", "Deployment not found"}) {
        const json settings = Control("/_sim/config", json{{"errors", {{"unknownDeployment", message}}}}.dump());
        ASSERT_EQ(settings["errors"]["unknownDeployment"], message) << settings.dump();
        const Answer a = Gql(R"({ deployment(id: "no-such-deployment") { id } })");
        EXPECT_EQ(a.body["errors"][0]["message"], message);
    }
    const json refused = Control("/_sim/config", R"({"errors":{"unknownDeployment":"Gone"}})");
    EXPECT_EQ(refused["error"]["code"], "invalid_argument");
}

TEST_F(SimHttpTest, AnswersOverTheLimitWith429RetryAfterAndRateLimitHeaders) {
    ASSERT_FALSE(Control("/_sim/config", R"({"rateLimit":{"rps":3,"rph":1000}})").contains("error"));
    std::vector<Answer> answers;
    answers.reserve(5);
    for (int i = 0; i < 5; ++i)
        answers.push_back(Gql("{ platformStatus { isStable } }", json::object(), "token-for-limits"));
    // The token is wrong, but budgets are counted before authentication, per token.
    int limited = 0;
    for (const auto& a : answers) {
        EXPECT_TRUE(a.headers.count("X-RateLimit-Limit"));
        EXPECT_TRUE(a.headers.count("X-RateLimit-Remaining"));
        EXPECT_TRUE(a.headers.count("X-RateLimit-Reset"));
        if (a.status == 429) {
            ++limited;
            ASSERT_TRUE(a.headers.count("Retry-After"));
            EXPECT_GE(std::stoi(a.headers.find("Retry-After")->second), 1);
        }
    }
    EXPECT_GE(limited, 1);
    EXPECT_EQ(answers[0].headers.find("X-RateLimit-Limit")->second, "1000");
}

TEST_F(SimHttpTest, ClientsSeeEveryFaultKind) {
    auto set = [](const std::string& faults) {
        const json r = Control("/_sim/config", R"({"faults":)" + faults + "}");
        ASSERT_FALSE(r.contains("error")) << r.dump();
    };
    auto raw = [](int read_timeout_ms = 10000) {
        httplib::Client c("127.0.0.1", sim_->port());
        c.set_read_timeout(read_timeout_ms / 1000, static_cast<long>(read_timeout_ms % 1000) * 1000);
        return c.Post("/graphql/v2?source=test", {{"Authorization", "Bearer sim-account-token"}},
                      R"({"query":"{ me { id name email } }"})", "application/json");
    };
    set(R"({"http500":1})");
    auto r500 = raw();
    ASSERT_TRUE(r500);
    EXPECT_EQ(r500->status, 500);
    set(R"({"http500":0,"http503":1})");
    auto r503 = raw();
    ASSERT_TRUE(r503);
    EXPECT_EQ(r503->status, 503);
    set(R"({"http503":0,"html403":1})");
    auto r403 = raw();
    ASSERT_TRUE(r403);
    EXPECT_EQ(r403->status, 403);
    EXPECT_EQ(r403->get_header_value("Content-Type").rfind("text/html", 0), 0u);
    set(R"({"html403":0,"malformedJson":1})");
    auto bad_json = raw();
    ASSERT_TRUE(bad_json);
    EXPECT_EQ(bad_json->status, 200);
    EXPECT_FALSE(json::accept(bad_json->body));
    set(R"({"malformedJson":0,"reset":1})");
    auto reset = raw();
    EXPECT_FALSE(reset);
    set(R"({"reset":0,"hang":1,"hangMs":3000})");
    const auto hang_start = std::chrono::steady_clock::now();
    auto hang = raw(400);
    EXPECT_FALSE(hang);
    EXPECT_LT(std::chrono::steady_clock::now() - hang_start, 2500ms);
    set(R"({"hang":0,"latency":1,"latencyMs":300})");
    const auto slow_start = std::chrono::steady_clock::now();
    auto slow = raw();
    ASSERT_TRUE(slow);
    EXPECT_EQ(slow->status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - slow_start, 300ms);
    const json stats = json::parse(Client().Get("/_sim/stats")->body);
    for (const char* k : {"http500", "http503", "html403", "malformedJson", "reset", "hang"})
        EXPECT_GE(stats["faults"].value(k, 0), 1) << k;
}

TEST_F(SimHttpTest, DeploymentUrlsPointAtALiveHealthEndpoint) {
    const json created = Control("/_sim/deployments", R"({"kind": "success", "serviceId": "svc-health"})");
    const std::string id = created["ids"][0];
    std::string url;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        const Answer a = Gql("query Q($id: String!) { deployment(id: $id) { status url } }", {{"id", id}});
        url = a.body["data"]["deployment"]["url"];
        if (a.body["data"]["deployment"]["status"] == "SUCCESS") break;
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
    const auto slash = url.find('/', 7);
    httplib::Client app(url.substr(0, slash));
    auto health = app.Get(url.substr(slash) + "/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    ASSERT_FALSE(Control("/_sim/health", R"({"serviceId":"svc-health","mode":"failing"})").contains("error"));
    auto failing = app.Get(url.substr(slash) + "/health");
    ASSERT_TRUE(failing);
    EXPECT_EQ(failing->status, 503);
}

TEST_F(SimHttpTest, RateLimitHeadersAndCostsFollowTheSettings) {
    const json settings = Control("/_sim/config", R"({"rateLimit":{"rps":5,"rph":40,"headerWindow":"second",
        "resetFormat":"rfc3339","policyHeader":true,"cost":"rootField"}})");
    ASSERT_FALSE(settings.contains("error")) << settings.dump();
    const auto ids = Create({{"count", 6}, {"kind", "success"}});
    const std::string token = "token-for-costs";
    const Answer one = Gql("{ platformStatus { isStable } }", json::object(), token);
    EXPECT_EQ(one.status, 200);
    EXPECT_EQ(one.Header("X-RateLimit-Limit"), "5");
    EXPECT_EQ(one.Header("RateLimit-Policy"), "40;w=3600, 5;w=1");
    EXPECT_TRUE(std::regex_match(one.Header("X-RateLimit-Reset"),
                                 std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")))
        << one.Header("X-RateLimit-Reset");
    std::string six = "{";
    for (std::size_t i = 0; i < ids.size(); ++i)
        six += " d" + std::to_string(i) + ": deployment(id: \"" + ids[i] + "\") { id }";
    six += " }";
    // Six root fields cost six; the per-second budget is five.
    const Answer refused = Gql(six, json::object(), token);
    EXPECT_EQ(refused.status, 429);
    EXPECT_GE(std::stoi(refused.Header("Retry-After")), 1);
    EXPECT_NE(refused.body["errors"][0]["message"].get<std::string>().find("costs 6"), std::string::npos);
    EXPECT_GE(Get("/_sim/stats")["rateLimited"].get<int>(), 1);
}

TEST_F(SimHttpTest, ANewDeploymentOfAServiceIsItsLatestInEveryQueryThatShowsIt) {
    const std::string service = "svc-latest-it";
    const std::string env(World::kEnvironmentId);
    const std::string first = Create({{"kind", "success"}, {"serviceId", service}})[0];
    const std::string second = Create({{"kind", "success"}, {"serviceId", service}})[0];
    const Answer redeploy =
        Gql("mutation Redeploy($id: String!) { deploymentRedeploy(id: $id) { id status } }", {{"id", second}});
    ASSERT_EQ(redeploy.status, 200);
    const std::string third = redeploy.body["data"]["deploymentRedeploy"]["id"];
    const Answer a = Gql(R"(query Latest($e: String!, $s: String!) {
        serviceInstance(environmentId: $e, serviceId: $s) { serviceId latestDeployment { id status createdAt } }
        environment(id: $e) { id serviceInstances { edges { node { serviceId latestDeployment { id } } } } }
        deployments(input: {environmentId: $e, serviceId: $s}, first: 3) {
          edges { node { id createdAt } } pageInfo { hasNextPage endCursor } } })",
                         {{"e", env}, {"s", service}});
    ASSERT_EQ(a.status, 200) << a.body.dump();
    ASSERT_FALSE(a.body.contains("errors")) << a.body.dump();
    EXPECT_EQ(a.body["data"]["serviceInstance"]["latestDeployment"]["id"], third);
    bool listed = false;
    for (const auto& edge : a.body["data"]["environment"]["serviceInstances"]["edges"]) {
        if (edge["node"]["serviceId"] != service) continue;
        listed = true;
        EXPECT_EQ(edge["node"]["latestDeployment"]["id"], third);
    }
    EXPECT_TRUE(listed);
    const json& edges = a.body["data"]["deployments"]["edges"];
    ASSERT_EQ(edges.size(), 3u);
    EXPECT_EQ(edges[0]["node"]["id"], third);
    EXPECT_EQ(edges[1]["node"]["id"], second);
    EXPECT_EQ(edges[2]["node"]["id"], first);
    EXPECT_GE(edges[0]["node"]["createdAt"].get<std::string>(), edges[2]["node"]["createdAt"].get<std::string>());
}

TEST_F(SimHttpTest, TokensAreScopedAsRailwayScopesThem) {
    // Started with --workspace-token and --project-token-environment (see SetUpTestSuite).
    const Answer ws_me = Gql("{ me { id } }", json::object(), kWorkspaceToken);
    EXPECT_EQ(ws_me.status, 200);
    EXPECT_TRUE(ws_me.body["data"].is_null());
    EXPECT_EQ(ws_me.body["errors"][0]["message"], "Not Authorized");
    const Answer ws_token = Gql("{ apiToken { workspaces { id name } } }", json::object(), kWorkspaceToken);
    EXPECT_EQ(ws_token.body["data"]["apiToken"]["workspaces"][0]["id"], World::kWorkspaceId);
    EXPECT_EQ(Gql("{ me { id email } }").body["data"]["me"]["email"], "dev@example.com");

    const std::string prod = Create({{"kind", "success"}})[0];
    const std::string staging = Create({{"kind", "success"}, {"environmentId", kStagingEnvironment}})[0];
    const Answer token = ProjectGql("query ProjectToken { projectToken { projectId environmentId } }");
    EXPECT_EQ(token.body["data"]["projectToken"]["projectId"], World::kProjectId);
    EXPECT_EQ(token.body["data"]["projectToken"]["environmentId"], kStagingEnvironment);
    const std::string by_id = "query Q($id: String!) { deployment(id: $id) { id environmentId } }";
    EXPECT_EQ(ProjectGql(by_id, {{"id", staging}}).body["data"]["deployment"]["id"], staging);
    const Answer outside = ProjectGql(by_id, {{"id", prod}});
    EXPECT_TRUE(outside.body["data"].is_null());
    EXPECT_EQ(outside.body["errors"][0]["message"], "Not Authorized");
    EXPECT_EQ(outside.body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
}

TEST_F(SimHttpTest, LogLinesCarryALevelAttributeAndMayLeaveSeverityOut) {
    const std::string id = Create({{"kind", "build_failed"}})[0];
    std::this_thread::sleep_for(300ms);  // the build fails within 0.1 s at 3000×
    ASSERT_FALSE(
        Control("/_sim/config", R"({"logs":{"severity":"never","pageWithStartDate":"tail","extraLine":false}})")
            .contains("error"));
    const Answer logs = Gql(R"(query Logs($id: String!, $since: DateTime) {
        buildLogs(deploymentId: $id, startDate: $since, limit: 2) { timestamp message severity attributes { key value } } })",
                            {{"id", id}, {"since", "2000-01-01T00:00:00Z"}});
    ASSERT_EQ(logs.status, 200) << logs.body.dump();
    const json& lines = logs.body["data"]["buildLogs"];
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1]["message"], "Error: Docker build failed");  // the newest: a tail page
    EXPECT_TRUE(lines[1]["severity"].is_null());
    EXPECT_EQ(lines[1]["attributes"], json::parse(R"([{"key":"level","value":"\"error\""}])"));
}

TEST_F(SimHttpTest, WebhooksReachALoopbackReceiverWithoutHoldingUpRequests) {
    std::mutex mutex;
    std::vector<std::pair<std::string, json>> received;  // secret header, body
    test::LoopbackHttpServer receiver([&](const test::LoopbackRequest& req) {
        std::lock_guard lock(mutex);
        received.emplace_back(req.Header("X-Hook-Secret"), json::parse(req.body, nullptr, false));
        return test::LoopbackReply::Json(200, "{}");
    });
    const json settings = Control("/_sim/config", json{{"webhookUrl", receiver.Url("/hooks/railway")},
                                                       {"webhookSecret", "it-secret"},
                                                       {"webhookSecretHeader", "X-Hook-Secret"}}
                                                      .dump());
    ASSERT_EQ(settings["webhookSecret"], "***") << settings.dump();
    const std::string id = Create({{"kind", "build_failed"}})[0];
    // Several deliveries are in flight at once, so they may arrive out of order: order by time.
    std::map<std::string, std::string> statuses;  // timestamp → status
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool failed_seen = false;
    while (!failed_seen && std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mutex);
            statuses.clear();
            for (const auto& [secret, body] : received) {
                if (body.is_discarded() || body["details"]["id"] != id) continue;
                EXPECT_EQ(secret, "it-secret");
                statuses[body["timestamp"]] = body["details"]["status"];
                failed_seen = failed_seen || body["details"]["status"] == "FAILED";
            }
        }
        if (!failed_seen) std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(failed_seen);
    EXPECT_EQ(statuses.begin()->second, "INITIALIZING");
    EXPECT_EQ(statuses.rbegin()->second, "FAILED");
    EXPECT_GE(statuses.size(), 3u);  // INITIALIZING, (QUEUED,) BUILDING, FAILED
    {
        std::lock_guard lock(mutex);
        for (const auto& [secret, body] : received) {
            if (body["details"]["id"] != id || body["details"]["status"] != "FAILED") continue;
            EXPECT_EQ(body["type"], "Deployment.failed");
            EXPECT_EQ(body["resource"]["deployment"]["id"], id);
            EXPECT_TRUE(body.contains("timestamp"));
        }
    }
    EXPECT_GE(Get("/_sim/stats")["webhooks"]["delivered"].get<int>(), static_cast<int>(statuses.size()));

    // A receiver that never answers holds up no GraphQL request.
    test::LoopbackHttpServer stuck([](const test::LoopbackRequest&) {
        test::LoopbackReply reply;
        reply.action = test::LoopbackReply::Action::kHang;
        reply.delay = 30s;
        return reply;
    });
    ASSERT_FALSE(Control("/_sim/config", json{{"webhookUrl", stuck.Url("/hooks")}}.dump()).contains("error"));
    Create({{"count", 20}, {"kind", "crash_loop"}});
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const Answer a = Gql("{ platformStatus { isStable } }");
        EXPECT_EQ(a.status, 200);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // blocked, it would take the 30 s hang
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_GE(stuck.requests_received(), 1u);
    ASSERT_FALSE(Control("/_sim/config", R"({"webhookUrl":null})").contains("error"));
}

TEST(SimProcess, PrintsItsReadyLineServesAndStopsCleanlyOnSigterm) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        const std::string scenario = std::string(RAILWATCH_SOURCE_DIR) + "/examples/demo.json";
        execl(RAILWATCH_BINARY, RAILWATCH_BINARY, "sim", "--listen", "127.0.0.1:0", "--scenario", scenario.c_str(),
              "--time-scale", "600", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[256];
        const ssize_t n = read(out[0], buf, sizeof(buf));
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    const std::string prefix = "railwatch sim listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << "got: " << line;
    const int port = std::stoi(line.substr(prefix.size()));
    EXPECT_GT(port, 0);

    httplib::Client c("127.0.0.1", port);
    auto res = c.Post(
        "/graphql/v2?source=test", {{"Authorization", "Bearer sim-account-token"}},
        R"({"query":"{ deployments(input: {serviceId: \"svc-api\"}, first: 1) { edges { node { id status } } } }"})",
        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(json::parse(res->body)["data"]["deployments"]["edges"].size(), 1u);
    Record(R"({ deployments(input: {serviceId: "svc-api"}, first: 1) { edges { node { id status } } } })", res->status,
           res->body);

    kill(pid, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 100 && done == 0; ++i) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0) std::this_thread::sleep_for(50ms);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        FAIL() << "railwatch sim did not stop within 5 s of SIGTERM";
    }
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    close(out[0]);
}

}  // namespace
}  // namespace railwatch::sim
