#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>

#include "app/allocator.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/root.hpp"
#include "app/service.hpp"
#include "app/signals.hpp"
#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "cli/run.hpp"
#include "net/http_transport.hpp"
#include "railway/config.hpp"
#include "util/clock.hpp"

namespace railwatch::cli {
namespace {

int RunServe(const ConfigFlags& flags) {
    // First of all: glibc reads its tunables only as a process starts, so serve restarts itself
    // (same process id, same arguments) with malloc on transparent huge pages, unless told not to.
    const railway::EnvLookup env = railway::ProcessEnvironment();
    const auto restart = app::RestartWithHugePages(env);
    const auto huge_pages = app::HugePagesInUse(env);
    // Before any thread starts: a thread keeps the malloc arena it was given.
    const auto arenas = app::LimitMallocArenas(env);
    // The signal watcher comes first: every thread started later inherits the blocked mask.
    util::Wakeup stop;
    std::unique_ptr<app::ShutdownSignals> signals;
    try {
        signals = std::make_unique<app::ShutdownSignals>(stop, [](int signal, int count) {
            if (count == 1) {
                fmt::print(stderr, "railwatch serve: {} received, stopping (again to force)\n",
                           signal == SIGINT ? "SIGINT" : "SIGTERM");
            }
        });
    } catch (const std::system_error& e) {
        fmt::print(stderr, "railwatch serve: cannot watch for SIGINT/SIGTERM: {}\n", e.what());
        return kExitFailure;
    }

    auto loaded = app::LoadConfig(flags.Sources());
    if (!loaded) return ReportConfigErrors("railwatch serve", loaded.error());
    app::Config& config = loaded->config;
    auto listen = app::ParseListenAddress(config.server.listen);
    if (!listen) {
        fmt::print(stderr, "railwatch serve: {}\n", listen.error().message);
        return app::kExitInvalidConfig;
    }
    if (!net::IsLoopbackHost(listen->host) && config.server.api_token.empty()) {
        fmt::print(stderr,
                   "railwatch serve: refusing to listen on {} without an API token: anyone who can reach it could "
                   "change what is monitored; set ${} or listen on 127.0.0.1\n",
                   config.server.listen,
                   config.server.api_token_env.empty() ? "RAILWATCH_API_TOKEN" : config.server.api_token_env);
        return app::kExitInvalidConfig;
    }

    auto redactor = std::make_shared<app::SecretRedactor>();
    redactor->AddAll(config);
    auto logger = app::SetupLogging(config.log, redactor);
    for (const std::string& warning : loaded->warnings)
        logger->warn("{}", warning);
    if (restart) logger->warn("{}", *restart);
    if (huge_pages) logger->debug("{}", *huge_pages);
    if (arenas) logger->debug("{}", *arenas);

    app::RootOptions options;
    options.logger = logger;
    // Only probes read them here (libcurl reads them itself for Railway's requests and webhooks,
    // and takes kinds the probes do not): with probes off, none of them can stop serve.
    if (config.monitor.health.On()) {
        auto proxies = net::ProbeProxiesFromEnvironment(env);
        if (!proxies) {
            fmt::print(stderr,
                       "railwatch serve: {}; or turn health probes off ([monitor.health] interval_seconds = 0)\n",
                       proxies.error().message);
            return app::kExitInvalidConfig;
        }
        options.probe_proxies = std::move(*proxies);
    }
    auto root = app::Root::Build(std::move(config), std::move(options));
    if (!root) {
        fmt::print(stderr, "railwatch serve: {}\n", root.error().message);
        return kExitFailure;
    }
    auto service = app::Service::Build(**root);
    if (!service) {
        fmt::print(stderr, "railwatch serve: {}\n", service.error().message);
        return kExitFailure;
    }
    if (auto started = (*service)->Start(); !started) {
        fmt::print(stderr, "railwatch serve: {}\n", started.error().message);
        return kExitFailure;
    }
    fmt::print("railwatch listening on {}\n", (*service)->BaseUrl());
    std::fflush(stdout);

    while ((*root)->clock().WaitFor(std::chrono::hours(24), stop) != util::WakeReason::kStopped) {
    }
    (*service)->Stop();
    logger->info("stopped");
    return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("serve", "Run the monitor, the REST API and the dashboard");
    auto flags = std::make_shared<ConfigFlags>(*cmd);
    cmd->callback([flags, &exit_code] { exit_code = RunServe(*flags); });
}

}  // namespace railwatch::cli
