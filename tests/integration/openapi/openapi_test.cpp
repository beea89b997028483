#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/serve_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

// Every operation of docs/openapi.yaml, called on a real `railwatch serve` (following a real
// `railwatch sim`) with valid inputs: each must answer with a success status the file documents
// and a body that validates against the documented schema (tools/openapi-validate, ajv). Every
// operation that takes the bearer token is also called without it: 401, documented, Error-shaped.
namespace railwatch {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kApiToken = "it-openapi-api-token-0123456789";
constexpr const char* kAccountToken = "it-openapi-account-token";
const std::string kSpec = std::string(RAILWATCH_SOURCE_DIR) + "/docs/openapi.yaml";
const std::string kTool = std::string(RAILWATCH_SOURCE_DIR) + "/tools/openapi-validate/openapi.mjs";

/// One answer as the checker reads it.
struct Answer {
    std::string method;
    std::string pattern;  ///< the path as written in the spec
    int status = 0;
    std::string content_type;
    std::string body;
};

/// A request for one operation: the concrete target and body.
struct Call {
    std::string target;
    std::string body;  ///< JSON text; empty: no body
    httplib::Headers headers;
};

/// Sends `call` as `method`; an SSE answer is cut after its first bytes.
Answer Send(int port, const std::string& method, const std::string& pattern, const Call& call, bool with_token) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30s);
    client.set_connection_timeout(5s);
    httplib::Headers headers = call.headers;
    if (with_token) headers.emplace("Authorization", std::string("Bearer ") + kApiToken);
    Answer answer{method, pattern, 0, {}, {}};
    httplib::Request req;
    req.method = method;
    req.path = call.target;
    req.headers = headers;
    if (!call.body.empty()) {
        req.body = call.body;
        req.set_header("Content-Type", "application/json");
    }
    req.response_handler = [&](const httplib::Response& res) {
        answer.status = res.status;
        answer.content_type = res.get_header_value("Content-Type");
        return true;
    };
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
        answer.body.append(data, size);
        // The stream stays open: its first event is enough to see its shape.
        return answer.content_type.rfind("text/event-stream", 0) != 0;
    };
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    client.send(req, res, error);
    return answer;
}

class OpenApiTest : public ::testing::Test {
  protected:
    /// `node openapi.mjs ARGS...`; the test fails with what to do when the tool is not installed.
    static test::CommandResult RunTool(std::vector<std::string> args) {
        std::vector<std::string> argv{RAILWATCH_NODE, kTool};
        argv.insert(argv.end(), args.begin(), args.end());
        return test::RunCommand(argv, 120s);
    }
};

TEST_F(OpenApiTest, EveryOperationAnswersWithADocumentedStatusAndSchema) {
    ASSERT_TRUE(std::filesystem::exists(std::string(RAILWATCH_SOURCE_DIR) + "/tools/openapi-validate/node_modules/ajv"))
        << "tools/openapi-validate/node_modules is missing: run make tools";
    const test::CommandResult listed = RunTool({"operations", kSpec});
    ASSERT_TRUE(listed.status.exited && listed.status.code == 0) << listed.output;
    const json operations = json::parse(listed.output, nullptr, false);
    ASSERT_TRUE(operations.is_array()) << listed.output;
    ASSERT_GE(operations.size(), 20u);

    // A simulator with two deployments: one that succeeds and one that fails (so the failed
    // instance has logs, transitions and a notification for its user).
    test::SimProcess sim({"--account-token", kAccountToken, "--time-scale", "600"});
    ASSERT_GT(sim.port(), 0) << sim.Log();
    const auto make_deployment = [&](const std::string& spec) {
        const json ids = json::parse(sim.Post("/_sim/deployments", spec), nullptr, false);
        const std::string id = ids.at("ids").at(0).get<std::string>();
        return json::parse(sim.Get("/_sim/truth?id=" + id), nullptr, false).at("deployments").at(0);
    };
    const json good = make_deployment(R"({"kind":"success"})");
    const json bad = make_deployment(R"({"kind":"deploy_failed","reason":"missing_env"})");

    // A webhook receiver that is gone (410): the failure's webhook row is dead-lettered and its
    // endpoint disabled, so replay and re-enable have something to act on.
    httplib::Server gone;
    gone.Post("/hook", [](const httplib::Request&, httplib::Response& res) { res.status = 410; });
    const int gone_port = gone.bind_to_any_port("127.0.0.1");
    ASSERT_GT(gone_port, 0);
    std::thread gone_thread([&] { gone.listen_after_bind(); });
    struct StopOnExit {
        httplib::Server& server;
        std::thread& thread;
        ~StopOnExit() {
            server.stop();
            thread.join();
        }
    } stop_gone{gone, gone_thread};

    test::TempDir dir("railwatch-openapi-it-");
    const std::string config = dir.File("railwatch.toml");
    // A budget that never holds a check back (the default plan's 1,000 requests an hour would).
    std::ofstream(config) << "[railway]\nrequests_per_hour = 1000000\nrequests_per_second = 1000\n\n"
                             "[monitor.intervals]\nINITIALIZING = 1\nBUILDING = 1\nDEPLOYING = 1\nSUCCESS = 2\n"
                             "FAILED = 2\nCRASHED = 2\ndefault = 1\n\n[notify.webhook]\nurl = \"http://127.0.0.1:"
                          << gone_port << "/hook\"\n";
    test::ServeOptions options;
    options.db_url = "sqlite:" + dir.File("railwatch.db");
    options.railway_url = sim.GraphqlUrl();
    options.config_file = config;
    options.log_file = dir.File("serve.log");
    options.env = {std::string("RAILWAY_API_TOKEN=") + kAccountToken, std::string("RAILWATCH_API_TOKEN=") + kApiToken,
                   "RAILWATCH_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    test::ServeProcess serve(options);
    ASSERT_TRUE(serve.Start()) << serve.Log();
    const int port = serve.port();

    const auto post = [&](const std::string& target, const json& body) {
        return Send(port, "POST", target, Call{target, body.dump(), {}}, true);
    };
    const Answer user = post("/api/v1/users", {{"email", "ana@example.com"}, {"name", "Ana"}, {"id", "usr_ana"}});
    ASSERT_EQ(user.status, 201) << user.body;
    const auto add_instance = [&](const json& deployment, const char* user_id) {
        json body = {{"serviceId", deployment["serviceId"]},
                     {"environmentId", deployment["environmentId"]},
                     {"deploymentId", deployment["id"]},
                     {"projectName", "checkout"}};
        if (user_id != nullptr) body["userId"] = user_id;
        const Answer added = post("/api/v1/instances", body);
        EXPECT_EQ(added.status, 201) << added.body;
        return json::parse(added.body, nullptr, false).value("id", std::string());
    };
    const std::string good_id = add_instance(good, nullptr);
    const std::string bad_id = add_instance(bad, "usr_ana");
    ASSERT_FALSE(good_id.empty());
    ASSERT_FALSE(bad_id.empty());

    // Wait (generously: the machine may be busy) for the failure to be seen and notified in-app.
    std::string notification_id;
    const auto deadline = std::chrono::steady_clock::now() + 180s;
    while (notification_id.empty() && std::chrono::steady_clock::now() < deadline) {
        const Answer inbox = Send(port, "GET", "", Call{"/api/v1/notifications?userId=usr_ana", {}, {}}, true);
        const json body = json::parse(inbox.body, nullptr, false);
        if (inbox.status == 200 && !body["items"].empty()) notification_id = body["items"][0]["id"].get<std::string>();
        if (notification_id.empty()) std::this_thread::sleep_for(500ms);
    }
    ASSERT_FALSE(notification_id.empty()) << "no notification for the failed deployment within 180 s\n" << serve.Log();
    std::string dead_id, endpoint_key;
    while ((dead_id.empty() || endpoint_key.empty()) && std::chrono::steady_clock::now() < deadline) {
        const Answer dead = Send(port, "GET", "", Call{"/api/v1/deliveries?status=dead", {}, {}}, true);
        const json body = json::parse(dead.body, nullptr, false);
        if (dead.status == 200 && !body["items"].empty()) dead_id = body["items"][0]["id"].get<std::string>();
        if (dead.status == 200 && !body["disabledEndpoints"].empty()) {
            endpoint_key = body["disabledEndpoints"][0]["key"].get<std::string>();
        }
        if (dead_id.empty() || endpoint_key.empty()) std::this_thread::sleep_for(500ms);
    }
    ASSERT_FALSE(dead_id.empty()) << "no dead delivery after the receiver's 410\n" << serve.Log();
    ASSERT_FALSE(endpoint_key.empty()) << "no disabled endpoint after the receiver's 410\n" << serve.Log();

    // The request of every operation, in the order they run (the delete last).
    const std::string good_path = "/api/v1/instances/" + good_id;
    const std::string bad_path = "/api/v1/instances/" + bad_id;
    const std::vector<std::pair<std::string, Call>> plan = {
        {"POST /api/v1/users", {"/api/v1/users", R"({"email":"bo@example.com","plan":"pro"})", {}}},
        {"GET /api/v1/users", {"/api/v1/users", "", {}}},
        {"POST /api/v1/instances",
         {"/api/v1/instances",
          json{{"serviceId", good["serviceId"]}, {"environmentId", good["environmentId"]}, {"checkIntervalSeconds", 30}}
              .dump(),
          {}}},
        {"GET /api/v1/instances",
         {"/api/v1/instances?limit=2&status=FAILED,RUNNING,DEPLOYING,INITIALIZING&q=checkout&count=true", "", {}}},
        {"GET /api/v1/instances/{id}", {bad_path, "", {}}},
        {"PUT /api/v1/instances/{id}/monitoring",
         {good_path + "/monitoring", R"({"enabled":true,"checkIntervalSeconds":5})", {}}},
        {"GET /api/v1/instances/{id}/progress", {bad_path + "/progress", "", {}}},
        {"GET /api/v1/instances/{id}/logs", {bad_path + "/logs?limit=50", "", {}}},
        {"GET /api/v1/instances/{id}/health", {good_path + "/health", "", {}}},
        {"GET /api/v1/instances/{id}/health/checks", {good_path + "/health/checks?limit=10", "", {}}},
        {"GET /api/v1/instances/{id}/events", {bad_path + "/events", "", {}}},
        {"GET /api/v1/instances/{id}/failure", {bad_path + "/failure", "", {}}},
        {"POST /api/v1/instances/{id}/redeploy", {bad_path + "/redeploy", "", {}}},
        {"GET /api/v1/stats", {"/api/v1/stats", "", {}}},
        {"GET /api/v1/stats/history", {"/api/v1/stats/history?stepSeconds=3600", "", {}}},
        {"GET /api/v1/attention", {"/api/v1/attention", "", {}}},
        {"GET /api/v1/notifications", {"/api/v1/notifications?userId=usr_ana&unread=true", "", {}}},
        {"POST /api/v1/notifications/{id}/read", {"/api/v1/notifications/" + notification_id + "/read", "", {}}},
        {"GET /api/v1/deliveries", {"/api/v1/deliveries", "", {}}},
        {"POST /api/v1/deliveries/{id}/replay", {"/api/v1/deliveries/" + dead_id + "/replay", "", {}}},
        {"POST /api/v1/endpoints/{key}/enable", {"/api/v1/endpoints/" + endpoint_key + "/enable", "", {}}},
        {"GET /api/v1/stream", {"/api/v1/stream", "", {{"Last-Event-ID", "0"}}}},
        {"POST /api/v1/hooks/railway",
         {"/api/v1/hooks/railway", json{{"resource", {{"deployment", {{"id", good["id"]}}}}}}.dump(), {}}},
        {"GET /healthz", {"/healthz", "", {}}},
        {"GET /readyz", {"/readyz", "", {}}},
        {"GET /metrics", {"/metrics", "", {}}},
        {"GET /badge/{id}.svg", {"/badge/" + bad_id + ".svg", "", {}}},
        {"DELETE /api/v1/instances/{id}", {good_path, "", {}}},
    };

    std::map<std::string, bool> secured;
    for (const json& op : operations)
        secured[op["method"].get<std::string>() + " " + op["path"].get<std::string>()] = op["secured"].get<bool>();
    std::set<std::string> planned;
    for (const auto& [key, call] : plan) {
        planned.insert(key);
        EXPECT_TRUE(secured.count(key)) << key << " is called here but is not in docs/openapi.yaml";
    }
    for (const auto& [key, is_secured] : secured)
        EXPECT_TRUE(planned.count(key)) << key << " is in docs/openapi.yaml: add a call for it to this test";

    std::vector<Answer> answers;
    int checked_401 = 0;
    for (const auto& [key, call] : plan) {
        const std::string method = key.substr(0, key.find(' '));
        const std::string pattern = key.substr(key.find(' ') + 1);
        if (secured.count(key) && secured.at(key)) {
            const Answer denied = Send(port, method, pattern, call, false);
            EXPECT_EQ(denied.status, 401) << key << " without the token: " << denied.body;
            answers.push_back(denied);
            ++checked_401;
        }
        const Answer answer = Send(port, method, pattern, call, true);
        EXPECT_GE(answer.status, 200) << key << ": " << answer.body;
        EXPECT_LT(answer.status, 300) << key << ": " << answer.body;
        EXPECT_FALSE(answer.body.empty()) << key;
        answers.push_back(answer);
    }
    EXPECT_GE(checked_401, 17);

    json recorded = json::array();
    for (const Answer& a : answers) {
        recorded.push_back({{"method", a.method},
                            {"path", a.pattern},
                            {"status", a.status},
                            {"contentType", a.content_type},
                            {"body", a.body}});
    }
    const std::string answers_file = dir.File("answers.json");
    std::ofstream(answers_file) << recorded.dump(1);
    const test::CommandResult checked = RunTool({"check", kSpec, answers_file});
    EXPECT_TRUE(checked.status.exited && checked.status.code == 0) << checked.output;
    std::cout << checked.output;
}

}  // namespace
}  // namespace railwatch
