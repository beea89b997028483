#include "sim/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using util::ErrorCode;
using util::Fail;

util::Result<void> CheckKeys(const json& j, std::string_view where, std::initializer_list<std::string_view> allowed) {
    if (!j.is_object()) return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must be a JSON object", where));
    for (const auto& [key, value] : j.items()) {
        bool ok = false;
        for (auto a : allowed)
            ok = ok || a == key;
        if (!ok) {
            std::string list;
            for (auto a : allowed)
                list += (list.empty() ? "" : ", ") + std::string(a);
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("{}: unknown key \"{}\" (allowed: {})", where, key, list));
        }
    }
    return util::Ok();
}

util::Result<double> Number(const json& j, std::string_view key, double min, double max) {
    if (!j.is_number())
        return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be a number, not {}", key, j.dump()));
    const double v = j.get<double>();
    if (v < min || v > max) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("\"{}\" must be between {} and {}, not {}", key, min, max, v));
    }
    return v;
}

util::Result<std::string> String(const json& j, std::string_view key) {
    if (!j.is_string())
        return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be a string, not {}", key, j.dump()));
    return j.get<std::string>();
}

util::Result<Kind> KindOf(const json& j, std::string_view key) {
    auto s = String(j, key);
    if (!s) return tl::unexpected(s.error());
    if (auto k = ParseKind(*s)) return *k;
    std::string list;
    for (Kind k : kAllKinds)
        list += (list.empty() ? "" : ", ") + std::string(ToString(k));
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("\"{}\": unknown lifecycle kind \"{}\" (one of: {})", key, *s, list));
}

util::Result<bool> Bool(const json& j, std::string_view key) {
    if (!j.is_boolean())
        return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be true or false, not {}", key, j.dump()));
    return j.get<bool>();
}

/// One of `names` (a string), as its index.
util::Result<std::size_t> Choice(const json& j, std::string_view key, std::span<const std::string_view> names) {
    std::string list;
    for (auto n : names)
        list += (list.empty() ? "\"" : ", \"") + std::string(n) + "\"";
    if (j.is_string()) {
        std::size_t index = 0;
        for (auto n : names) {
            if (n == j.get_ref<const std::string&>()) return index;
            ++index;
        }
    }
    return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be one of {}, not {}", key, list, j.dump()));
}

constexpr std::string_view kHeaderWindows[] = {"hour", "second"};
constexpr std::string_view kResetFormats[] = {"epochSeconds", "epochMillis", "secondsFromNow", "rfc3339"};
constexpr std::string_view kAliasCosts[] = {"request", "rootField"};
constexpr std::string_view kLogPages[] = {"head", "tail"};
constexpr std::string_view kLogSeverities[] = {"always", "sometimes", "never"};
constexpr std::string_view kSiblingErrors[] = {"first", "all"};
constexpr std::string_view kRootFieldRefusals[] = {"complexity", "payloadTooLarge", "noPath", "serverError", "timeout"};
constexpr std::string_view kLargePages[] = {"clamp", "refuse"};
constexpr std::string_view kDeploymentOrders[] = {"newestFirst", "oldestFirst"};
constexpr std::string_view kUpdatedAtModes[] = {"status", "logs"};

template <typename Enum>
std::string_view NameOf(Enum value, std::span<const std::string_view> names) {
    return names[static_cast<std::size_t>(value)];
}

util::Result<LogConfig> ApplyLogs(const json& j, LogConfig l) {
    if (auto r = CheckKeys(j, "logs", {"pageWithStartDate", "extraLine", "severity"}); !r)
        return tl::unexpected(r.error());
    if (j.contains("pageWithStartDate")) {
        auto c = Choice(j["pageWithStartDate"], "pageWithStartDate", kLogPages);
        if (!c) return tl::unexpected(c.error());
        l.page_with_start_date = static_cast<LogPage>(*c);
    }
    if (j.contains("extraLine")) {
        auto b = Bool(j["extraLine"], "extraLine");
        if (!b) return tl::unexpected(b.error());
        l.extra_line = *b;
    }
    if (j.contains("severity")) {
        auto c = Choice(j["severity"], "severity", kLogSeverities);
        if (!c) return tl::unexpected(c.error());
        l.severity = static_cast<LogSeverity>(*c);
    }
    return l;
}

util::Result<ErrorConfig> ApplyErrors(const json& j, ErrorConfig e) {
    if (auto r = CheckKeys(j, "errors",
                           {"unknownDeployment", "siblingErrors", "paths", "maxRootFields", "tooManyRootFields",
                            "maxPageSize", "largePage", "deploymentOrder", "updatedAt"});
        !r)
        return tl::unexpected(r.error());
    if (j.contains("unknownDeployment")) {
        auto c = Choice(j["unknownDeployment"], "unknownDeployment", kUnknownDeploymentMessages);
        if (!c) return tl::unexpected(c.error());
        e.unknown_deployment = std::string(kUnknownDeploymentMessages[*c]);
    }
    if (j.contains("siblingErrors")) {
        auto c = Choice(j["siblingErrors"], "siblingErrors", kSiblingErrors);
        if (!c) return tl::unexpected(c.error());
        e.sibling_errors = static_cast<graphql::SiblingErrors>(*c);
    }
    if (j.contains("paths")) {
        auto b = Bool(j["paths"], "paths");
        if (!b) return tl::unexpected(b.error());
        e.paths = *b;
    }
    if (j.contains("maxRootFields")) {
        auto n = Number(j["maxRootFields"], "maxRootFields", 0, 100000);
        if (!n) return tl::unexpected(n.error());
        e.max_root_fields = static_cast<int>(*n);
    }
    if (j.contains("tooManyRootFields")) {
        auto c = Choice(j["tooManyRootFields"], "tooManyRootFields", kRootFieldRefusals);
        if (!c) return tl::unexpected(c.error());
        e.too_many_root_fields = static_cast<RootFieldRefusal>(*c);
    }
    if (j.contains("maxPageSize")) {
        auto n = Number(j["maxPageSize"], "maxPageSize", 0, 100000);
        if (!n) return tl::unexpected(n.error());
        e.max_page_size = static_cast<int>(*n);
    }
    if (j.contains("largePage")) {
        auto c = Choice(j["largePage"], "largePage", kLargePages);
        if (!c) return tl::unexpected(c.error());
        e.large_page = static_cast<LargePage>(*c);
    }
    if (j.contains("deploymentOrder")) {
        auto c = Choice(j["deploymentOrder"], "deploymentOrder", kDeploymentOrders);
        if (!c) return tl::unexpected(c.error());
        e.deployment_order = static_cast<DeploymentOrder>(*c);
    }
    if (j.contains("updatedAt")) {
        auto c = Choice(j["updatedAt"], "updatedAt", kUpdatedAtModes);
        if (!c) return tl::unexpected(c.error());
        e.updated_at = static_cast<UpdatedAtFollows>(*c);
    }
    return e;
}

util::Result<Durations> ApplyDurations(const json& j, Durations d) {
    if (auto r = CheckKeys(j, "durations",
                           {"queuedSeconds", "queuedFraction", "waitingSeconds", "initializingSeconds",
                            "buildingSeconds", "deployingSeconds", "healthcheckTimeoutSeconds", "crashAfterSeconds",
                            "crashLoopUptimeSeconds", "restartDelaySeconds", "crashLoopRestarts", "sleepAfterSeconds",
                            "removeAfterSeconds", "removingSeconds", "jitter"});
        !r)
        return tl::unexpected(r.error());
    if (j.contains("queuedFraction")) {
        auto v = Number(j["queuedFraction"], "queuedFraction", 0, 1);
        if (!v) return tl::unexpected(v.error());
        d.queued_fraction = *v;
    }
    const std::pair<const char*, double*> fields[] = {
        {"queuedSeconds", &d.queued_s},
        {"waitingSeconds", &d.waiting_s},
        {"initializingSeconds", &d.initializing_s},
        {"buildingSeconds", &d.building_s},
        {"deployingSeconds", &d.deploying_s},
        {"healthcheckTimeoutSeconds", &d.healthcheck_timeout_s},
        {"crashAfterSeconds", &d.crash_after_s},
        {"crashLoopUptimeSeconds", &d.crash_loop_uptime_s},
        {"restartDelaySeconds", &d.restart_delay_s},
        {"sleepAfterSeconds", &d.sleep_after_s},
        {"removeAfterSeconds", &d.remove_after_s},
        {"removingSeconds", &d.removing_s},
    };
    for (const auto& [key, target] : fields) {
        if (!j.contains(key)) continue;
        auto v = Number(j[key], key, 0, 86400 * 30);
        if (!v) return tl::unexpected(v.error());
        *target = *v;
    }
    if (j.contains("jitter")) {
        auto v = Number(j["jitter"], "jitter", 0, 0.9);
        if (!v) return tl::unexpected(v.error());
        d.jitter = *v;
    }
    if (j.contains("crashLoopRestarts")) {
        auto v = Number(j["crashLoopRestarts"], "crashLoopRestarts", 0, 100);
        if (!v) return tl::unexpected(v.error());
        d.crash_loop_restarts = static_cast<int>(*v);
    }
    return d;
}

}  // namespace

std::string_view ToString(HealthMode mode) {
    switch (mode) {
        case HealthMode::kHealthy:
            return "healthy";
        case HealthMode::kSlow:
            return "slow";
        case HealthMode::kFailing:
            return "failing";
    }
    return "healthy";
}

std::optional<HealthMode> ParseHealthMode(std::string_view text) {
    for (HealthMode m : {HealthMode::kHealthy, HealthMode::kSlow, HealthMode::kFailing})
        if (ToString(m) == text) return m;
    return std::nullopt;
}

util::Result<CreateSpec> ParseCreateSpec(const json& j) {
    if (auto r = CheckKeys(
            j, "deployment spec",
            {"count", "kind", "mix", "reason", "serviceId", "serviceName", "environmentId", "health", "redeployKind"});
        !r)
        return tl::unexpected(r.error());
    CreateSpec spec;
    if (j.contains("count")) {
        auto v = Number(j["count"], "count", 1, 1'000'000);
        if (!v) return tl::unexpected(v.error());
        spec.count = static_cast<int>(*v);
    }
    if (j.contains("kind") && j.contains("mix"))
        return Fail(ErrorCode::kInvalidArgument, "give either \"kind\" or \"mix\", not both");
    if (j.contains("kind")) {
        auto k = KindOf(j["kind"], "kind");
        if (!k) return tl::unexpected(k.error());
        spec.kind = *k;
    }
    if (j.contains("mix")) {
        if (!j["mix"].is_object() || j["mix"].empty()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "\"mix\" must be an object of kind → weight, e.g. {\"success\": 8}");
        }
        double total = 0;
        for (const auto& [name, weight] : j["mix"].items()) {
            auto k = KindOf(json(name), "mix");
            if (!k) return tl::unexpected(k.error());
            auto w = Number(weight, "mix." + name, 0, 1e9);
            if (!w) return tl::unexpected(w.error());
            total += *w;
            spec.mix.emplace_back(*k, *w);
        }
        if (total <= 0) return Fail(ErrorCode::kInvalidArgument, "\"mix\" weights must not all be 0");
    }
    if (j.contains("reason")) {
        auto s = String(j["reason"], "reason");
        if (!s) return tl::unexpected(s.error());
        auto r = ParseReason(*s);
        if (!r) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("\"reason\": unknown failure reason \"{}\" (one of: missing_env, oom, healthcheck, "
                                    "etimedout, npm_elifecycle)",
                                    *s));
        }
        spec.reason = *r;
    }
    for (const auto& [key, target] : {std::pair<const char*, std::string*>{"serviceId", &spec.service_id},
                                      {"serviceName", &spec.service_name},
                                      {"environmentId", &spec.environment_id}}) {
        if (!j.contains(key)) continue;
        auto s = String(j[key], key);
        if (!s) return tl::unexpected(s.error());
        if (s->empty() || s->size() > 128)
            return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be 1 to 128 characters", key));
        *target = *s;
    }
    if (j.contains("health")) {
        auto s = String(j["health"], "health");
        if (!s) return tl::unexpected(s.error());
        auto m = ParseHealthMode(*s);
        if (!m) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("\"health\": unknown mode \"{}\" (one of: healthy, slow, failing)", *s));
        }
        spec.health = *m;
    }
    if (j.contains("redeployKind")) {
        auto k = KindOf(j["redeployKind"], "redeployKind");
        if (!k) return tl::unexpected(k.error());
        spec.redeploy_kind = *k;
    }
    return spec;
}

util::Result<FaultConfig> ApplyFaults(const json& j, FaultConfig f) {
    if (auto r = CheckKeys(
            j, "faults",
            {"http500", "http503", "hang", "reset", "malformedJson", "html403", "latency", "latencyMs", "hangMs"});
        !r)
        return tl::unexpected(r.error());
    const std::pair<const char*, double*> fractions[] = {
        {"http500", &f.http500},
        {"http503", &f.http503},
        {"hang", &f.hang},
        {"reset", &f.reset},
        {"malformedJson", &f.malformed_json},
        {"html403", &f.html403},
        {"latency", &f.latency},
    };
    for (const auto& [key, target] : fractions) {
        if (!j.contains(key)) continue;
        auto v = Number(j[key], key, 0, 1);
        if (!v) return tl::unexpected(v.error());
        *target = *v;
    }
    for (const auto& [key, target] :
         {std::pair<const char*, int*>{"latencyMs", &f.latency_ms}, {"hangMs", &f.hang_ms}}) {
        if (!j.contains(key)) continue;
        auto v = Number(j[key], key, 0, 600000);
        if (!v) return tl::unexpected(v.error());
        *target = static_cast<int>(*v);
    }
    const double exclusive = f.http500 + f.http503 + f.hang + f.reset + f.malformed_json + f.html403;
    if (exclusive > 1.0 + 1e-9) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("fault fractions (all but latency) add up to {:.3f}; they must be at most 1", exclusive));
    }
    return f;
}

util::Result<RateLimitConfig> ApplyRateLimit(const json& j, RateLimitConfig r) {
    if (auto c =
            CheckKeys(j, "rateLimit", {"rps", "rph", "edgeRps", "headerWindow", "resetFormat", "policyHeader", "cost"});
        !c)
        return tl::unexpected(c.error());
    for (const auto& [key, target] :
         {std::pair<const char*, int*>{"rps", &r.rps}, {"rph", &r.rph}, {"edgeRps", &r.edge_rps}}) {
        if (!j.contains(key)) continue;
        auto v = Number(j[key], key, 0, 1e9);
        if (!v) return tl::unexpected(v.error());
        *target = static_cast<int>(*v);
    }
    if (j.contains("headerWindow")) {
        auto c = Choice(j["headerWindow"], "headerWindow", kHeaderWindows);
        if (!c) return tl::unexpected(c.error());
        r.header_window = static_cast<HeaderWindow>(*c);
    }
    if (j.contains("resetFormat")) {
        auto c = Choice(j["resetFormat"], "resetFormat", kResetFormats);
        if (!c) return tl::unexpected(c.error());
        r.reset_format = static_cast<ResetFormat>(*c);
    }
    if (j.contains("policyHeader")) {
        auto b = Bool(j["policyHeader"], "policyHeader");
        if (!b) return tl::unexpected(b.error());
        r.policy_header = *b;
    }
    if (j.contains("cost")) {
        auto c = Choice(j["cost"], "cost", kAliasCosts);
        if (!c) return tl::unexpected(c.error());
        r.cost = static_cast<AliasCost>(*c);
    }
    return r;
}

util::Result<SimConfig> ApplyRuntimeSettings(const json& j, SimConfig cfg) {
    if (!j.is_object()) return Fail(ErrorCode::kInvalidArgument, "the settings must be a JSON object");
    if (j.contains("faults")) {
        auto f = ApplyFaults(j["faults"], cfg.faults);
        if (!f) return tl::unexpected(f.error());
        cfg.faults = *f;
    }
    if (j.contains("rateLimit")) {
        auto r = ApplyRateLimit(j["rateLimit"], cfg.rate_limit);
        if (!r) return tl::unexpected(r.error());
        cfg.rate_limit = *r;
    }
    if (j.contains("timeScale")) {
        auto v = Number(j["timeScale"], "timeScale", 0.001, 1e6);
        if (!v) return tl::unexpected(v.error());
        cfg.time_scale = *v;
    }
    if (j.contains("incident")) {
        if (j["incident"].is_null()) {
            cfg.incident.reset();
        } else {
            auto s = String(j["incident"], "incident");
            if (!s) return tl::unexpected(s.error());
            cfg.incident = *s;
        }
    }
    if (j.contains("logs")) {
        auto l = ApplyLogs(j["logs"], cfg.logs);
        if (!l) return tl::unexpected(l.error());
        cfg.logs = *l;
    }
    if (j.contains("errors")) {
        auto e = ApplyErrors(j["errors"], cfg.errors);
        if (!e) return tl::unexpected(e.error());
        cfg.errors = *e;
    }
    if (j.contains("webhookUrl")) {
        if (j["webhookUrl"].is_null()) {
            cfg.webhook.url.clear();
        } else {
            auto s = String(j["webhookUrl"], "webhookUrl");
            if (!s) return tl::unexpected(s.error());
            if (!s->empty() && s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
                return Fail(ErrorCode::kInvalidArgument,
                            "\"webhookUrl\" must start with http:// or https:// (or be null or \"\" to turn webhooks "
                            "off)");
            }
            cfg.webhook.url = *s;
        }
    }
    if (j.contains("webhookSecret")) {
        if (j["webhookSecret"].is_null()) {
            cfg.webhook.secret.clear();
        } else {
            auto s = String(j["webhookSecret"], "webhookSecret");
            if (!s) return tl::unexpected(s.error());
            cfg.webhook.secret = *s;
        }
    }
    if (j.contains("webhookSecretHeader")) {
        auto s = String(j["webhookSecretHeader"], "webhookSecretHeader");
        if (!s) return tl::unexpected(s.error());
        const bool token_chars = !s->empty() && std::all_of(s->begin(), s->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
        });
        if (!token_chars) {
            return Fail(ErrorCode::kInvalidArgument,
                        "\"webhookSecretHeader\" must be a header name (letters, digits, '-' and '_')");
        }
        cfg.webhook.secret_header = *s;
    }
    if (j.contains("slowHealthMs")) {
        auto v = Number(j["slowHealthMs"], "slowHealthMs", 0, 600000);
        if (!v) return tl::unexpected(v.error());
        cfg.slow_health_ms = static_cast<int>(*v);
    }
    return cfg;
}

json RuntimeSettingsJson(const SimConfig& c) {
    const json faults = {{"http500", c.faults.http500},
                         {"http503", c.faults.http503},
                         {"hang", c.faults.hang},
                         {"reset", c.faults.reset},
                         {"malformedJson", c.faults.malformed_json},
                         {"html403", c.faults.html403},
                         {"latency", c.faults.latency},
                         {"latencyMs", c.faults.latency_ms},
                         {"hangMs", c.faults.hang_ms}};
    const json rate_limit = {{"rps", c.rate_limit.rps},
                             {"rph", c.rate_limit.rph},
                             {"edgeRps", c.rate_limit.edge_rps},
                             {"headerWindow", NameOf(c.rate_limit.header_window, kHeaderWindows)},
                             {"resetFormat", NameOf(c.rate_limit.reset_format, kResetFormats)},
                             {"policyHeader", c.rate_limit.policy_header},
                             {"cost", NameOf(c.rate_limit.cost, kAliasCosts)}};
    const json logs = {{"pageWithStartDate", NameOf(c.logs.page_with_start_date, kLogPages)},
                       {"extraLine", c.logs.extra_line},
                       {"severity", NameOf(c.logs.severity, kLogSeverities)}};
    const json errors = {{"unknownDeployment", c.errors.unknown_deployment},
                         {"siblingErrors", NameOf(c.errors.sibling_errors, kSiblingErrors)},
                         {"paths", c.errors.paths},
                         {"maxRootFields", c.errors.max_root_fields},
                         {"tooManyRootFields", NameOf(c.errors.too_many_root_fields, kRootFieldRefusals)},
                         {"maxPageSize", c.errors.max_page_size},
                         {"largePage", NameOf(c.errors.large_page, kLargePages)},
                         {"deploymentOrder", NameOf(c.errors.deployment_order, kDeploymentOrders)},
                         {"updatedAt", NameOf(c.errors.updated_at, kUpdatedAtModes)}};
    return json{{"faults", faults},
                {"rateLimit", rate_limit},
                {"timeScale", c.time_scale},
                {"incident", c.incident ? json(*c.incident) : json(nullptr)},
                {"logs", logs},
                {"errors", errors},
                {"webhookUrl", c.webhook.url.empty() ? json(nullptr) : json(c.webhook.url)},
                {"webhookSecret", c.webhook.secret.empty() ? json(nullptr) : json("***")},
                {"webhookSecretHeader", c.webhook.secret_header},
                {"slowHealthMs", c.slow_health_ms}};
}

util::Result<SimConfig> ParseScenario(std::string_view json_text) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const json::parse_error& e) {
        return Fail(ErrorCode::kParse, fmt::format("the scenario is not valid JSON: {}", e.what()));
    }
    if (auto r = CheckKeys(j, "scenario",
                           {"description",
                            "seed",
                            "timeScale",
                            "accountToken",
                            "workspaceToken",
                            "projectToken",
                            "projectTokenEnvironmentId",
                            "durations",
                            "rateLimit",
                            "faults",
                            "logs",
                            "errors",
                            "webhookUrl",
                            "webhookSecret",
                            "webhookSecretHeader",
                            "slowHealthMs",
                            "plan",
                            "usage",
                            "incident",
                            "deployments"});
        !r)
        return tl::unexpected(r.error());
    SimConfig cfg;
    {
        auto runtime = ApplyRuntimeSettings(j, cfg);
        if (!runtime) return tl::unexpected(runtime.error());
        cfg = std::move(*runtime);
    }
    if (j.contains("seed")) {
        if (!j["seed"].is_number_unsigned())
            return Fail(ErrorCode::kInvalidArgument, "\"seed\" must be a non-negative integer");
        cfg.seed = j["seed"].get<std::uint64_t>();
    }
    for (const auto& [key, target] : {std::pair<const char*, std::string*>{"accountToken", &cfg.account_token},
                                      {"workspaceToken", &cfg.workspace_token},
                                      {"projectToken", &cfg.project_token},
                                      {"projectTokenEnvironmentId", &cfg.project_token_environment_id}}) {
        if (!j.contains(key)) continue;
        auto s = String(j[key], key);
        if (!s) return tl::unexpected(s.error());
        if (s->empty()) return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must not be empty", key));
        *target = *s;
    }
    if (j.contains("durations")) {
        auto d = ApplyDurations(j["durations"], cfg.durations);
        if (!d) return tl::unexpected(d.error());
        cfg.durations = *d;
    }
    if (j.contains("plan")) {
        auto s = String(j["plan"], "plan");
        if (!s) return tl::unexpected(s.error());
        if (*s != "FREE" && *s != "HOBBY" && *s != "PRO")
            return Fail(ErrorCode::kInvalidArgument, "\"plan\" must be FREE, HOBBY or PRO");
        cfg.plan = *s;
    }
    if (j.contains("usage")) {
        const json& u = j["usage"];
        if (auto r = CheckKeys(u, "usage", {"currentUsage", "softLimit", "hardLimit"}); !r)
            return tl::unexpected(r.error());
        if (u.contains("currentUsage")) {
            auto v = Number(u["currentUsage"], "currentUsage", 0, 1e9);
            if (!v) return tl::unexpected(v.error());
            cfg.current_usage = *v;
        }
        if (u.contains("softLimit")) {
            auto v = Number(u["softLimit"], "softLimit", 0, 1e9);
            if (!v) return tl::unexpected(v.error());
            cfg.usage_soft_limit = static_cast<int>(*v);
        }
        if (u.contains("hardLimit")) {
            if (u["hardLimit"].is_null()) {
                cfg.usage_hard_limit.reset();
            } else {
                auto v = Number(u["hardLimit"], "hardLimit", 0, 1e9);
                if (!v) return tl::unexpected(v.error());
                cfg.usage_hard_limit = static_cast<int>(*v);
            }
        }
    }
    if (j.contains("deployments")) {
        if (!j["deployments"].is_array())
            return Fail(ErrorCode::kInvalidArgument, "\"deployments\" must be an array of deployment specs");
        int index = 0;
        for (const auto& item : j["deployments"]) {
            auto spec = ParseCreateSpec(item);
            if (!spec) {
                return Fail(ErrorCode::kInvalidArgument,
                            fmt::format("deployments[{}]: {}", index, spec.error().message));
            }
            cfg.deployments.push_back(std::move(*spec));
            ++index;
        }
    }
    return cfg;
}

util::Result<SimConfig> LoadScenarioFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Fail(ErrorCode::kIo, fmt::format("cannot read scenario file {}: check the path", path));
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto cfg = ParseScenario(buffer.str());
    if (!cfg) return Fail(cfg.error().code, fmt::format("scenario {}: {}", path, cfg.error().message));
    return cfg;
}

}  // namespace railwatch::sim
