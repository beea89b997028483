#include "sim/config.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>
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
    if (v < min || v > max)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("\"{}\" must be between {} and {}, not {}", key, min, max, v));
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

util::Result<Durations> ApplyDurations(const json& j, Durations d) {
    if (auto r = CheckKeys(
            j, "durations",
            {"queuedSeconds", "waitingSeconds", "initializingSeconds", "buildingSeconds", "deployingSeconds",
             "healthcheckTimeoutSeconds", "crashAfterSeconds", "crashLoopUptimeSeconds", "restartDelaySeconds",
             "crashLoopRestarts", "sleepAfterSeconds", "removeAfterSeconds", "removingSeconds", "jitter"});
        !r)
        return tl::unexpected(r.error());
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
        if (!j["mix"].is_object() || j["mix"].empty())
            return Fail(ErrorCode::kInvalidArgument,
                        "\"mix\" must be an object of kind → weight, e.g. {\"success\": 8}");
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
        if (!r)
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("\"reason\": unknown failure reason \"{}\" (one of: missing_env, oom, healthcheck, "
                                    "etimedout, npm_elifecycle)",
                                    *s));
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
        if (!m)
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("\"health\": unknown mode \"{}\" (one of: healthy, slow, failing)", *s));
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
    if (exclusive > 1.0 + 1e-9)
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("fault fractions (all but latency) add up to {:.3f}; they must be at most 1", exclusive));
    return f;
}

util::Result<RateLimitConfig> ApplyRateLimit(const json& j, RateLimitConfig r) {
    if (auto c = CheckKeys(j, "rateLimit", {"rps", "rph", "edgeRps"}); !c) return tl::unexpected(c.error());
    for (const auto& [key, target] :
         {std::pair<const char*, int*>{"rps", &r.rps}, {"rph", &r.rph}, {"edgeRps", &r.edge_rps}}) {
        if (!j.contains(key)) continue;
        auto v = Number(j[key], key, 0, 1e9);
        if (!v) return tl::unexpected(v.error());
        *target = static_cast<int>(*v);
    }
    return r;
}

util::Result<SimConfig> ParseScenario(std::string_view json_text) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const json::parse_error& e) {
        return Fail(ErrorCode::kParse, fmt::format("the scenario is not valid JSON: {}", e.what()));
    }
    if (auto r = CheckKeys(j, "scenario",
                           {"description", "seed", "timeScale", "accountToken", "projectToken", "durations",
                            "rateLimit", "faults", "slowHealthMs", "plan", "usage", "incident", "deployments"});
        !r)
        return tl::unexpected(r.error());
    SimConfig cfg;
    if (j.contains("seed")) {
        if (!j["seed"].is_number_unsigned())
            return Fail(ErrorCode::kInvalidArgument, "\"seed\" must be a non-negative integer");
        cfg.seed = j["seed"].get<std::uint64_t>();
    }
    if (j.contains("timeScale")) {
        auto v = Number(j["timeScale"], "timeScale", 0.001, 1e6);
        if (!v) return tl::unexpected(v.error());
        cfg.time_scale = *v;
    }
    for (const auto& [key, target] : {std::pair<const char*, std::string*>{"accountToken", &cfg.account_token},
                                      {"projectToken", &cfg.project_token}}) {
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
    if (j.contains("rateLimit")) {
        auto r = ApplyRateLimit(j["rateLimit"], cfg.rate_limit);
        if (!r) return tl::unexpected(r.error());
        cfg.rate_limit = *r;
    }
    if (j.contains("faults")) {
        auto f = ApplyFaults(j["faults"], cfg.faults);
        if (!f) return tl::unexpected(f.error());
        cfg.faults = *f;
    }
    if (j.contains("slowHealthMs")) {
        auto v = Number(j["slowHealthMs"], "slowHealthMs", 0, 600000);
        if (!v) return tl::unexpected(v.error());
        cfg.slow_health_ms = static_cast<int>(*v);
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
    if (j.contains("incident") && !j["incident"].is_null()) {
        auto s = String(j["incident"], "incident");
        if (!s) return tl::unexpected(s.error());
        cfg.incident = *s;
    }
    if (j.contains("deployments")) {
        if (!j["deployments"].is_array())
            return Fail(ErrorCode::kInvalidArgument, "\"deployments\" must be an array of deployment specs");
        int index = 0;
        for (const auto& item : j["deployments"]) {
            auto spec = ParseCreateSpec(item);
            if (!spec)
                return Fail(ErrorCode::kInvalidArgument,
                            fmt::format("deployments[{}]: {}", index, spec.error().message));
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
