#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/run.hpp"
#include "cli/stop_on_signals.hpp"
#include "monitor/duration.hpp"
#include "monitor/watch.hpp"
#include "net/curl_transport.hpp"
#include "railway/budget.hpp"
#include "railway/client.hpp"
#include "railway/config.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::cli {
namespace {

// SIGTERM ends a watch like Ctrl-C does, with the exit code a shell reports for it.
constexpr int kExitTerminated = 143;  // 128 + SIGTERM

struct WatchFlags {
    std::string deployment_id;
    std::string timeout = "30m";
    std::string stall = "10m";
    std::string interval = "5s";
    bool json = false;
};

std::string Bar(int percent, int width) {
    const int filled = std::clamp(percent, 0, 100) * width / 100;
    return std::string(static_cast<std::size_t>(filled), '#') +
           std::string(static_cast<std::size_t>(width - filled), '-');
}

int RunWatch(const WatchFlags& flags) {
    monitor::WatchOptions options;
    options.deployment_id = flags.deployment_id;
    for (auto [text, target, name] : {std::tuple{&flags.timeout, &options.timeout, "--timeout"},
                                      std::tuple{&flags.stall, &options.stall, "--stall"},
                                      std::tuple{&flags.interval, &options.interval, "--interval"}}) {
        auto parsed = monitor::ParseDuration(*text);
        if (!parsed) {
            fmt::print(stderr, "railwatch watch: {}: {}\n", name, parsed.error().message);
            return kExitUsage;
        }
        *target = *parsed;
    }
    if (options.deployment_id.empty()) {
        fmt::print(stderr, "railwatch watch: DEPLOYMENT_ID is empty; pass the id shown in Railway's dashboard\n");
        return kExitUsage;
    }
    const auto env = railway::ProcessEnvironment();
    auto credentials = railway::CredentialsFromEnvironment(env);
    if (!credentials) {
        fmt::print(stderr, "railwatch watch: {}\n", credentials.error().message);
        return kExitUsage;
    }
    railway::ClientConfig config;
    config.api_url = railway::ApiUrlFromEnvironment(env);
    if (auto valid = railway::ValidateApiUrl(config.api_url); !valid) {
        fmt::print(stderr, "railwatch watch: {}\n", valid.error().message);
        return kExitUsage;
    }
    config.batch_size = 1;
    config.max_in_flight = 1;
    config.request_timeout = std::min<core::Duration>(core::Seconds(30), options.timeout);
    config.max_attempts = 4;

    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    const bool json = flags.json;
    util::SystemClock clock;
    util::Wakeup wakeup;
    const StopOnSignals signals(wakeup);  // before the transport starts its thread
    railway::RequestBudget budget(clock, railway::BudgetConfig{});
    util::SystemRandom random;
    net::CurlTransportOptions transport_options;
    transport_options.max_host_connections = 2;
    net::CurlTransport transport(transport_options);
    railway::RailwayClient client(transport, clock, budget, random, *credentials, config,
                                  [tty, json](std::string_view line) {
                                      if (!json) fmt::print(stderr, "{}{}\n", tty ? "\r\033[K" : "", line);
                                  });

    if (!json) {
        fmt::print("Watching deployment {} (timeout {}, stall {}) via {}\n", options.deployment_id,
                   monitor::FormatDuration(options.timeout), monitor::FormatDuration(options.stall),
                   credentials->Describe());
        std::fflush(stdout);
    }
    bool line_open = false;
    monitor::WatchSink sink;
    sink.on_update = [&](const monitor::WatchUpdate& u) {
        if (json) {
            if (!u.changed) return;
            nlohmann::json event = {{"event", "status"},
                                    {"deploymentId", u.deployment.id},
                                    {"status", u.deployment.status.raw},
                                    {"phase", u.phase},
                                    {"progress", u.progress},
                                    {"elapsedSeconds", core::ToSeconds(u.elapsed)},
                                    {"at", util::FormatRfc3339(u.at)}};
            fmt::print("{}\n", event.dump());
        } else if (tty) {
            fmt::print("\r\033[K{:<18} [{}] {:>3}%  {}", u.phase, Bar(u.progress, 30), u.progress,
                       monitor::FormatDuration(u.elapsed));
            line_open = true;
        } else if (u.changed) {
            fmt::print("{}  {:<18} {:>3}%  elapsed {}\n", util::FormatRfc3339(u.at, util::TimePrecision::kSeconds),
                       u.phase + " (" + u.deployment.status.raw + ")", u.progress, monitor::FormatDuration(u.elapsed));
        }
        std::fflush(stdout);
    };
    sink.on_warning = [&](std::string_view warning) {
        if (json) return;
        fmt::print(stderr, "{}warning: {}\n", tty && line_open ? "\r\033[K" : "", warning);
        line_open = false;
    };

    monitor::DeploymentWatch watch(client, clock, wakeup);
    const monitor::WatchOutcome outcome = watch.Run(options, sink);
    if (line_open) fmt::print("\n");
    const int exit_code = outcome.result == monitor::WatchResult::kInterrupted && signals.received() == SIGTERM
                              ? kExitTerminated
                              : outcome.exit_code;

    if (json) {
        nlohmann::json result = {{"event", "result"},
                                 {"deploymentId", options.deployment_id},
                                 {"result", monitor::ToString(outcome.result)},
                                 {"exitCode", exit_code},
                                 {"elapsedSeconds", core::ToSeconds(outcome.elapsed)},
                                 {"message", outcome.message}};
        if (outcome.last) result["status"] = outcome.last->status.raw;
        if (outcome.error) result["errorCode"] = std::string(util::ToString(outcome.error->code));
        if (outcome.cause) {
            result["errorClass"] = std::string(core::ToString(outcome.cause->error_class));
            result["cause"] = outcome.cause->reason;
            result["nextStep"] = outcome.next_step;
        }
        if (!outcome.logs.empty()) {
            nlohmann::json logs = nlohmann::json::array();
            for (const auto& line : outcome.logs)
                logs.push_back({{"timestamp", line.timestamp_raw}, {"message", line.message}});
            result["logs"] = logs;
            result["logsKind"] = outcome.logs_kind;
        }
        fmt::print("{}\n", result.dump());
    } else {
        if (!outcome.logs.empty()) {
            fmt::print("Last {} {} log line(s):\n", outcome.logs.size(), outcome.logs_kind);
            for (const auto& line : outcome.logs)
                fmt::print("  {}  {}\n", line.timestamp_raw, line.message);
        }
        if (outcome.exit_code == 0) {
            fmt::print("{}\n", outcome.message);
        } else {
            fmt::print(stderr, "railwatch watch: {}\n", outcome.message);
            if (!outcome.next_step.empty()) fmt::print(stderr, "Next step: {}\n", outcome.next_step);
        }
    }
    std::fflush(stdout);
    return exit_code;
}

}  // namespace

void AddWatchCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<WatchFlags>();
    auto* cmd = app.add_subcommand(
        "watch",
        "Follow one deployment until it succeeds or fails (exit 0 success, 1 failed, 2 timeout/stall, "
        "3 auth/API error, 64 usage, 130 Ctrl-C)");
    cmd->add_option("DEPLOYMENT_ID", flags->deployment_id, "The Railway deployment to follow")->required();
    cmd->add_option("--timeout", flags->timeout, "Give up after this long, e.g. 30m, 1h30m (default 30m)");
    cmd->add_option("--stall", flags->stall, "Give up when the status has not changed for this long (default 10m)");
    cmd->add_option("--interval", flags->interval, "Time between status checks (default 5s)");
    cmd->add_flag("--json", flags->json, "Print one JSON object per status change, and one with the result");
    cmd->callback([flags, &exit_code] { exit_code = RunWatch(*flags); });
}

}  // namespace railwatch::cli
