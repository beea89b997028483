#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/run.hpp"
#include "sim/config.hpp"
#include "sim/sim_server.hpp"
#include "util/clock.hpp"

namespace railwatch::cli {
namespace {

struct SimFlags {
    std::string listen = "127.0.0.1:7070";
    std::string scenario;
    double time_scale = 0;
    std::string account_token;
    std::string workspace_token;
    std::string project_token;
    std::string project_token_environment;
    long long seed = -1;
    std::size_t threads = 8;
};

bool SplitHostPort(const std::string& listen, std::string& host, int& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    try {
        std::size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) return false;
    } catch (const std::exception&) {
        return false;
    }
    return port >= 0 && port <= 65535;
}

int RunSim(const SimFlags& flags) {
    sim::SimConfig config;
    if (!flags.scenario.empty()) {
        auto loaded = sim::LoadScenarioFile(flags.scenario);
        if (!loaded) {
            fmt::print(stderr, "railwatch sim: {}\n", loaded.error().message);
            return kExitUsage;
        }
        config = std::move(*loaded);
    }
    if (flags.time_scale > 0) config.time_scale = flags.time_scale;
    if (!flags.account_token.empty()) config.account_token = flags.account_token;
    if (!flags.workspace_token.empty()) config.workspace_token = flags.workspace_token;
    if (!flags.project_token.empty()) config.project_token = flags.project_token;
    if (!flags.project_token_environment.empty()) config.project_token_environment_id = flags.project_token_environment;
    if (flags.seed >= 0) config.seed = static_cast<std::uint64_t>(flags.seed);

    sim::SimServerOptions options;
    if (!SplitHostPort(flags.listen, options.host, options.port)) {
        fmt::print(stderr,
                   "railwatch sim: --listen must be HOST:PORT (e.g. 127.0.0.1:7070 or 127.0.0.1:0), not \"{}\"\n",
                   flags.listen);
        return kExitUsage;
    }
    options.threads = flags.threads;

    // Block SIGINT/SIGTERM before any thread starts, so that every thread inherits the mask and
    // this thread alone receives them through sigwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    util::SystemClock clock;
    sim::SimServer server(std::move(config), clock, options);
    if (auto started = server.Start(); !started) {
        fmt::print(stderr, "railwatch sim: {}\n", started.error().message);
        return kExitFailure;
    }
    fmt::print("railwatch sim listening on {}\n", server.BaseUrl());
    std::fflush(stdout);

    int received = 0;
    sigwait(&signals, &received);
    fmt::print(stderr, "railwatch sim: {} received, stopping\n", received == SIGINT ? "SIGINT" : "SIGTERM");
    server.Stop();
    return kExitOk;
}

}  // namespace

void AddSimCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<SimFlags>();
    auto* cmd = app.add_subcommand("sim", "Run a Railway API simulator (GraphQL subset, lifecycles, faults, limits)");
    cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
    cmd->add_option("--scenario", flags->scenario, "Scenario file (JSON, see docs/SIMULATOR.md)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--time-scale", flags->time_scale, "Speed-up of simulated time (60: a 5-minute deploy in 5 s)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--account-token", flags->account_token,
                    "Accepted account token (Authorization: Bearer); default sim-account-token");
    cmd->add_option("--workspace-token", flags->workspace_token,
                    "Accepted workspace token (Authorization: Bearer; `me` fails for it); default sim-workspace-token");
    cmd->add_option("--project-token", flags->project_token,
                    "Accepted project token (Project-Access-Token); default sim-project-token");
    cmd->add_option("--project-token-environment", flags->project_token_environment,
                    "The one environment id the project token may see; default the simulator's environment");
    cmd->add_option("--seed", flags->seed, "Seed for ids, durations and faults (default: the scenario's, else 1)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--threads", flags->threads, "HTTP worker threads kept (more start while connections wait)")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    cmd->callback([flags, &exit_code] { exit_code = RunSim(*flags); });
}

}  // namespace railwatch::cli
