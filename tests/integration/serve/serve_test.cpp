#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/sim_process.hpp"
#include "support/sse_clients.hpp"
#include "support/temp_dir.hpp"

// `railwatch serve` as a user runs it: the real binary on port 0 with a real SQLite file, driven
// over real HTTP on loopback, stopped with SIGTERM.
namespace railwatch {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kApiToken = "it-serve-api-token-0123456789";

/// A `railwatch serve` process, ready once it printed its listening line.
class ServeProcess {
  public:
    /// `db`: the store URL; empty: a fresh SQLite file in the process's own directory.
    explicit ServeProcess(std::vector<std::string> args, bool wait_ready = true, std::string db = {})
        : dir_("railwatch-serve-it-") {
        if (db.empty()) db = "sqlite:" + dir_.File("railwatch.db");
        std::vector<std::string> argv{RAILWATCH_BINARY, "serve", "--db", db};
        argv.insert(argv.end(), args.begin(), args.end());
        log_ = dir_.File("serve.log");
        child_ = std::make_unique<test::ChildProcess>(test::ChildProcess::Spawn(argv, log_));
        if (!wait_ready) return;
        const std::regex ready("(^|\n)railwatch listening on http://127\\.0\\.0\\.1:([0-9]+)\n");
        // Generous: the machine may be busy with other builds.
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
            std::smatch m;
            const std::string text = Log();
            if (std::regex_search(text, m, ready)) {
                port_ = std::stoi(m[2]);
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    ~ServeProcess() {
        if (child_ && child_->running()) {
            child_->Signal(SIGKILL);
            (void)child_->Wait(10s);
        }
    }

    int port() const { return port_; }
    test::ChildProcess& child() { return *child_; }
    std::string Log() const {
        std::ifstream in(log_);
        std::stringstream buffer;
        buffer << in.rdbuf();
        return buffer.str();
    }

  private:
    test::TempDir dir_;
    std::string log_;
    std::unique_ptr<test::ChildProcess> child_;
    int port_ = 0;
};

httplib::Headers Auth() {
    return {{"Authorization", std::string("Bearer ") + kApiToken}};
}

class ServeTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // The engine follows deployments in a real simulator on loopback, never Railway itself.
        sim_ = new test::SimProcess({"--time-scale", "600"});
        ASSERT_GT(sim_->port(), 0) << sim_->Log();
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }
    /// A new deployment in the simulator: its truth (id, serviceId, environmentId, ...).
    static json SimDeployment() {
        const json created = json::parse(sim_->Post("/_sim/deployments", R"({"kind":"success"})"), nullptr, false);
        const std::string id = created["ids"][0].get<std::string>();
        return json::parse(sim_->Get("/_sim/truth?id=" + id), nullptr, false)["deployments"][0];
    }
    static test::SimProcess* sim_;

    void SetUp() override {
        // The children inherit the environment: the simulator's URL and its default account token.
        ::setenv("RAILWAY_API_URL", sim_->GraphqlUrl().c_str(), 1);
        ::setenv("RAILWAY_API_TOKEN", "sim-account-token", 1);
        ::setenv("RAILWATCH_API_TOKEN", kApiToken, 1);
        ::unsetenv("RAILWATCH_CONFIG");
        ::unsetenv("RAILWATCH_LISTEN");
        ::unsetenv("RAILWATCH_DB");
    }
};

test::SimProcess* ServeTest::sim_ = nullptr;

TEST_F(ServeTest, ServesTheApiStreamAndDashboardOnPortZeroAndStopsCleanlyOnSigterm) {
    const json deployment = SimDeployment();
    const std::string deployment_id = deployment["id"].get<std::string>();
    ServeProcess serve({"--listen", "127.0.0.1:0"});
    ASSERT_NE(serve.port(), 0) << serve.Log();
    httplib::Client client("127.0.0.1", serve.port());
    client.set_read_timeout(30s);

    auto healthz = client.Get("/healthz");
    ASSERT_TRUE(healthz) << serve.Log();
    EXPECT_EQ(healthz->status, 200);
    auto readyz = client.Get("/readyz");
    ASSERT_TRUE(readyz);
    EXPECT_EQ(readyz->status, 200) << readyz->body;

    auto denied = client.Get("/api/v1/stats");
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status, 401);
    EXPECT_EQ(json::parse(denied->body)["error"]["code"], "unauthorized");

    // A live stream, opened before the change it must carry.
    std::atomic<bool> saw_instance{false};
    std::string streamed;
    std::thread reader([&] {
        httplib::Client sse("127.0.0.1", serve.port());
        sse.set_read_timeout(60s);
        sse.Get("/api/v1/stream", Auth(), [&](const char* data, size_t size) {
            streamed.append(data, size);
            if (streamed.find("event: instance") != std::string::npos) {
                saw_instance = true;
                return false;
            }
            return true;
        });
    });
    std::this_thread::sleep_for(300ms);

    auto user = client.Post("/api/v1/users", Auth(), R"({"email":"ana@example.com","name":"Ana","id":"usr_ana"})",
                            "application/json");
    ASSERT_TRUE(user);
    EXPECT_EQ(user->status, 201) << user->body;
    auto added = client.Post("/api/v1/instances", Auth(),
                             json{{"serviceId", deployment["serviceId"]},
                                  {"environmentId", deployment["environmentId"]},
                                  {"deploymentId", deployment_id},
                                  {"projectName", "checkout"},
                                  {"userId", "usr_ana"}}
                                 .dump(),
                             "application/json");
    ASSERT_TRUE(added);
    ASSERT_EQ(added->status, 201) << added->body;
    const std::string id = json::parse(added->body)["id"];

    auto list = client.Get("/api/v1/instances?limit=10", Auth());
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200);
    ASSERT_EQ(json::parse(list->body)["items"].size(), 1u);
    EXPECT_EQ(json::parse(list->body)["items"][0]["id"], id);
    auto one = client.Get("/api/v1/instances/" + id, Auth());
    ASSERT_TRUE(one);
    EXPECT_EQ(json::parse(one->body)["userId"], "usr_ana");
    // The interval the engine checks it at: its status's, as /stats quotes it (nothing is stretched
    // here). /stats first: it quotes every status, whichever the instance shows next.
    json checked;
    json quoted;
    for (int i = 0; i < 150; ++i) {
        auto stats = client.Get("/api/v1/stats", Auth());
        auto got = client.Get("/api/v1/instances/" + id, Auth());
        ASSERT_TRUE(stats && got);
        quoted = json::parse(stats->body)["capacity"]["effectiveIntervalSeconds"];
        checked = json::parse(got->body);
        if (checked["deploymentStatus"].is_string()) break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(checked["deploymentStatus"].is_string()) << checked.dump();
    EXPECT_EQ(checked["effectiveIntervalSeconds"], quoted[checked["deploymentStatus"].get<std::string>()])
        << checked.dump() << "\n"
        << quoted.dump();
    auto missing = client.Get("/api/v1/instances/ins_missing", Auth());
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    auto too_big =
        client.Post("/api/v1/instances", Auth(), std::string(std::size_t{2} * 1024 * 1024, 'x'), "application/json");
    ASSERT_TRUE(too_big);
    EXPECT_EQ(too_big->status, 413);
    auto hook = client.Post("/api/v1/hooks/railway",
                            json{{"resource", {{"deployment", {{"id", deployment_id}}}}}}.dump(), "application/json");
    ASSERT_TRUE(hook);
    EXPECT_EQ(hook->status, 202) << hook->body;
    EXPECT_EQ(json::parse(hook->body)["woken"], 1);

    auto page = client.Get("/instances/" + id, {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("<html"), std::string::npos);  // httplib decompresses once
    EXPECT_FALSE(page->get_header_value("Content-Security-Policy").empty());
    // The engine's families: the instance added above is checked at once and counted.
    auto metrics = client.Get("/metrics");
    for (int i = 0; i < 150 && metrics && metrics->body.find("railwatch_checks_total 0") != std::string::npos; ++i) {
        std::this_thread::sleep_for(200ms);
        metrics = client.Get("/metrics");
    }
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->body.find("railwatch_checks_total 0"), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_checks_total "), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_check_request_seconds_count "), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_instances{deployment_status=\""), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_engine_capacity{measure=\"monitored\"} 1"), std::string::npos)
        << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_api_requests_total{route=\"/api/v1/instances\",code=\"201\"} 1"),
              std::string::npos)
        << metrics->body;
    // Probes are on by default: their transport's counts are there (zero or more), and what it holds.
    EXPECT_NE(metrics->body.find("railwatch_probe_transport_total{event=\"connect\"} "), std::string::npos)
        << metrics->body;
    EXPECT_NE(metrics->body.find("railwatch_probe_transport_held{kind=\"host\"} "), std::string::npos) << metrics->body;

    // promtool (Debian `prometheus`, installed by scripts/install-deps.sh) is the judge of the format.
    {
        test::TempDir scratch("railwatch-metrics-");
        const std::string file = scratch.File("metrics.txt");
        std::ofstream(file) << metrics->body;
        const test::CommandResult checked = test::RunCommand({"sh", "-c", "promtool check metrics < " + file});
        EXPECT_TRUE(checked.status.Ok()) << checked.output;
    }

    reader.join();
    EXPECT_TRUE(saw_instance) << streamed;
    EXPECT_NE(streamed.find(id), std::string::npos);
    // Its instance event says the interval too (a number: the instance is monitored).
    const std::size_t interval_at = streamed.find("\"effectiveIntervalSeconds\":");
    ASSERT_NE(interval_at, std::string::npos) << streamed;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(streamed[interval_at + 27]))) << streamed;

    // A stream still open at shutdown must not hold the process.
    std::thread holder([&] {
        httplib::Client sse("127.0.0.1", serve.port());
        sse.set_read_timeout(60s);
        sse.Get("/api/v1/stream", Auth(), [](const char*, size_t) { return true; });
    });
    std::this_thread::sleep_for(300ms);
    serve.child().Signal(SIGTERM);
    const test::ExitStatus status = serve.child().Wait(30s);
    holder.join();
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << serve.Log();
    EXPECT_NE(serve.Log().find("api server stopped"), std::string::npos) << serve.Log();
}

TEST_F(ServeTest, KeepsWhatWasAddedAcrossARestart) {
    test::TempDir dir("railwatch-serve-db-");
    const std::string db = "sqlite:" + dir.File("keep.db");
    std::string id;
    const json deployment = SimDeployment();
    {
        ServeProcess serve({"--listen", "127.0.0.1:0"}, true, db);
        ASSERT_NE(serve.port(), 0) << serve.Log();
        httplib::Client client("127.0.0.1", serve.port());
        // No deployment id: the engine finds the service's latest deployment.
        auto added = client.Post(
            "/api/v1/instances", Auth(),
            json{{"serviceId", deployment["serviceId"]}, {"environmentId", deployment["environmentId"]}}.dump(),
            "application/json");
        ASSERT_TRUE(added);
        ASSERT_EQ(added->status, 201) << added->body;
        EXPECT_EQ(json::parse(added->body)["deploymentId"], deployment["id"]);
        id = json::parse(added->body)["id"];
        serve.child().Signal(SIGINT);
        EXPECT_TRUE(serve.child().Wait(30s).Ok()) << serve.Log();
    }
    ServeProcess again({"--listen", "127.0.0.1:0"}, true, db);
    ASSERT_NE(again.port(), 0) << again.Log();
    httplib::Client client("127.0.0.1", again.port());
    auto one = client.Get("/api/v1/instances/" + id, Auth());
    ASSERT_TRUE(one);
    EXPECT_EQ(one->status, 200) << one->body;
}

/// `t` as RFC 3339 in UTC, whole seconds.
std::string Rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

/// The sum of `field` over every point of a /stats/history answer.
long long SumOf(const json& history, const char* field) {
    long long sum = 0;
    for (const json& p : history["points"])
        sum += p[field].get<long long>();
    return sum;
}

// GET /stats/history on the real thing: deployments that finish show in the timeline's figures
// at once; the engine's checks and Railway requests are written once a minute and at a clean
// shutdown, so after a SIGINT and a restart on the same file they are there too, with /stats's
// budget. Windows of a day starting a minute before the test: normally one bucket, the current
// one (two when the test runs across midnight UTC), so the figures are summed over the points.
TEST_F(ServeTest, StatsHistoryShowsFinishedDeploymentsChecksAndRequestsAlsoAfterARestart) {
    test::TempDir dir("railwatch-serve-history-");
    const std::string db = "sqlite:" + dir.File("history.db");
    const std::string since = Rfc3339(std::chrono::system_clock::now() - 60s);
    const std::string history_path = "/api/v1/stats/history?stepSeconds=86400&since=" + since;
    {
        ServeProcess serve({"--listen", "127.0.0.1:0"}, true, db);
        ASSERT_NE(serve.port(), 0) << serve.Log();
        httplib::Client client("127.0.0.1", serve.port());
        client.set_read_timeout(30s);
        for (int i = 0; i < 3; ++i) {
            const json deployment = SimDeployment();
            auto added = client.Post("/api/v1/instances", Auth(),
                                     json{{"serviceId", deployment["serviceId"]},
                                          {"environmentId", deployment["environmentId"]},
                                          {"deploymentId", deployment["id"]},
                                          {"checkIntervalSeconds", 1}}
                                         .dump(),
                                     "application/json");
            ASSERT_TRUE(added);
            ASSERT_EQ(added->status, 201) << added->body;
        }
        // Generous: the machine may be busy; the simulator runs 600 times faster than Railway.
        json history;
        const auto deadline = std::chrono::steady_clock::now() + 180s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto res = client.Get(history_path, Auth());
            ASSERT_TRUE(res);
            ASSERT_EQ(res->status, 200) << res->body;
            history = json::parse(res->body);
            if (SumOf(history, "finished") >= 1) break;
            std::this_thread::sleep_for(500ms);
        }
        ASSERT_GE(SumOf(history, "finished"), 1) << history.dump() << "\n" << serve.Log();
        EXPECT_EQ(history["stepSeconds"], 86400);
        EXPECT_EQ(history["since"].get<std::string>().substr(0, 19), since.substr(0, 19));
        const json& last = history["points"].back();
        EXPECT_TRUE(last["durationP50Seconds"].is_number()) << history.dump();

        auto stats = client.Get("/api/v1/stats", Auth());
        ASSERT_TRUE(stats);
        const json budget = json::parse(stats->body)["budget"];
        ASSERT_TRUE(budget.is_object()) << stats->body;
        EXPECT_GT(budget["limitPerHour"].get<long long>(), 0);
        EXPECT_GT(budget["usedLastHour"].get<long long>(), 0);
        EXPECT_TRUE(stats->body.find("\"incident\":null") != std::string::npos) << stats->body;

        serve.child().Signal(SIGINT);
        EXPECT_TRUE(serve.child().Wait(30s).Ok()) << serve.Log();
    }
    ServeProcess again({"--listen", "127.0.0.1:0"}, true, db);
    ASSERT_NE(again.port(), 0) << again.Log();
    httplib::Client client("127.0.0.1", again.port());
    auto res = client.Get(history_path, Auth());
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json history = json::parse(res->body);
    EXPECT_GE(SumOf(history, "finished"), 1) << history.dump();
    EXPECT_GT(SumOf(history, "checks"), 0) << history.dump() << "\n" << again.Log();
    EXPECT_GT(SumOf(history, "apiRequests"), 0) << history.dump();
    bool budget_seen = false;
    for (const json& p : history["points"])
        budget_seen = budget_seen || p["budgetRemaining"].is_number();
    EXPECT_TRUE(budget_seen) << history.dump();
}

// The regression guard of the stream load run (docs/PERFORMANCE.md): with [server] max_streams
// raised, 200 streams are all served at once, one more is refused, and /metrics and the API still
// answer because the streams cannot take the other HTTP threads. No timings: only "answers".
TEST_F(ServeTest, ServesTwoHundredStreamsWithMaxStreamsRaisedRefusesOneMoreAndStillAnswersMetrics) {
    test::TempDir dir("railwatch-serve-streams-");
    const std::string config = dir.File("streams.toml");
    std::ofstream(config) << "[server]\nmax_streams = 200\nhttp_workers = 8\n";
    ServeProcess serve({"--listen", "127.0.0.1:0", "--config", config});
    ASSERT_NE(serve.port(), 0) << serve.Log();
    constexpr int kStreams = 200;

    test::SseClients streams({.port = serve.port(), .api_token = kApiToken, .clients = kStreams});
    ASSERT_TRUE(streams.Start());
    const auto all = [&](auto predicate) {
        const auto states = streams.Snapshot();
        return static_cast<int>(states.size()) == kStreams && std::all_of(states.begin(), states.end(), predicate);
    };
    // Generous: the machine may be busy with other builds.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!all([](const test::SseClientState& s) { return s.status != 0; }) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(all([](const test::SseClientState& s) { return s.status == 200 && !s.closed; })) << serve.Log();

    test::SseClients one_more({.port = serve.port(), .api_token = kApiToken, .clients = 1});
    ASSERT_TRUE(one_more.Start());
    deadline = std::chrono::steady_clock::now() + 60s;
    while (one_more.Snapshot().at(0).status == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    EXPECT_EQ(one_more.Snapshot().at(0).status, 503);

    for (int n = 0; n < 5; ++n) {
        httplib::Client client("127.0.0.1", serve.port());
        client.set_read_timeout(30s);
        auto metrics = client.Get("/metrics");
        ASSERT_TRUE(metrics) << "no answer from /metrics with " << kStreams << " streams open";
        EXPECT_EQ(metrics->status, 200);
    }

    // An event reaches every stream.
    const json deployment = SimDeployment();
    httplib::Client client("127.0.0.1", serve.port());
    client.set_read_timeout(30s);
    auto added =
        client.Post("/api/v1/instances", Auth(),
                    json{{"serviceId", deployment["serviceId"]}, {"environmentId", deployment["environmentId"]}}.dump(),
                    "application/json");
    ASSERT_TRUE(added);
    ASSERT_EQ(added->status, 201) << added->body;
    deadline = std::chrono::steady_clock::now() + 60s;
    while (!all([](const test::SseClientState& s) { return s.events > 0; }) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(all([](const test::SseClientState& s) { return s.events > 0 && !s.closed; }));

    // 200 open streams do not hold the shutdown.
    serve.child().Signal(SIGTERM);
    const test::ExitStatus status = serve.child().Wait(30s);
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << serve.Log();
}

// The environment a process started with (/proc/PID/environ): NAME=value entries.
std::vector<std::string> EnvironmentOf(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::vector<std::string> out;
    for (std::string entry; std::getline(in, entry, '\0');)
        out.push_back(entry);
    return out;
}

std::string GlibcTunablesOf(pid_t pid) {
    for (const std::string& entry : EnvironmentOf(pid))
        if (entry.rfind("GLIBC_TUNABLES=", 0) == 0) return entry.substr(std::string("GLIBC_TUNABLES=").size());
    return "(unset)";
}

// Serve restarts itself (the same process, ready on its port) with malloc on transparent huge
// pages where the kernel gives them, and leaves a user's own choice alone.
TEST_F(ServeTest, RunsMallocOnTransparentHugePagesUnlessTheUserChose) {
    std::string thp;
    std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), thp);
    const bool kernel_gives = thp.find("[always]") != std::string::npos || thp.find("[madvise]") != std::string::npos;
    ::unsetenv("GLIBC_TUNABLES");
    {
        ServeProcess serve({"--listen", "127.0.0.1:0"});
        ASSERT_NE(serve.port(), 0) << serve.Log();
        const std::string tunables = GlibcTunablesOf(serve.child().pid());
        if (kernel_gives) {
            EXPECT_NE(tunables.find("glibc.malloc.hugetlb=1"), std::string::npos) << tunables;
        } else {
            EXPECT_EQ(tunables, "(unset)") << "transparent huge pages: " << thp;
        }
    }
    ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
    ServeProcess serve({"--listen", "127.0.0.1:0"});
    ::unsetenv("GLIBC_TUNABLES");
    ASSERT_NE(serve.port(), 0) << serve.Log();
    EXPECT_EQ(GlibcTunablesOf(serve.child().pid()), "glibc.malloc.hugetlb=0");
}

TEST_F(ServeTest, RefusesANonLoopbackAddressWithoutAnApiToken) {
    ::unsetenv("RAILWATCH_API_TOKEN");
    ServeProcess serve({"--listen", "0.0.0.0:0"}, false);
    const test::ExitStatus status = serve.child().Wait(30s);
    EXPECT_TRUE(status.exited) << status.Describe();
    EXPECT_EQ(status.code, 78) << serve.Log();
    EXPECT_NE(serve.Log().find("refusing to listen on 0.0.0.0:0 without an API token"), std::string::npos)
        << serve.Log();
    EXPECT_EQ(serve.Log().find("railwatch listening"), std::string::npos);
}

// Health probes go through the proxy the environment names (as Railway's requests do, through
// libcurl); serve says so at start without the proxy's credentials, and refuses to start with a
// proxy the probes cannot use, naming the variable and not its value.
TEST_F(ServeTest, HealthProbesTakeTheEnvironmentsProxyAndAnUnusableOneStopsServeWhileProbesAreOn) {
    struct Unset {
        ~Unset() { ::unsetenv("https_proxy"); }
    } unset;
    ::setenv("https_proxy", "socks5://user:secret@proxy.example:1080", 1);
    ServeProcess refused({"--listen", "127.0.0.1:0"}, false);
    const test::ExitStatus status = refused.child().Wait(30s);
    EXPECT_TRUE(status.exited) << status.Describe();
    EXPECT_EQ(status.code, 78) << refused.Log();
    EXPECT_NE(refused.Log().find("$https_proxy is not a proxy the probes can use"), std::string::npos) << refused.Log();
    EXPECT_EQ(refused.Log().find("secret"), std::string::npos) << refused.Log();
    // With probes off, the same proxy (libcurl's to take or refuse for Railway's requests) is not
    // the probes' business: serve starts.
    test::TempDir dir("railwatch-proxy-it-");
    const std::string no_probes = dir.File("no-probes.toml");
    std::ofstream(no_probes) << "[monitor.health]\ninterval_seconds = 0\n";
    {
        ServeProcess without_probes({"--listen", "127.0.0.1:0", "--config", no_probes});
        EXPECT_NE(without_probes.port(), 0) << without_probes.Log();
    }

    ::setenv("https_proxy", "http://user:secret@127.0.0.1:3128", 1);
    ServeProcess serve({"--listen", "127.0.0.1:0"});
    ASSERT_NE(serve.port(), 0) << serve.Log();
    EXPECT_NE(serve.Log().find("health probes of https:// URLs go through the proxy 127.0.0.1:3128"), std::string::npos)
        << serve.Log();
    EXPECT_EQ(serve.Log().find("http:// URLs go through"), std::string::npos) << serve.Log();  // http_proxy unset
    EXPECT_EQ(serve.Log().find("secret"), std::string::npos) << serve.Log();
}

// A deployment's build log while it builds, as a reader of the API and of the instance's event
// stream sees it. The engine fetches log lines at phase changes and failures; a reader following
// them (GET …/logs, a stream with ?instanceId=) gets newer lines while the simulator still builds,
// and the stream carries them as `log` events.
TEST_F(ServeTest, AFollowedBuildLogGrowsWhileTheDeploymentBuildsAndStreamsAsLogEvents) {
    // Builds of 40-60 s (200 Railway seconds ± 20 % at 4x), lines spread over them: the build
    // outlasts several follows (one per 5 s at most).
    test::SimProcess slow({"--time-scale", "4"});
    ASSERT_GT(slow.port(), 0) << slow.Log();
    ::setenv("RAILWAY_API_URL", slow.GraphqlUrl().c_str(), 1);
    const json created = json::parse(slow.Post("/_sim/deployments", R"({"kind":"success"})"), nullptr, false);
    const std::string deployment_id = created["ids"][0].get<std::string>();
    const auto sim_truth = [&] {
        return json::parse(slow.Get("/_sim/truth?id=" + deployment_id), nullptr, false)["deployments"][0];
    };
    const json deployment = sim_truth();
    ServeProcess serve({"--listen", "127.0.0.1:0"});
    ASSERT_NE(serve.port(), 0) << serve.Log();
    httplib::Client client("127.0.0.1", serve.port());
    client.set_read_timeout(30s);
    auto added = client.Post("/api/v1/instances", Auth(),
                             json{{"serviceId", deployment["serviceId"]},
                                  {"environmentId", deployment["environmentId"]},
                                  {"deploymentId", deployment_id}}
                                 .dump(),
                             "application/json");
    ASSERT_TRUE(added);
    ASSERT_EQ(added->status, 201) << added->body;
    const std::string id = json::parse(added->body)["id"];
    test::SseClients stream(test::SseClientsOptions{
        .port = serve.port(), .path = "/api/v1/stream?instanceId=" + id, .api_token = kApiToken});
    ASSERT_TRUE(stream.Start());

    const auto engine_status = [&]() -> std::string {
        auto res = client.Get("/api/v1/instances/" + id, Auth());
        if (!res || res->status != 200) return "(no answer)";
        const json body = json::parse(res->body, nullptr, false);
        return body["deploymentStatus"].is_string() ? body["deploymentStatus"].get<std::string>() : "(none)";
    };
    const auto build_log = [&]() -> json {
        auto res = client.Get("/api/v1/instances/" + id + "/logs?kind=build&limit=1000", Auth());
        if (!res || res->status != 200) return json::array();
        return json::parse(res->body, nullptr, false)["items"];
    };
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (engine_status() != "BUILDING" && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(200ms);
    ASSERT_EQ(engine_status(), "BUILDING") << serve.Log();
    const std::size_t at_first = build_log().size();
    // Reads a second apart: the stored log grows while the simulator still builds (its status read
    // after the log, so those lines were stored during the build, not at its end's phase change).
    std::size_t grown_to = 0;
    deadline = std::chrono::steady_clock::now() + 60s;
    while (grown_to == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1s);
        const std::size_t now = build_log().size();
        if (sim_truth()["currentStatus"] != "BUILDING") break;
        if (now > at_first) grown_to = now;
    }
    ASSERT_GT(grown_to, at_first) << "the build log did not grow while the deployment built (" << at_first
                                  << " lines at first; the simulator now says " << sim_truth()["currentStatus"] << ")\n"
                                  << serve.Log();
    const json lines = build_log();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0]["message"], "[Region: us-west1]");  // the simulator's first build line, kept
    EXPECT_EQ(lines[0]["kind"], "build");
    deadline = std::chrono::steady_clock::now() + 30s;
    while (stream.Snapshot().at(0).logs == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    EXPECT_GT(stream.Snapshot().at(0).logs, 0) << "the instance's stream carried no `log` event";
    EXPECT_EQ(stream.Snapshot().at(0).status, 200);
}

TEST_F(ServeTest, ReportsAnAddressInUseAndExitsNonZero) {
    ServeProcess first({"--listen", "127.0.0.1:0"});
    ASSERT_NE(first.port(), 0) << first.Log();
    ServeProcess second({"--listen", "127.0.0.1:" + std::to_string(first.port())}, false);
    const test::ExitStatus status = second.child().Wait(30s);
    EXPECT_TRUE(status.exited) << status.Describe();
    EXPECT_NE(status.code, 0);
    EXPECT_NE(second.Log().find("in use"), std::string::npos) << second.Log();
}

TEST_F(ServeTest, DemoPrintsTheDashboardUrlFirstAddsEveryKindAndStopsOnCtrlC) {
    ::unsetenv("RAILWATCH_API_TOKEN");
    test::TempDir dir("railwatch-demo-it-");
    const std::string log = dir.File("demo.log");
    test::ChildProcess demo = test::ChildProcess::Spawn({RAILWATCH_BINARY, "demo", "--listen", "127.0.0.1:0"}, log);
    const auto read = [&log] {
        std::ifstream in(log);
        std::stringstream buffer;
        buffer << in.rdbuf();
        return buffer.str();
    };
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (read().find("Ctrl-C stops everything") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    const std::string text = read();
    ASSERT_NE(text.find("Ctrl-C stops everything"), std::string::npos) << text;
    // The first line of standard output is the dashboard URL (the log lines go to stderr, which
    // shares the file here: look at the first line that is not a log line).
    std::istringstream lines(text);
    std::string line;
    std::string first_output;
    while (std::getline(lines, line)) {
        if (line.rfind("railwatch demo:", 0) == 0) {
            first_output = line;
            break;
        }
    }
    const std::regex url_line("railwatch demo: dashboard at http://127\\.0\\.0\\.1:([0-9]+)/");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(first_output, m, url_line)) << text;
    EXPECT_NE(text.find("14 of 14 instances added"), std::string::npos) << text;

    httplib::Client client("127.0.0.1", std::stoi(m[1]));
    auto list = client.Get("/api/v1/instances?limit=100");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200);
    std::set<std::string> kinds;
    const json listed = json::parse(list->body);
    for (const json& item : listed["items"])
        kinds.insert(item["projectName"].get<std::string>());
    EXPECT_EQ(kinds.size(), 14u) << list->body;
    EXPECT_TRUE(kinds.count("demo-crash_loop"));
    EXPECT_TRUE(kinds.count("demo-python-settings"));
    EXPECT_TRUE(kinds.count("demo-slow-probes"));
    EXPECT_TRUE(kinds.count("demo-failing-probes"));
    auto page = client.Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);

    demo.Signal(SIGINT);
    const test::ExitStatus status = demo.Wait(60s);
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << read();
}

}  // namespace
}  // namespace railwatch
