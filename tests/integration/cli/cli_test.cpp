// The REST client subcommands as a user runs them: the real binary (RAILWATCH_BINARY) against a
// real `railwatch serve` that follows deployments in a real `railwatch sim`, on loopback with an
// API token; on pipes and on a pseudo-terminal, checking exit codes and what they print.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/pty.hpp"
#include "support/ready_line.hpp"
#include "support/serve_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kApiToken = "it-cli-api-token-0123456789";
constexpr const char* kUserId = "usr_cli_it";

// Short check intervals so the engine sees each phase (and stores its log lines) of a deployment
// the simulator runs 6 times faster than Railway would.
constexpr const char* kConfig = R"(
[railway]
requests_per_hour = 10000
[monitor.intervals]
INITIALIZING = 1
BUILDING = 1
DEPLOYING = 1
SUCCESS = 2
FAILED = 2
CRASHED = 2
default = 1
)";

/// A loopback port nothing listens on (bound by the OS, then released).
int ClosedPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        return 0;
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/// Polls `done` every 200 ms for at most `timeout` (real time; generous, the machine may be busy).
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = 90s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

class CliTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimProcess({"--time-scale", "6"});
        ASSERT_GT(sim_->port(), 0) << sim_->Log();
        // Started now so that it has failed by the time a test adds it (a failing deployment takes
        // about a minute at this time scale).
        failed_deployment_ = new json(SimDeployment("deploy_failed"));
        dir_ = new test::TempDir("railwatch-cli-it-");
        {
            std::ofstream config(dir_->File("railwatch.toml"));
            config << kConfig;
        }
        test::ServeOptions options;
        options.db_url = "sqlite:" + dir_->File("railwatch.db");
        options.railway_url = sim_->GraphqlUrl();
        options.config_file = dir_->File("railwatch.toml");
        options.log_file = dir_->File("serve.log");
        options.env = {"RAILWAY_API_TOKEN=sim-account-token", std::string("RAILWATCH_API_TOKEN=") + kApiToken};
        serve_ = new test::ServeProcess(options);
        ASSERT_TRUE(serve_->Start()) << serve_->Log();

        // A notification recipient, created over the API itself (the CLI has no user command).
        httplib::Client http("127.0.0.1", serve_->port());
        http.set_read_timeout(30, 0);
        auto created =
            http.Post("/api/v1/users", {{"Authorization", std::string("Bearer ") + kApiToken}},
                      json{{"id", kUserId}, {"email", "ana@example.com"}, {"name", "Ana"}}.dump(), "application/json");
        ASSERT_TRUE(created);
        ASSERT_EQ(created->status, 201) << created->body;
    }
    static void TearDownTestSuite() {
        delete serve_;
        serve_ = nullptr;
        delete dir_;
        dir_ = nullptr;
        delete sim_;
        sim_ = nullptr;
        delete failed_deployment_;
        failed_deployment_ = nullptr;
    }

    static std::string Server() { return "http://127.0.0.1:" + std::to_string(serve_->port()); }

    /// A new deployment of `kind` in the simulator: its truth (id, serviceId, environmentId, ...).
    static json SimDeployment(const std::string& kind) {
        const json created = json::parse(sim_->Post("/_sim/deployments", json{{"kind", kind}}.dump()), nullptr, false);
        const std::string id = created["ids"][0].get<std::string>();
        return json::parse(sim_->Get("/_sim/truth?id=" + id), nullptr, false)["deployments"][0];
    }

    /// Runs `railwatch ARGS...` with exactly the environment `env` on top of PATH (the server's
    /// address and token unless given), on pipes or on a pseudo-terminal.
    static test::TerminalRun Cli(std::vector<std::string> args, std::vector<std::string> env = {}, bool pty = false) {
        std::vector<std::string> argv = {RAILWATCH_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        test::RunOptions options;
        options.env = {"PATH=/usr/bin:/bin", "TERM=xterm"};
        if (env.empty()) env = {"RAILWATCH_SERVER=" + Server(), std::string("RAILWATCH_API_TOKEN=") + kApiToken};
        options.env.insert(options.env.end(), env.begin(), env.end());
        options.timeout = 60s;
        options.columns = 200;
        test::TerminalRun run = pty ? test::RunOnPty(argv, options) : test::RunOnPipes(argv, options);
        EXPECT_FALSE(run.timed_out);
        EXPECT_THAT(run.output + run.error_output, Not(HasSubstr(kApiToken)));
        return run;
    }

    /// Runs `railwatch ARGS... --json` and returns the parsed document (discarded on failure).
    static json CliJson(std::vector<std::string> args) {
        args.push_back("--json");
        const std::string command = fmt::format("railwatch {}", fmt::join(args, " "));
        const auto run = Cli(std::move(args));
        EXPECT_EQ(run.exit_code, 0) << run.output << run.error_output;
        json parsed = json::parse(run.output, nullptr, false);
        // Seen twice in full runs: exit 0 and no JSON — the output lost by the runner, which asked
        // whether the child had exited after a poll that found nothing readable (test::Collect).
        // Say what came back.
        if (parsed.is_discarded()) {
            ADD_FAILURE() << command << ": not JSON (exit " << run.exit_code << ", timed out " << run.timed_out << ", "
                          << run.output.size() << " bytes on stdout)\nstdout: " << run.output
                          << "\nstderr: " << run.error_output;
        }
        return parsed;
    }

    /// `instances add` for `deployment` (its simulator truth); the new instance's JSON.
    static json AddInstance(const json& deployment, const std::string& project) {
        return CliJson({"instances", "add", "--service", deployment["serviceId"].get<std::string>(), "--environment",
                        deployment["environmentId"].get<std::string>(), "--deployment",
                        deployment["id"].get<std::string>(), "--project-name", project, "--user", kUserId});
    }

    static test::SimProcess* sim_;
    static test::TempDir* dir_;
    static test::ServeProcess* serve_;
    static json* failed_deployment_;
};

test::SimProcess* CliTest::sim_ = nullptr;
test::TempDir* CliTest::dir_ = nullptr;
test::ServeProcess* CliTest::serve_ = nullptr;
json* CliTest::failed_deployment_ = nullptr;

TEST_F(CliTest, AddsListsShowsAndRemovesAnInstanceFromASimDeployment) {
    const json deployment = SimDeployment("success");
    const std::string deployment_id = deployment["id"].get<std::string>();
    const auto added = Cli({"instances", "add", "--service", deployment["serviceId"].get<std::string>(),
                            "--environment", deployment["environmentId"].get<std::string>(), "--deployment",
                            deployment_id, "--project-name", "shop-web", "--user", kUserId});
    ASSERT_EQ(added.exit_code, 0) << added.output << added.error_output;
    EXPECT_THAT(added.output, HasSubstr("Project:"));
    EXPECT_THAT(added.output, HasSubstr("shop-web"));
    EXPECT_THAT(added.output, HasSubstr(deployment_id));

    // The JSON list is the API's: every instance on one document, this one among them.
    const json list = CliJson({"instances", "list"});
    ASSERT_TRUE(list.is_object()) << list;
    ASSERT_TRUE(list["items"].is_array());
    EXPECT_TRUE(list["nextCursor"].is_null());
    std::string id;
    for (const json& item : list["items"]) {
        if (item["deploymentId"] == deployment_id) id = item["id"].get<std::string>();
    }
    ASSERT_FALSE(id.empty()) << list.dump(2);

    // It reaches RUNNING in the engine; --status filters on the server.
    ASSERT_TRUE(Eventually([&] {
        return CliJson({"instances", "show", id})["status"] == "RUNNING";
    })) << Cli({"instances", "show", id}).output;
    const json running = CliJson({"instances", "list", "--status", "running"});
    ASSERT_TRUE(running["items"].is_array());
    bool listed = false;
    for (const json& item : running["items"]) {
        EXPECT_EQ(item["status"], "RUNNING");
        listed = listed || item["id"] == id;
    }
    EXPECT_TRUE(listed);

    // On a terminal: an aligned table with the kubectl-like columns.
    const auto table = Cli({"instances", "list"}, {}, /*pty=*/true);
    ASSERT_EQ(table.exit_code, 0) << table.output;
    EXPECT_THAT(table.output, HasSubstr("ID"));
    EXPECT_THAT(table.output, HasSubstr("DEPLOYMENT STATUS"));
    EXPECT_THAT(table.output, HasSubstr("PROGRESS"));
    EXPECT_THAT(table.output, HasSubstr(id));
    EXPECT_THAT(table.output, HasSubstr("SUCCESS"));
    EXPECT_THAT(table.output, Not(HasSubstr("\t")));

    const auto shown = Cli({"instances", "show", id});
    ASSERT_EQ(shown.exit_code, 0) << shown.error_output;
    EXPECT_THAT(shown.output, HasSubstr("Status:"));
    EXPECT_THAT(shown.output, HasSubstr("RUNNING"));
    EXPECT_THAT(shown.output, HasSubstr(deployment_id));

    const json health = CliJson({"health", id});
    EXPECT_EQ(health["instanceId"], id);
    EXPECT_TRUE(health["reasons"].is_array());
    const auto health_text = Cli({"health", id});
    EXPECT_EQ(health_text.exit_code, 0);
    EXPECT_THAT(health_text.output, HasSubstr("Health:"));

    // The engine stored the build lines it saw while the deployment was in progress.
    json logs;
    ASSERT_TRUE(Eventually([&] {
        logs = CliJson({"logs", id, "--limit", "5"});
        return logs["items"].is_array() && !logs["items"].empty();
    })) << logs.dump(2);
    EXPECT_LE(logs["items"].size(), 5u);
    EXPECT_EQ(logs["instanceId"], id);
    // The text shows what the JSON does. Each read makes serve fetch newer lines (the running
    // deployment's output), which come after the ones stored: the oldest line is in both reads.
    const json all = CliJson({"logs", id, "--limit", "1000"});
    ASSERT_FALSE(all["items"].empty()) << all.dump(2);
    const std::string first_message = all["items"][0]["message"].get<std::string>();
    const auto logs_text = Cli({"logs", id, "--limit", "1000"});
    EXPECT_EQ(logs_text.exit_code, 0);
    EXPECT_THAT(logs_text.output, HasSubstr(first_message));

    const auto removed = Cli({"instances", "rm", id});
    ASSERT_EQ(removed.exit_code, 0) << removed.error_output;
    EXPECT_THAT(removed.output, HasSubstr("no longer monitored"));
    EXPECT_EQ(CliJson({"instances", "show", id})["status"], "DELETED");
    const json after = CliJson({"instances", "list"});
    for (const json& item : after["items"])
        EXPECT_NE(item["id"], id);
}

TEST_F(CliTest, StatsAttentionAndNotificationsAnswerWithTheApisDocuments) {
    const json failed = AddInstance(*failed_deployment_, "shop-api");
    ASSERT_TRUE(failed.is_object());
    const std::string id = failed["id"].get<std::string>();
    ASSERT_TRUE(Eventually([&] { return CliJson({"instances", "show", id})["status"] == "FAILED"; }));

    const json stats = CliJson({"stats"});
    ASSERT_TRUE(stats.is_object());
    EXPECT_GE(stats["totalInstances"].get<int>(), 1);
    EXPECT_GE(stats["failedInstances"].get<int>(), 1);
    const auto stats_text = Cli({"stats"});
    EXPECT_EQ(stats_text.exit_code, 0);
    EXPECT_THAT(stats_text.output, HasSubstr("Failed:"));
    EXPECT_THAT(stats_text.output, HasSubstr("Error rate:"));

    const json attention = CliJson({"attention"});
    ASSERT_TRUE(attention["items"].is_array()) << attention;
    const auto attention_text = Cli({"attention"});
    EXPECT_EQ(attention_text.exit_code, 0);
    if (attention["items"].empty()) {
        EXPECT_THAT(attention_text.output, HasSubstr("Nothing needs attention."));
    } else {
        EXPECT_THAT(attention_text.output, HasSubstr("REASON"));
    }

    // Its verdict on a terminal: the line that decided it and the next step, after the error
    // (from GET …/failure; --json stays the instance as the API sends it).
    ASSERT_TRUE(Eventually([&] { return CliJson({"instances", "show", id})["errorType"].is_string(); }));
    const auto shown = Cli({"instances", "show", id});
    ASSERT_EQ(shown.exit_code, 0) << shown.error_output;
    EXPECT_THAT(shown.output, ::testing::ContainsRegex("\nDeciding line: +\\[(build|deploy)\\] [^\n]+\n"));
    EXPECT_THAT(shown.output, ::testing::ContainsRegex("\nNext step: +[A-Z][^\n]+\n"));
    // The step list the dashboard draws, on one line.
    EXPECT_THAT(shown.output, ::testing::ContainsRegex("\nSteps: +Queued[^\n]* → [^\n]*\\(failed[^\n]*\n"));
    EXPECT_FALSE(CliJson({"instances", "show", id}).contains("failure"));

    const json flagged = CliJson({"instances", "list", "--attention"});
    ASSERT_TRUE(flagged["items"].is_array()) << flagged;
    for (const json& item : flagged["items"])
        EXPECT_EQ(item["needsAttention"], true) << item.dump();

    const json notifications = CliJson({"notifications", "--user", kUserId});
    ASSERT_TRUE(notifications["items"].is_array()) << notifications;
    EXPECT_TRUE(notifications["unreadCount"].is_number());
    for (const json& n : notifications["items"])
        EXPECT_EQ(n["userId"], kUserId);
    const auto notifications_text = Cli({"notifications", "--user", kUserId});
    EXPECT_EQ(notifications_text.exit_code, 0);
    EXPECT_THAT(notifications_text.output, ::testing::AnyOf(HasSubstr("unread."), HasSubstr("No notifications.")));
}

// Monitoring turned off and on, an instance's own interval set and removed, and a redeploy the
// instance then follows: the same routes the dashboard's buttons call.
TEST_F(CliTest, TurnsMonitoringOffAndOnSetsTheIntervalAndRedeploys) {
    const json deployment = SimDeployment("build_failed");
    const json added = CliJson({"instances", "add", "--service", deployment["serviceId"].get<std::string>(),
                                "--environment", deployment["environmentId"].get<std::string>(), "--deployment",
                                deployment["id"].get<std::string>(), "--interval", "20"});
    ASSERT_TRUE(added.is_object()) << added;
    EXPECT_EQ(added["checkIntervalSeconds"], 20);
    const std::string id = added["id"].get<std::string>();

    const auto off = Cli({"instances", "monitoring", id, "off"});
    ASSERT_EQ(off.exit_code, 0) << off.error_output;
    EXPECT_THAT(off.output, ::testing::ContainsRegex("\nMonitoring: +no\n"));
    EXPECT_THAT(off.output, ::testing::ContainsRegex("\nCheck interval: +20s\n"));  // left as it was
    EXPECT_THAT(off.output, ::testing::ContainsRegex("\nChecked every: +-\n"));     // not checked at all
    const auto on = Cli({"instances", "monitoring", id, "ON", "--interval", "45"});
    EXPECT_THAT(on.output, ::testing::ContainsRegex("\nCheck interval: +45s\n"));
    EXPECT_THAT(on.output, ::testing::ContainsRegex("\nChecked every: +45s\n"));  // the server's budget is ample
    const json per_status = CliJson({"instances", "monitoring", id, "on", "--per-status"});
    EXPECT_EQ(per_status["monitoring"], true);
    EXPECT_TRUE(per_status["checkIntervalSeconds"].is_null()) << per_status;
    EXPECT_THAT(Cli({"instances", "show", id}).output,
                ::testing::ContainsRegex("\nCheck interval: +per status \\(the server's \\[monitor.intervals\\]\\)\n"));

    ASSERT_TRUE(Eventually([&] { return CliJson({"instances", "show", id})["status"] == "FAILED"; }));
    const auto redeploy = Cli({"instances", "redeploy", id});
    ASSERT_EQ(redeploy.exit_code, 0) << redeploy.error_output;
    EXPECT_THAT(redeploy.output, HasSubstr("Redeploy of " + id + " requested at "));
    // The instance follows the deployment Railway started.
    ASSERT_TRUE(Eventually([&] { return CliJson({"instances", "show", id})["deploymentId"] != deployment["id"]; }));
}

TEST_F(CliTest, AnUnknownInstanceSaysSoAndExitsOne) {
    for (std::vector<std::string> args : {std::vector<std::string>{"instances", "show", "ins_nope"},
                                          {"instances", "rm", "ins_nope"},
                                          {"instances", "monitoring", "ins_nope", "on"},
                                          {"instances", "redeploy", "ins_nope"},
                                          {"health", "ins_nope"},
                                          {"logs", "ins_nope"}}) {
        const auto run = Cli(args);
        EXPECT_EQ(run.exit_code, 1) << args[0];
        EXPECT_THAT(run.error_output, HasSubstr("no instance ins_nope; see `railwatch instances list`"));
    }
}

TEST_F(CliTest, WithoutTheTokenItSaysToSetRailwatchApiTokenAndExitsThree) {
    const auto missing = Cli({"instances", "list"}, {"RAILWATCH_SERVER=" + Server()});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_THAT(missing.error_output, HasSubstr("RAILWATCH_API_TOKEN is not set"));
    EXPECT_EQ(missing.output, "");

    const auto wrong = Cli({"stats", "--json"}, {"RAILWATCH_SERVER=" + Server(), "RAILWATCH_API_TOKEN=not-the-token"});
    EXPECT_EQ(wrong.exit_code, 3);
    EXPECT_THAT(wrong.error_output, HasSubstr("set RAILWATCH_API_TOKEN"));
    EXPECT_THAT(wrong.error_output, Not(HasSubstr("not-the-token")));
}

TEST_F(CliTest, AnUnreachableServerSaysToStartServeAndExitsThree) {
    const int port = ClosedPort();
    ASSERT_GT(port, 0);
    const std::string address = "http://127.0.0.1:" + std::to_string(port);
    const auto run = Cli({"stats"}, {"RAILWATCH_SERVER=" + address, std::string("RAILWATCH_API_TOKEN=") + kApiToken});
    EXPECT_EQ(run.exit_code, 3);
    EXPECT_THAT(run.error_output, HasSubstr("cannot reach the railwatch server at " + address));
    EXPECT_THAT(run.error_output, HasSubstr("is `railwatch serve` running? set RAILWATCH_SERVER"));

    // --server wins over RAILWATCH_SERVER.
    const auto flag = Cli({"stats", "--server", Server()},
                          {"RAILWATCH_SERVER=" + address, std::string("RAILWATCH_API_TOKEN=") + kApiToken});
    EXPECT_EQ(flag.exit_code, 0) << flag.error_output;
}

TEST_F(CliTest, UsageErrorsExitSixtyFour) {
    EXPECT_EQ(Cli({"instances"}).exit_code, 64);
    EXPECT_EQ(Cli({"instances", "add", "--service", "svc"}).exit_code, 64);  // --environment missing
    EXPECT_EQ(Cli({"instances", "list", "--status", "SLEEPY"}).exit_code, 64);
    EXPECT_EQ(Cli({"logs", "ins_1", "--limit", "0"}).exit_code, 64);
    EXPECT_EQ(Cli({"instances", "monitoring", "ins_1", "maybe"}).exit_code, 64);
    EXPECT_EQ(Cli({"instances", "monitoring", "ins_1", "on", "--interval", "5", "--per-status"}).exit_code, 64);
    EXPECT_EQ(Cli({"instances", "add", "--service", "s", "--environment", "e", "--interval", "0"}).exit_code, 64);
    const auto bad_server = Cli({"stats"}, {"RAILWATCH_SERVER=127.0.0.1:8080"});
    EXPECT_EQ(bad_server.exit_code, 64);
    EXPECT_THAT(bad_server.error_output, HasSubstr("RAILWATCH_SERVER is not an http:// or https:// URL"));
}

TEST_F(CliTest, LogsFollowPrintsLinesAsTheyArriveAndStopsCleanlyOnSigterm) {
    const json instance = AddInstance(SimDeployment("success"), "shop-worker");
    ASSERT_TRUE(instance.is_object());
    const std::string id = instance["id"].get<std::string>();

    // Started right away, before the engine stored anything: every line it prints arrived later.
    const std::string out = dir_->File("follow-" + id + ".log");
    test::ChildProcess follow = test::ChildProcess::Spawn(
        {"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "RAILWATCH_SERVER=" + Server(),
         std::string("RAILWATCH_API_TOKEN=") + kApiToken, RAILWATCH_BINARY, "logs", id, "--follow"},
        out);
    const bool printed = Eventually([&] { return test::ReadWholeFile(out).find("  build  ") != std::string::npos; });
    follow.Signal(SIGTERM);
    const test::ExitStatus status = follow.Wait(30s);
    const std::string text = test::ReadWholeFile(out);
    ASSERT_TRUE(printed) << text;
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << text;
    EXPECT_THAT(text, Not(HasSubstr(kApiToken)));
}

TEST_F(CliTest, LogsFollowWithJsonPrintsOneObjectPerLineAndStopsOnCtrlC) {
    const json instance = AddInstance(SimDeployment("success"), "shop-cron");
    ASSERT_TRUE(instance.is_object());
    const std::string id = instance["id"].get<std::string>();
    const std::vector<std::string> argv = {RAILWATCH_BINARY, "logs", id, "--follow", "--json"};
    test::RunOptions options;
    options.env = {"PATH=/usr/bin:/bin", "TERM=xterm", "RAILWATCH_SERVER=" + Server(),
                   std::string("RAILWATCH_API_TOKEN=") + kApiToken};
    options.timeout = 120s;
    options.interrupt_after = "\"timestamp\"";
    const test::TerminalRun run = test::RunOnPipes(argv, options);
    EXPECT_FALSE(run.timed_out);
    EXPECT_TRUE(run.interrupted) << run.output << run.error_output;
    EXPECT_EQ(run.exit_code, 0) << run.error_output;
    std::istringstream lines(run.output);
    int parsed = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const json object = json::parse(line, nullptr, false);
        ASSERT_TRUE(object.is_object()) << line;
        EXPECT_EQ(object["instanceId"], id);
        EXPECT_TRUE(object["message"].is_string());
        ++parsed;
    }
    EXPECT_GE(parsed, 1);
}

}  // namespace
}  // namespace railwatch
