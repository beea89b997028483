#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/root.hpp"
#include "app/service.hpp"
#include "app/signals.hpp"
#include "cli/commands.hpp"
#include "cli/run.hpp"
#include "net/http_transport.hpp"
#include "sim/config.hpp"
#include "sim/sim_server.hpp"
#include "util/clock.hpp"

// `railwatch demo`: the whole system on one machine with no Railway account. The simulator runs
// in this process (a 5-minute Railway deploy takes 5 s), `serve` runs on an SQLite file in a
// temporary directory, and a sample fleet with one deployment of every lifecycle kind is added
// through the REST API over HTTP, as a user would.
namespace railwatch::cli {
namespace {

using nlohmann::json;

/// One sample deployment: the simulator's lifecycle kind and, for failures, the reason; how its
/// service answers health probes; its project name after "demo-" (the kind when not given).
struct Sample {
    const char* kind;
    const char* reason;            // nullptr: none
    const char* health = nullptr;  // the simulator's service health mode; nullptr: healthy
    const char* name = nullptr;
};

constexpr Sample kSamples[] = {
    {"success", nullptr},
    {"success", nullptr, "slow", "slow-probes"},
    {"success", nullptr, "failing", "failing-probes"},
    {"build_failed", "npm_elifecycle"},
    {"deploy_failed", "healthcheck"},
    {"crash_after_success", "oom"},
    {"crash_loop", "missing_env"},
    // A Python service whose settings (pydantic) lack DATABASE_URL: the next step names the field.
    {"crash_loop", "python_settings", nullptr, "python-settings"},
    {"stuck_initializing", nullptr},
    {"stuck_deploying", nullptr},
    {"needs_approval", nullptr},
    {"waiting_skipped", nullptr},
    {"removed", nullptr},
    {"sleeping", nullptr},
};

/// A temporary directory, removed with everything in it when the demo ends.
class ScratchDir {
  public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "railwatch-demo-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

/// POST/GET `url` with a JSON body and returns the parsed answer, or an error message.
util::Result<json> Call(net::HttpTransport& http, std::string method, std::string url, const json& body,
                        const std::string& api_token) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers = {{"Content-Type", "application/json"}};
    if (!api_token.empty()) request.headers.emplace_back("Authorization", "Bearer " + api_token);
    if (!body.is_null()) request.body = body.dump();
    request.timeout = core::Seconds(10);
    const net::HttpResponse response = http.Send(std::move(request)).get();
    if (!response.Answered()) return util::Fail(util::ErrorCode::kUnavailable, "no answer: " + response.error_message);
    json parsed = json::parse(response.body, nullptr, false);
    if (response.status >= 300 || parsed.is_discarded()) {
        return util::Fail(util::ErrorCode::kInternal,
                          fmt::format("HTTP {}: {}", response.status, response.body.substr(0, 300)));
    }
    return parsed;
}

/// Creates one deployment of every kind in the simulator and adds each through the REST API.
/// Returns how many were added.
int AddSampleFleet(net::HttpTransport& http, const std::string& sim_url, const std::string& api_url,
                   const std::string& api_token) {
    int added = 0;
    for (const Sample& sample : kSamples) {
        json spec = {{"kind", sample.kind}};
        if (sample.reason != nullptr) spec["reason"] = sample.reason;
        if (sample.health != nullptr) spec["health"] = sample.health;
        auto created = Call(http, "POST", sim_url + "/_sim/deployments", spec, "");
        if (!created || !(*created)["ids"].is_array() || (*created)["ids"].empty()) {
            fmt::print(stderr, "railwatch demo: the simulator did not create a {} deployment: {}\n", sample.kind,
                       created ? created->dump() : created.error().message);
            continue;
        }
        const std::string id = (*created)["ids"][0];
        auto truth = Call(http, "GET", fmt::format("{}/_sim/truth?id={}", sim_url, id), nullptr, "");
        if (!truth || (*truth)["deployments"].empty()) {
            fmt::print(stderr, "railwatch demo: no ground truth for {}\n", id);
            continue;
        }
        const json& d = (*truth)["deployments"][0];
        const json instance = {{"serviceId", d["serviceId"]},
                               {"environmentId", d["environmentId"]},
                               {"deploymentId", id},
                               {"projectName", std::string("demo-") + (sample.name ? sample.name : sample.kind)}};
        auto answer = Call(http, "POST", api_url + "/api/v1/instances", instance, api_token);
        if (!answer) {
            fmt::print(stderr, "railwatch demo: adding the {} deployment failed: {}\n", sample.kind,
                       answer.error().message);
            continue;
        }
        fmt::print("  {:<20} deployment {}  instance {}\n", sample.name ? sample.name : sample.kind, id,
                   (*answer)["id"].get<std::string>());
        ++added;
    }
    return added;
}

int RunDemo(const std::string& listen_flag) {
    util::Wakeup stop;
    std::unique_ptr<app::ShutdownSignals> signals;
    try {
        signals = std::make_unique<app::ShutdownSignals>(stop);
    } catch (const std::system_error& e) {
        fmt::print(stderr, "railwatch demo: cannot watch for SIGINT/SIGTERM: {}\n", e.what());
        return kExitFailure;
    }
    auto listen = app::ParseListenAddress(listen_flag);
    if (!listen) {
        fmt::print(stderr, "railwatch demo: --listen: {}\n", listen.error().message);
        return kExitUsage;
    }
    const char* token_env = std::getenv("RAILWATCH_API_TOKEN");
    const std::string api_token = token_env != nullptr ? token_env : "";
    if (!net::IsLoopbackHost(listen->host) && api_token.empty()) {
        fmt::print(stderr,
                   "railwatch demo: refusing to listen on {} without an API token; set RAILWATCH_API_TOKEN or "
                   "listen on 127.0.0.1\n",
                   listen_flag);
        return kExitUsage;
    }
    ScratchDir scratch;
    if (scratch.path().empty()) {
        fmt::print(stderr, "railwatch demo: cannot create a temporary directory; check $TMPDIR\n");
        return kExitFailure;
    }

    util::SystemClock sim_clock;
    sim::SimConfig sim_config;
    sim_config.seed = 42;
    sim_config.time_scale = 60;      // a 5-minute Railway deploy takes 5 s
    sim_config.rate_limit.rps = 50;  // Railway's Pro plan, so the demo can check every second
    sim_config.rate_limit.rph = 10000;
    sim_config.slow_health_ms = 3000;  // the slow service: DEGRADED (over [monitor.health] slow_ms)
    sim::SimServer simulator(std::move(sim_config), sim_clock, sim::SimServerOptions{});
    if (auto started = simulator.Start(); !started) {
        fmt::print(stderr, "railwatch demo: the simulator did not start: {}\n", started.error().message);
        return kExitFailure;
    }

    app::Config config;
    config.railway.api_url = simulator.BaseUrl() + "/graphql/v2";
    config.railway.token = app::Secret("sim-account-token");
    config.railway.token_kind = railway::TokenKind::kAccount;
    config.store.url = "sqlite:" + scratch.path() + "/railwatch.db";
    config.server.listen = listen_flag;
    config.server.api_token = app::Secret(api_token);
    // The simulator runs 60 times faster than Railway: check as often as the budget allows so the
    // dashboard shows each phase, and flag a stall after a minute instead of ten.
    config.monitor.intervals = app::MonitorIntervals{.initializing_s = 1,
                                                     .building_s = 1,
                                                     .deploying_s = 1,
                                                     .success_s = 5,
                                                     .failed_s = 5,
                                                     .crashed_s = 5,
                                                     .default_s = 2};
    config.railway.requests_per_second = 50;
    config.railway.requests_per_hour = 10000;
    config.monitor.stuck_after_seconds = 60;
    config.monitor.timeout_after_seconds = 120;
    config.monitor.health.interval_seconds = 5;  // a probe at each SUCCESS check
    auto redactor = std::make_shared<app::SecretRedactor>();
    redactor->AddAll(config);
    auto logger = app::SetupLogging(config.log, redactor);
    app::RootOptions options;
    options.logger = logger;
    auto root = app::Root::Build(config, std::move(options));
    if (!root) {
        fmt::print(stderr, "railwatch demo: {}\n", root.error().message);
        return kExitFailure;
    }
    auto service = app::Service::Build(**root);
    if (!service) {
        fmt::print(stderr, "railwatch demo: {}\n", service.error().message);
        return kExitFailure;
    }
    if (auto started = (*service)->Start(); !started) {
        fmt::print(stderr, "railwatch demo: {}\n", started.error().message);
        return kExitFailure;
    }
    const std::string api_url = (*service)->BaseUrl();
    fmt::print("railwatch demo: dashboard at {}/{}\n", api_url,
               api_token.empty() ? "" : "  (sign in with $RAILWATCH_API_TOKEN)");
    std::fflush(stdout);
    fmt::print("railwatch demo: Railway simulator at {} (time scale 60), database {}\n", simulator.BaseUrl(),
               config.store.url);
    fmt::print("railwatch demo: engine: {}\n", (*service)->engine().Describe());
    fmt::print("railwatch demo: adding one deployment of every lifecycle kind through POST {}/api/v1/instances\n",
               api_url);
    std::fflush(stdout);
    const int added = AddSampleFleet((*root)->http(), simulator.BaseUrl(), api_url, api_token);
    fmt::print("railwatch demo: {} of {} instances added; try:\n", added, std::size(kSamples));
    fmt::print("  curl -s {}/api/v1/instances\n  curl -s {}/api/v1/stats\n  curl -sN {}/api/v1/stream\n", api_url,
               api_url, api_url);
    fmt::print("railwatch demo: Ctrl-C stops everything\n");
    std::fflush(stdout);

    while ((*root)->clock().WaitFor(std::chrono::hours(24), stop) != util::WakeReason::kStopped) {
    }
    fmt::print("railwatch demo: stopping\n");
    std::fflush(stdout);
    (*service)->Stop();
    service->reset();
    root->reset();
    simulator.Stop();
    return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& exit_code) {
    auto listen = std::make_shared<std::string>("127.0.0.1:8080");
    auto* cmd = app.add_subcommand(
        "demo", "Run the simulator, the monitor, the API and the dashboard with a sample fleet (no Railway account)");
    cmd->add_option("--listen", *listen, "HOST:PORT of the API and dashboard (port 0: any free port)")
        ->capture_default_str();
    cmd->callback([listen, &exit_code] { exit_code = RunDemo(*listen); });
}

}  // namespace railwatch::cli
