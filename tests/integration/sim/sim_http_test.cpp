// Drives the simulator over real HTTP on loopback: an in-process SimServer on port 0 for most
// tests, and the real `railwatch sim` process for the ready line and a clean stop.
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
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "sim/lifecycle.hpp"
#include "sim/sim_server.hpp"
#include "util/clock.hpp"

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
    json body;
    httplib::Headers headers;
};

class SimHttpTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        SimConfig config;
        config.time_scale = 3000;  // a 5-minute deploy in 0.1 s
        config.rate_limit = {0, 0, 0};
        server_ = new SimServer(config, clock_, SimServerOptions{});
        auto started = server_->Start();
        ASSERT_TRUE(started) << started.error().message;
    }
    static void TearDownTestSuite() {
        server_->Stop();
        delete server_;
    }
    void TearDown() override {
        (void)Control(
            "/_sim/config",
            R"({"faults":{"http500":0,"http503":0,"hang":0,"reset":0,"malformedJson":0,"html403":0,"latency":0},"rateLimit":{"rps":0,"rph":0}})");
    }

    static httplib::Client Client() {
        httplib::Client c("127.0.0.1", server_->Port());
        c.set_read_timeout(10, 0);
        return c;
    }

    static Answer Gql(const std::string& query, const json& variables = json::object(),
                      const std::string& token = "sim-account-token") {
        auto c = Client();
        httplib::Headers headers;
        if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
        auto res = c.Post("/graphql/v2?source=railwatch-test", headers,
                          json{{"query", query}, {"variables", variables}}.dump(), "application/json");
        Answer a;
        if (!res) return a;
        a.status = res->status;
        a.headers = res->headers;
        a.body = json::parse(res->body, nullptr, false);
        Record(query, res->status, res->body);
        return a;
    }

    static json Control(const std::string& path, const std::string& body) {
        auto c = Client();
        auto res = c.Post(path, body, "application/json");
        if (!res) return json();
        return json::parse(res->body, nullptr, false);
    }

    static util::SystemClock clock_;
    static SimServer* server_;
};
util::SystemClock SimHttpTest::clock_;
SimServer* SimHttpTest::server_ = nullptr;

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
        EXPECT_GE(d["timeline"].size(), 1u);
    }
}

TEST_F(SimHttpTest, AnswersOneHundredAliasesInOneRequest) {
    const json created = Control("/_sim/deployments", R"({"count": 100, "mix": {"success": 1, "crash_loop": 1}})");
    ASSERT_EQ(created["ids"].size(), 100u);
    std::string query = "query Batch {";
    for (int i = 0; i < 100; ++i)
        query += " d" + std::to_string(i) + ": deployment(id: \"" +
                 created["ids"][static_cast<std::size_t>(i)].get<std::string>() +
                 "\") { id status createdAt url instances { status } }";
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
    const Answer syntax = Gql(R"({ deployment(id: "x") { id )");
    EXPECT_EQ(syntax.status, 400);
    EXPECT_EQ(syntax.body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    const Answer bad_arg = Gql(R"({ deploymentLogs(deploymentId: "x", since: "y") { message } })");
    EXPECT_EQ(bad_arg.status, 400);
    const Answer no_token = Gql("{ me { id } }", json::object(), "");
    EXPECT_EQ(no_token.status, 200);
    EXPECT_TRUE(no_token.body["data"].is_null());
    EXPECT_EQ(no_token.body["errors"][0]["message"], "Not Authorized");
    const Answer bad_token = Gql("{ me { id } }", json::object(), "not-the-token");
    EXPECT_EQ(bad_token.body["errors"][0]["message"], "Not Authorized");
    const Answer unknown = Gql(R"({ a: deployment(id: "missing") { id } b: me { email } })");
    EXPECT_EQ(unknown.status, 200);
    EXPECT_TRUE(unknown.body["data"]["a"].is_null());
    EXPECT_EQ(unknown.body["data"]["b"]["email"], "dev@example.com");
    EXPECT_EQ(unknown.body["errors"][0]["path"], json::array({"a"}));
}

TEST_F(SimHttpTest, AnswersOverTheLimitWith429RetryAfterAndRateLimitHeaders) {
    ASSERT_FALSE(Control("/_sim/config", R"({"rateLimit":{"rps":3,"rph":1000}})").contains("error"));
    std::vector<Answer> answers;
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
        httplib::Client c("127.0.0.1", server_->Port());
        c.set_read_timeout(read_timeout_ms / 1000, (read_timeout_ms % 1000) * 1000);
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
