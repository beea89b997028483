// The REST client subcommands: instances add|list|show|rm|monitoring|redeploy, logs, health, stats, attention,
// notifications (docs/CLI.md). Each talks to `railwatch serve` through cli::RestClient and prints
// either the API's JSON (--json) or the tables of cli/rest_render.hpp.
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/log_follow.hpp"
#include "cli/rest_client.hpp"
#include "cli/rest_render.hpp"
#include "cli/run.hpp"
#include "cli/stop_on_signals.hpp"
#include "net/curl_transport.hpp"
#include "railway/config.hpp"
#include "util/clock.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;

constexpr const char* kFooter =
    "Environment: RAILWATCH_SERVER is the address of `railwatch serve` (default http://127.0.0.1:8080; "
    "--server wins), RAILWATCH_API_TOKEN its API token (sent as a Bearer token, never printed).\n"
    "Exit codes: 0 done; 1 the server refused the request (unknown instance, bad filter or body); "
    "3 the server cannot be reached, did not answer in time, rejected the token or answered with "
    "something else than its API; 64 usage error.";

/// Flags every REST client command takes.
struct ClientFlags {
    std::string server;
    bool json = false;
};

void AddClientFlags(CLI::App* cmd, ClientFlags& flags) {
    cmd->add_option("--server", flags.server,
                    "Address of `railwatch serve`, e.g. http://127.0.0.1:8080 (default: $RAILWATCH_SERVER, else "
                    "http://127.0.0.1:8080)");
    cmd->add_flag("--json", flags.json, "Print the API's JSON answer (one document) instead of a table");
    cmd->footer(kFooter);
}

/// The document as JSON text; bytes that are not UTF-8 are replaced rather than thrown about.
std::string Dump(const json& document) {
    return document.dump(2, ' ', false, json::error_handler_t::replace);
}

core::Timestamp Now() {
    return util::SystemClock().Now();
}

/// Prints why `command` failed and returns its exit code.
int Failed(std::string_view command, const util::Error& error) {
    fmt::print(stderr, "railwatch {}: {}\n", command, error.message);
    return ExitCodeFor(error);
}

/// Runs one request-and-print command: builds the client from the flags and the environment,
/// calls `request`, and prints its answer with `render` (or as JSON: `json_of` the answer, when
/// the request gathered more than the API document --json prints).
int RunRequest(std::string_view command, const ClientFlags& flags,
               const std::function<util::Result<json>(RestClient&)>& request,
               const std::function<std::string(const json&)>& render,
               const std::function<const json&(const json&)>& json_of = nullptr) {
    auto config = ServerConfigFrom(railway::ProcessEnvironment(), flags.server);
    if (!config) {
        fmt::print(stderr, "railwatch {}: {}\n", command, config.error().message);
        return kExitUsage;
    }
    net::CurlTransport transport;
    RestClient client(transport, std::move(*config));
    auto answer = request(client);
    if (!answer) return Failed(command, answer.error());
    fmt::print("{}", flags.json ? Dump(json_of ? json_of(*answer) : *answer) + "\n" : render(*answer));
    return kExitOk;
}

/// An ID argument must not be empty (`railwatch instances show ""`).
bool CheckId(std::string_view command, const std::string& id) {
    if (!id.empty()) return true;
    fmt::print(stderr, "railwatch {}: ID is empty; pass an instance id from `railwatch instances list`\n", command);
    return false;
}

// --- instances -----------------------------------------------------------------------------------

void AddInstancesCommand(CLI::App& app, int& exit_code) {
    auto* instances = app.add_subcommand(
        "instances", "Add, list, show and remove monitored instances; turn their monitoring on or off; redeploy them");
    instances->require_subcommand(1);
    instances->footer(kFooter);

    {
        struct Flags : ClientFlags {
            NewInstance instance;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd = instances->add_subcommand(
            "add",
            "Start monitoring a Railway service's deployment (the latest one unless --deployment is given) and "
            "show the new instance");
        cmd->add_option("--service", flags->instance.service_id, "Railway service id")->required();
        cmd->add_option("--environment", flags->instance.environment_id, "Railway environment id")->required();
        cmd->add_option("--deployment", flags->instance.deployment_id,
                        "Railway deployment id to follow (default: the service's latest deployment)");
        cmd->add_option("--project-name", flags->instance.project_name, "A name to show for the project");
        cmd->add_option("--user", flags->instance.user_id, "The user (notification recipient) it belongs to");
        cmd->add_option("--interval", flags->instance.check_interval_s,
                        "Its own interval between checks in seconds, for every status (default: each status's, "
                        "[monitor.intervals] of the server's config)")
            ->check(CLI::Range(1, 86400));
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            exit_code = RunRequest(
                "instances add", *flags, [&](RestClient& c) { return c.AddInstance(flags->instance); },
                [](const json& i) { return RenderInstance(i, Now()); });
        });
    }
    {
        struct Flags : ClientFlags {
            InstanceFilter filter;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd = instances->add_subcommand(
            "list", "List monitored instances, newest first (every page); DELETED ones only with --status DELETED");
        cmd->add_option("--status", flags->filter.status, "Only instances with this status")
            ->transform(CLI::IsMember({"INITIALIZING", "DEPLOYING", "RUNNING", "FAILED", "DELETED"}, CLI::ignore_case));
        cmd->add_flag("--attention", flags->filter.needs_attention, "Only instances that need attention");
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            exit_code = RunRequest(
                "instances list", *flags, [&](RestClient& c) { return c.ListInstances(flags->filter); },
                [](const json& answer) { return RenderInstances(answer, Now()); });
        });
    }
    {
        struct Flags : ClientFlags {
            std::string id;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd = instances->add_subcommand("show", "Show one instance: status, deployment, progress, health, error");
        cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            if (!CheckId("instances show", flags->id)) {
                exit_code = kExitUsage;
                return;
            }
            // A failed instance's deciding line and next step come from GET …/failure, the step list
            // from GET …/progress; --json prints the instance as the API sends it.
            exit_code = RunRequest(
                "instances show", *flags,
                [&](RestClient& c) -> util::Result<json> {
                    auto instance = c.GetInstance(flags->id);
                    if (!instance) return instance;
                    json failure = nullptr;
                    json progress = nullptr;
                    if (!flags->json) {
                        // Best effort: without them the instance is still shown, its error included.
                        if (instance->is_object() && instance->contains("errorType") &&
                            (*instance)["errorType"].is_string()) {
                            if (auto answer = c.Failure(flags->id); answer && answer->contains("failure"))
                                failure = (*answer)["failure"];
                        }
                        if (auto answer = c.Progress(flags->id)) progress = std::move(*answer);
                    }
                    return json{{"instance", std::move(*instance)},
                                {"failure", std::move(failure)},
                                {"progress", std::move(progress)}};
                },
                [](const json& all) { return RenderInstance(all["instance"], Now(), all["failure"], all["progress"]); },
                [](const json& all) -> const json& { return all["instance"]; });
        });
    }
    {
        struct Flags : ClientFlags {
            std::string id;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd =
            instances->add_subcommand("rm", "Stop monitoring an instance; it is marked DELETED and kept for history");
        cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            if (!CheckId("instances rm", flags->id)) {
                exit_code = kExitUsage;
                return;
            }
            exit_code = RunRequest(
                "instances rm", *flags, [&](RestClient& c) { return c.DeleteInstance(flags->id); },
                [](const json& i) {
                    // Through OneLine and a type check: the text comes from the server.
                    const auto field = [&i](const char* name) {
                        return i.is_object() && i.contains(name) && i[name].is_string()
                                   ? OneLine(i[name].get<std::string>())
                                   : std::string("-");
                    };
                    return fmt::format("Instance {} is no longer monitored (status {}; kept for history).\n",
                                       field("id"), field("status"));
                });
        });
    }
    {
        struct Flags : ClientFlags {
            std::string id;
            std::string state;
            int interval_s = 0;
            bool per_status = false;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd = instances->add_subcommand(
            "monitoring", "Turn an instance's monitoring on (checked at once) or off, or change its check interval");
        cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
        cmd->add_option("STATE", flags->state, "on or off")
            ->required()
            ->transform(CLI::IsMember({"on", "off"}, CLI::ignore_case));
        auto* interval = cmd->add_option("--interval", flags->interval_s,
                                         "Its own interval between checks in seconds, for every status")
                             ->check(CLI::Range(1, 86400));
        cmd->add_flag("--per-status", flags->per_status,
                      "Remove its own interval: each status's of the server's [monitor.intervals] applies")
            ->excludes(interval);
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            if (!CheckId("instances monitoring", flags->id)) {
                exit_code = kExitUsage;
                return;
            }
            std::optional<int> interval;  // none: left as it is
            if (flags->interval_s > 0) interval = flags->interval_s;
            if (flags->per_status) interval = 0;
            exit_code = RunRequest(
                "instances monitoring", *flags,
                [&](RestClient& c) { return c.SetMonitoring(flags->id, flags->state == "on", interval); },
                [](const json& i) { return RenderInstance(i, Now()); });
        });
    }
    {
        struct Flags : ClientFlags {
            std::string id;
        };
        auto flags = std::make_shared<Flags>();
        auto* cmd = instances->add_subcommand(
            "redeploy", "Ask Railway to redeploy the instance's deployment; the instance follows the new one");
        cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
        AddClientFlags(cmd, *flags);
        cmd->callback([flags, &exit_code] {
            if (!CheckId("instances redeploy", flags->id)) {
                exit_code = kExitUsage;
                return;
            }
            exit_code = RunRequest(
                "instances redeploy", *flags, [&](RestClient& c) { return c.Redeploy(flags->id); }, RenderRedeploy);
        });
    }
}

// --- logs ----------------------------------------------------------------------------------------

struct LogsFlags : ClientFlags {
    std::string id;
    int limit = 100;
    bool follow = false;
};

int RunFollow(const LogsFlags& flags) {
    auto config = ServerConfigFrom(railway::ProcessEnvironment(), flags.server);
    if (!config) {
        fmt::print(stderr, "railwatch logs: {}\n", config.error().message);
        return kExitUsage;
    }
    // A stop waits for the request in flight: keep that short.
    config->timeout = core::Seconds(10);
    util::SystemClock clock;
    util::Wakeup wakeup;
    const StopOnSignals signals(wakeup);  // before the transport starts its thread
    net::CurlTransport transport;
    RestClient client(transport, std::move(*config));

    FollowOptions options;
    options.initial_limit = flags.limit;
    FollowSink sink;
    const bool as_json = flags.json;
    sink.on_line = [&](const json& line, const std::string& deployment_id) {
        if (as_json) {
            json event = line;
            event["instanceId"] = flags.id;
            event["deploymentId"] = deployment_id.empty() ? json(nullptr) : json(deployment_id);
            fmt::print("{}\n", event.dump(-1, ' ', false, json::error_handler_t::replace));
        } else {
            fmt::print("{}", RenderLogLine(line));
        }
        std::fflush(stdout);
    };
    sink.on_deployment = [&](const std::string& deployment_id) {
        if (as_json) return;
        fmt::print("--- now following deployment {} ---\n", deployment_id.empty() ? "-" : deployment_id);
        std::fflush(stdout);
    };
    auto followed = FollowLogs(client, clock, wakeup, flags.id, options, sink);
    if (!followed) return Failed("logs", followed.error());
    return kExitOk;  // stopped by SIGINT or SIGTERM: the end a person asked for
}

void AddLogsCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<LogsFlags>();
    auto* cmd = app.add_subcommand(
        "logs", "Show the build and deploy log lines railwatch stored for an instance's current deployment");
    cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
    cmd->add_option("--limit", flags->limit, "How many of the newest lines to show (1..1000, default 100)")
        ->check(CLI::Range(1, 1000));
    cmd->add_flag("--follow,-f", flags->follow,
                  "Keep printing new lines as they are stored (polls every 2 s) until Ctrl-C or SIGTERM (exit 0); "
                  "with --json one JSON object per line");
    AddClientFlags(cmd, *flags);
    cmd->callback([flags, &exit_code] {
        if (!CheckId("logs", flags->id)) {
            exit_code = kExitUsage;
            return;
        }
        if (flags->follow) {
            exit_code = RunFollow(*flags);
            return;
        }
        exit_code = RunRequest(
            "logs", *flags, [&](RestClient& c) { return c.Logs(flags->id, flags->limit); },
            [](const json& answer) { return RenderLogs(answer); });
    });
}

// --- health, stats, attention, notifications -----------------------------------------------------

void AddHealthCommand(CLI::App& app, int& exit_code) {
    struct Flags : ClientFlags {
        std::string id;
    };
    auto flags = std::make_shared<Flags>();
    auto* cmd = app.add_subcommand("health", "Show an instance's health: status, uptime, last check, reasons");
    cmd->add_option("ID", flags->id, "The instance id (see `railwatch instances list`)")->required();
    AddClientFlags(cmd, *flags);
    cmd->callback([flags, &exit_code] {
        if (!CheckId("health", flags->id)) {
            exit_code = kExitUsage;
            return;
        }
        exit_code = RunRequest(
            "health", *flags, [&](RestClient& c) { return c.Health(flags->id); },
            [](const json& h) { return RenderHealth(h, Now()); });
    });
}

void AddStatsCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<ClientFlags>();
    auto* cmd = app.add_subcommand(
        "stats", "Show fleet figures: instances by status, error rate, average deployment time, capacity");
    AddClientFlags(cmd, *flags);
    cmd->callback([flags, &exit_code] {
        exit_code = RunRequest(
            "stats", *flags, [](RestClient& c) { return c.Stats(); }, [](const json& s) { return RenderStats(s); });
    });
}

void AddAttentionCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<ClientFlags>();
    auto* cmd = app.add_subcommand(
        "attention", "List the instances that need a person: failed, stuck or unhealthy, with the reason");
    AddClientFlags(cmd, *flags);
    cmd->callback([flags, &exit_code] {
        exit_code = RunRequest(
            "attention", *flags, [](RestClient& c) { return c.Attention(); },
            [](const json& answer) { return RenderAttention(answer, Now()); });
    });
}

void AddNotificationsCommand(CLI::App& app, int& exit_code) {
    struct Flags : ClientFlags {
        std::string user_id;
    };
    auto flags = std::make_shared<Flags>();
    auto* cmd = app.add_subcommand("notifications", "List the in-app notifications, newest first");
    cmd->add_option("--user", flags->user_id, "Only this user's notifications");
    AddClientFlags(cmd, *flags);
    cmd->callback([flags, &exit_code] {
        exit_code = RunRequest(
            "notifications", *flags, [&](RestClient& c) { return c.Notifications(flags->user_id); },
            [](const json& answer) { return RenderNotifications(answer, Now()); });
    });
}

}  // namespace

void AddRestClientCommands(CLI::App& app, int& exit_code) {
    AddInstancesCommand(app, exit_code);
    AddLogsCommand(app, exit_code);
    AddHealthCommand(app, exit_code);
    AddStatsCommand(app, exit_code);
    AddAttentionCommand(app, exit_code);
    AddNotificationsCommand(app, exit_code);
}

}  // namespace railwatch::cli
