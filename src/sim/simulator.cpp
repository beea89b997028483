#include "sim/simulator.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <cstdlib>
#include <stdexcept>

#include "sim/graphql/json_writer.hpp"
#include "sim/graphql/parser.hpp"
#include "sim/graphql/validator.hpp"
#include "sim/resolvers.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using net::ServerRequest;
using net::ServerResponse;

constexpr std::string_view kCloudflareHtml = R"HTML(<!DOCTYPE html>
<html class="no-js" lang="en-US">
<head>
<title>Access denied | backboard.railway.com used Cloudflare to restrict access</title>
<meta charset="UTF-8" />
</head>
<body>
<div id="cf-wrapper">
<h1 data-translate="block_headline">Sorry, you have been blocked</h1>
<h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to access</span> backboard.railway.com</h2>
<p>Error 1015: You are being rate limited. The owner of this website (backboard.railway.com) has banned you temporarily from accessing this website.</p>
<span class="cf-footer-item">Performance &amp; security by Cloudflare</span>
</div>
</body>
</html>
)HTML";

ServerResponse JsonResponse(int status, std::string body) {
    ServerResponse res;
    res.status = status;
    res.body = std::move(body);
    res.content_type = "application/json; charset=utf-8";
    return res;
}

ServerResponse ControlError(int status, std::string_view code, std::string_view message) {
    return JsonResponse(status, json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

std::string GraphqlErrorBody(std::string message, std::string code) {
    return graphql::ErrorsBody({graphql::GraphqlError{std::move(message), {}, {}, std::move(code)}});
}

std::string_view StatusName(core::DeploymentStatus s) {
    return core::ToString(s);
}

std::vector<std::string> SplitIds(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::string_view part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        if (!part.empty()) out.emplace_back(part);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

const graphql::Schema& SimulatorSchema() {
    static const graphql::Schema schema = [] {
        auto parsed = graphql::Schema::FromSdl(graphql::RailwaySubsetSdl());
        if (!parsed) throw std::logic_error("the simulator's built-in schema is invalid: " + parsed.error());
        return std::move(*parsed);
    }();
    return schema;
}

Simulator::Simulator(SimConfig config, const util::Clock& clock)
    : clock_(clock),
      schema_(SimulatorSchema()),
      executor_(schema_),
      initial_config_(config),
      config_(std::move(config)),
      world_(std::make_unique<World>(config_.seed, config_.durations, config_.time_scale)),
      fault_rng_(config_.seed ^ 0xFA017ULL) {}

util::Result<void> Simulator::CreateScenarioDeployments() {
    std::unique_lock lock(state_mutex_);
    const core::Timestamp now = clock_.Now();
    for (const auto& spec : config_.deployments) {
        auto ids = world_->Create(spec, now);
        if (!ids) return tl::unexpected(ids.error());
    }
    return util::Ok();
}

void Simulator::Stop() {
    stop_.Stop();
}

void Simulator::SetHealthBaseUrl(std::string url) {
    std::unique_lock lock(state_mutex_);
    health_base_url_ = std::move(url);
}

void Simulator::Count(const std::function<void(Counters&)>& update) const {
    std::lock_guard lock(counters_mutex_);
    update(counters_);
}

Simulator::Fault Simulator::DrawFault(bool& add_latency, FaultConfig& faults) {
    {
        std::shared_lock lock(state_mutex_);
        faults = config_.faults;
    }
    std::lock_guard lock(fault_mutex_);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    add_latency = faults.latency > 0 && uniform(fault_rng_) < faults.latency;
    const double u = uniform(fault_rng_);
    double acc = 0;
    const std::pair<double, Fault> table[] = {
        {faults.http500, Fault::kHttp500},
        {faults.http503, Fault::kHttp503},
        {faults.hang, Fault::kHang},
        {faults.reset, Fault::kReset},
        {faults.malformed_json, Fault::kMalformedJson},
        {faults.html403, Fault::kHtml403},
    };
    for (const auto& [fraction, fault] : table) {
        acc += fraction;
        if (fraction > 0 && u < acc) return fault;
    }
    return Fault::kNone;
}

ServerResponse Simulator::HandleGraphql(const ServerRequest& req) {
    bool add_latency = false;
    FaultConfig faults;
    const Fault fault = DrawFault(add_latency, faults);
    Count([](Counters& c) { ++c.total; });
    if (add_latency) {
        Count([](Counters& c) { ++c.latency_injected; });
        clock_.WaitFor(core::Millis(faults.latency_ms), stop_);
    }
    ServerResponse res;
    switch (fault) {
        case Fault::kHttp500:
            Count([](Counters& c) { ++c.faults["http500"]; });
            res = JsonResponse(500, GraphqlErrorBody("Internal Server Error", graphql::kInternalServerError));
            break;
        case Fault::kHttp503:
            Count([](Counters& c) { ++c.faults["http503"]; });
            res.status = 503;
            res.content_type = "text/plain";
            res.body = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
            break;
        case Fault::kHang:
            Count([](Counters& c) { ++c.faults["hang"]; });
            clock_.WaitFor(core::Millis(faults.hang_ms), stop_);
            res.action = ServerResponse::Action::kResetConnection;
            break;
        case Fault::kReset:
            Count([](Counters& c) { ++c.faults["reset"]; });
            res.action = ServerResponse::Action::kResetConnection;
            break;
        case Fault::kHtml403:
            Count([](Counters& c) { ++c.faults["html403"]; });
            res.status = 403;
            res.content_type = "text/html; charset=UTF-8";
            res.body = std::string(kCloudflareHtml);
            break;
        case Fault::kNone:
        case Fault::kMalformedJson:
            res = Graphql(req, fault, clock_.Now());
            break;
    }
    if (res.action == ServerResponse::Action::kRespond) {
        const int status = res.status;
        Count([status](Counters& c) { ++c.by_status[status]; });
    }
    return res;
}

ServerResponse Simulator::Graphql(const ServerRequest& req, Fault fault, core::Timestamp now) {
    RateLimitConfig limits;
    std::string account_token;
    std::string project_token;
    {
        std::shared_lock lock(state_mutex_);
        limits = config_.rate_limit;
        account_token = config_.account_token;
        project_token = config_.project_token;
    }

    // Railway's edge limits traffic without a query string harder, with an HTML page.
    if (!req.has_query && limits.edge_rps > 0) {
        const auto edge = limiter_.Acquire("edge:" + req.remote_addr, now, limits.edge_rps, 0);
        if (!edge.allowed) {
            Count([](Counters& c) { ++c.edge_blocked; });
            ServerResponse res;
            res.status = 403;
            res.content_type = "text/html; charset=UTF-8";
            res.body = std::string(kCloudflareHtml);
            return res;
        }
    }

    // Rate limits per token.
    const auto project_header = req.Header("Project-Access-Token");
    const auto auth_header = req.Header("Authorization");
    std::string bearer;
    if (auth_header && auth_header->size() > 7 && ::strncasecmp(auth_header->data(), "Bearer ", 7) == 0)
        bearer = std::string(auth_header->substr(7));
    const std::string key = project_header    ? "project:" + std::string(*project_header)
                            : !bearer.empty() ? "bearer:" + bearer
                                              : "anonymous:" + req.remote_addr;
    const RateLimiter::Decision budget = limiter_.Acquire(key, now, limits.rps, limits.rph);
    auto with_limit_headers = [&budget](ServerResponse res) {
        res.SetHeader("X-RateLimit-Limit", std::to_string(budget.limit));
        res.SetHeader("X-RateLimit-Remaining", std::to_string(budget.remaining));
        res.SetHeader("X-RateLimit-Reset", std::to_string(budget.reset_epoch_s));
        return res;
    };
    if (!budget.allowed) {
        Count([](Counters& c) { ++c.rate_limited; });
        ServerResponse res = JsonResponse(
            429, GraphqlErrorBody("You have exceeded the rate limit. Please retry after the time in Retry-After.",
                                  "RATE_LIMITED"));
        res.SetHeader("Retry-After", std::to_string(budget.retry_after_s));
        return with_limit_headers(std::move(res));
    }

    // The body: {"query", "variables"?, "operationName"?}.
    json body;
    try {
        body = json::parse(req.body);
    } catch (const json::parse_error&) {
        Count([](Counters& c) { ++c.parse_errors; });
        return with_limit_headers(JsonResponse(
            400, GraphqlErrorBody("POST body is not valid JSON: send {\"query\": \"...\", \"variables\": {...}}",
                                  "BAD_REQUEST")));
    }
    if (!body.is_object() || !body.contains("query") || !body["query"].is_string() ||
        body["query"].get_ref<const std::string&>().empty()) {
        Count([](Counters& c) { ++c.parse_errors; });
        return with_limit_headers(JsonResponse(
            400,
            GraphqlErrorBody("GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.",
                             "BAD_REQUEST")));
    }
    const json variables =
        body.contains("variables") && body["variables"].is_object() ? body["variables"] : json::object();
    if (body.contains("variables") && !body["variables"].is_null() && !body["variables"].is_object()) {
        return with_limit_headers(
            JsonResponse(400, GraphqlErrorBody("`variables` must be a JSON object", "BAD_REQUEST")));
    }
    std::string operation_name;
    if (body.contains("operationName") && body["operationName"].is_string())
        operation_name = body["operationName"].get<std::string>();

    auto document = graphql::ParseDocument(body["query"].get_ref<const std::string&>());
    if (!document) {
        Count([](Counters& c) { ++c.parse_errors; });
        return with_limit_headers(JsonResponse(400, graphql::ErrorsBody({document.error()})));
    }
    auto errors = graphql::Validate(schema_, *document);
    if (!errors.empty()) {
        Count([](Counters& c) { ++c.validation_errors; });
        return with_limit_headers(JsonResponse(400, graphql::ErrorsBody(errors)));
    }

    // Authentication (after validation, as Railway's resolvers check it).
    AuthKind auth = AuthKind::kAccount;
    if (project_header) {
        if (*project_header != project_token) {
            Count([](Counters& c) { ++c.auth_errors; });
            return with_limit_headers(JsonResponse(
                200, graphql::ErrorsBody({graphql::GraphqlError{"Project Token not found", {}, {}, ""}}, true)));
        }
        auth = AuthKind::kProject;
    } else if (bearer != account_token) {
        Count([](Counters& c) { ++c.auth_errors; });
        return with_limit_headers(
            JsonResponse(200, graphql::ErrorsBody({graphql::GraphqlError{"Not Authorized", {}, {}, ""}}, true)));
    }

    bool is_mutation = false;
    for (const auto& op : document->operations) {
        if ((operation_name.empty() || op.name == operation_name) && op.kind == graphql::OperationKind::kMutation)
            is_mutation = true;
    }
    std::map<std::string, std::uint64_t> root_counts;
    auto count_root = [&root_counts](std::string_view field) { ++root_counts[std::string(field)]; };
    graphql::ExecutionResult result;
    {
        std::shared_lock read_lock(state_mutex_, std::defer_lock);
        std::unique_lock write_lock(state_mutex_, std::defer_lock);
        if (is_mutation) {
            write_lock.lock();
        } else {
            read_lock.lock();
        }
        RequestContext ctx;
        ctx.world = world_.get();
        ctx.now = now;
        ctx.config = &config_;
        ctx.auth = auth;
        ctx.health_base_url = health_base_url_;
        ctx.remaining_points = budget.remaining;
        ctx.resets_at = core::Timestamp(std::chrono::seconds(budget.reset_epoch_s));
        const auto query_root = MakeQueryRoot(ctx);
        const auto mutation_root = MakeMutationRoot(ctx);
        result = executor_.Execute(*document, operation_name, variables, *query_root, *mutation_root, count_root);
    }
    Count([&root_counts](Counters& c) {
        for (const auto& [field, n] : root_counts)
            c.root_fields[field] += n;
    });
    if (fault == Fault::kMalformedJson) {
        Count([](Counters& c) { ++c.faults["malformedJson"]; });
        result.body.resize(result.body.size() / 2);
    }
    return with_limit_headers(JsonResponse(result.http_status, std::move(result.body)));
}

json Simulator::Stats() const {
    std::lock_guard lock(counters_mutex_);
    json root_fields = json::object();
    for (const auto& [k, v] : counters_.root_fields)
        root_fields[k] = v;
    json faults = json::object();
    for (const auto& [k, v] : counters_.faults)
        faults[k] = v;
    json by_status = json::object();
    for (const auto& [k, v] : counters_.by_status)
        by_status[std::to_string(k)] = v;
    return json{{"total", counters_.total},
                {"rootFields", root_fields},
                {"rateLimited", counters_.rate_limited},
                {"edgeBlocked", counters_.edge_blocked},
                {"parseErrors", counters_.parse_errors},
                {"validationErrors", counters_.validation_errors},
                {"authErrors", counters_.auth_errors},
                {"latencyInjected", counters_.latency_injected},
                {"faults", faults},
                {"byStatus", by_status}};
}

json Simulator::Truth(const std::vector<std::string>& ids) const {
    std::shared_lock lock(state_mutex_);
    const core::Timestamp now = clock_.Now();
    json list = json::array();
    json unknown = json::array();
    auto describe = [&](const SimDeployment& d) {
        json timeline = json::array();
        json planned = json::array();
        for (const auto& e : d.timeline) {
            json entry = {{"status", StatusName(e.status)}, {"at", util::FormatRfc3339(e.at)}};
            if (e.at <= now) timeline.push_back(entry);
            planned.push_back(std::move(entry));
        }
        const SimService& s = world_->ServiceOf(d);
        return json{{"id", d.id},
                    {"kind", ToString(d.kind)},
                    {"reason", d.reason == Reason::kNone ? json(nullptr) : json(ToString(d.reason))},
                    {"serviceId", s.id},
                    {"serviceName", s.name},
                    {"environmentId", d.environment_id},
                    {"health", ToString(s.health)},
                    {"currentStatus", StatusName(d.StatusAt(now))},
                    {"finalStatus", d.timeline.empty() ? "QUEUED" : StatusName(d.timeline.back().status)},
                    {"finalAt", d.timeline.empty() ? json(nullptr) : json(util::FormatRfc3339(d.timeline.back().at))},
                    {"timeline", std::move(timeline)},
                    {"plannedTimeline", std::move(planned)}};
    };
    if (ids.empty()) {
        for (const auto& d : world_->Deployments())
            list.push_back(describe(d));
    } else {
        for (const auto& id : ids) {
            if (const SimDeployment* d = world_->Find(id)) {
                list.push_back(describe(*d));
            } else {
                unknown.push_back(id);
            }
        }
    }
    return json{{"deployments", std::move(list)}, {"unknown", std::move(unknown)}, {"now", util::FormatRfc3339(now)}};
}

ServerResponse Simulator::ControlCreate(const ServerRequest& req) {
    json body;
    try {
        body = req.body.empty() ? json::object() : json::parse(req.body);
    } catch (const json::parse_error&) {
        return ControlError(400, "invalid_argument", "the body is not valid JSON");
    }
    auto spec = ParseCreateSpec(body);
    if (!spec) return ControlError(400, "invalid_argument", spec.error().message);
    std::unique_lock lock(state_mutex_);
    auto ids = world_->Create(*spec, clock_.Now());
    if (!ids) return ControlError(400, "invalid_argument", ids.error().message);
    return JsonResponse(201, json{{"ids", *ids}}.dump());
}

ServerResponse Simulator::ControlConfig(const ServerRequest& req) {
    json body;
    try {
        body = json::parse(req.body);
    } catch (const json::parse_error&) {
        return ControlError(400, "invalid_argument", "the body is not valid JSON");
    }
    if (!body.is_object()) return ControlError(400, "invalid_argument", "the body must be a JSON object");
    for (const auto& [key, value] : body.items()) {
        if (key != "faults" && key != "rateLimit" && key != "timeScale" && key != "incident")
            return ControlError(
                400, "invalid_argument",
                fmt::format("unknown key \"{}\" (allowed: faults, rateLimit, timeScale, incident)", key));
    }
    std::unique_lock lock(state_mutex_);
    SimConfig next = config_;
    if (body.contains("faults")) {
        auto f = ApplyFaults(body["faults"], next.faults);
        if (!f) return ControlError(400, "invalid_argument", f.error().message);
        next.faults = *f;
    }
    if (body.contains("rateLimit")) {
        auto r = ApplyRateLimit(body["rateLimit"], next.rate_limit);
        if (!r) return ControlError(400, "invalid_argument", r.error().message);
        next.rate_limit = *r;
    }
    if (body.contains("timeScale")) {
        if (!body["timeScale"].is_number() || body["timeScale"].get<double>() <= 0)
            return ControlError(400, "invalid_argument", "\"timeScale\" must be a positive number");
        next.time_scale = body["timeScale"].get<double>();
        world_->SetTimeScale(next.time_scale);
    }
    if (body.contains("incident")) {
        if (body["incident"].is_null()) {
            next.incident.reset();
        } else if (body["incident"].is_string()) {
            next.incident = body["incident"].get<std::string>();
        } else {
            return ControlError(400, "invalid_argument", "\"incident\" must be a string or null");
        }
    }
    config_ = std::move(next);
    const json faults = {{"http500", config_.faults.http500},
                         {"http503", config_.faults.http503},
                         {"hang", config_.faults.hang},
                         {"reset", config_.faults.reset},
                         {"malformedJson", config_.faults.malformed_json},
                         {"html403", config_.faults.html403},
                         {"latency", config_.faults.latency},
                         {"latencyMs", config_.faults.latency_ms},
                         {"hangMs", config_.faults.hang_ms}};
    return JsonResponse(200, json{{"faults", faults},
                                  {"rateLimit",
                                   {{"rps", config_.rate_limit.rps},
                                    {"rph", config_.rate_limit.rph},
                                    {"edgeRps", config_.rate_limit.edge_rps}}},
                                  {"timeScale", config_.time_scale}}
                                 .dump());
}

void Simulator::ResetState() {
    {
        std::unique_lock lock(state_mutex_);
        config_ = initial_config_;
        world_ = std::make_unique<World>(config_.seed, config_.durations, config_.time_scale);
        const core::Timestamp now = clock_.Now();
        for (const auto& spec : config_.deployments)
            (void)world_->Create(spec, now);
    }
    {
        std::lock_guard lock(fault_mutex_);
        fault_rng_.seed(initial_config_.seed ^ 0xFA017ULL);
    }
    limiter_.Reset();
    std::lock_guard lock(counters_mutex_);
    counters_ = Counters{};
}

ServerResponse Simulator::HandleControl(const ServerRequest& req) {
    const std::string& path = req.path;
    if (path == "/_sim/deployments" && req.method == "POST") return ControlCreate(req);
    if (path == "/_sim/truth" && req.method == "GET") {
        const auto ids = req.Param("id");
        return JsonResponse(200, Truth(ids ? SplitIds(*ids) : std::vector<std::string>{}).dump());
    }
    if (path == "/_sim/stats" && req.method == "GET") return JsonResponse(200, Stats().dump());
    if (path == "/_sim/config" && req.method == "POST") return ControlConfig(req);
    if (path == "/_sim/reset" && req.method == "POST") {
        ResetState();
        return JsonResponse(200, R"({"reset":true})");
    }
    if (path == "/_sim/health" && req.method == "POST") {
        json body;
        try {
            body = json::parse(req.body);
        } catch (const json::parse_error&) {
            return ControlError(400, "invalid_argument", "the body is not valid JSON");
        }
        if (!body.is_object() || !body.contains("serviceId") || !body["serviceId"].is_string() ||
            !body.contains("mode") || !body["mode"].is_string())
            return ControlError(400, "invalid_argument",
                                "send {\"serviceId\": \"…\", \"mode\": \"healthy|slow|failing\"}");
        const auto mode = ParseHealthMode(body["mode"].get<std::string>());
        if (!mode) return ControlError(400, "invalid_argument", "\"mode\" must be healthy, slow or failing");
        std::unique_lock lock(state_mutex_);
        auto r = world_->SetHealth(body["serviceId"].get<std::string>(), *mode);
        if (!r) return ControlError(404, "not_found", r.error().message);
        return JsonResponse(200, R"({"ok":true})");
    }
    return ControlError(404, "not_found",
                        "no such control call; see docs/SIMULATOR.md (POST /_sim/deployments, GET /_sim/truth, GET "
                        "/_sim/stats, POST /_sim/config, POST /_sim/reset, POST /_sim/health)");
}

ServerResponse Simulator::HandleHealth(const ServerRequest& req) {
    // Path: /s/<serviceId>[/anything]
    std::string_view rest = req.path;
    if (rest.rfind("/s/", 0) != 0) return ControlError(404, "not_found", "Application not found");
    rest.remove_prefix(3);
    const std::string service_id(rest.substr(0, rest.find('/')));
    HealthMode mode = HealthMode::kHealthy;
    int slow_ms = 0;
    std::string name;
    core::DeploymentStatus status = core::DeploymentStatus::kQueued;
    bool has_deployment = false;
    {
        std::shared_lock lock(state_mutex_);
        const SimService* s = world_->FindService(service_id);
        if (s == nullptr) {
            ServerResponse res;
            res.status = 404;
            res.content_type = "text/plain";
            res.body = "Application not found";
            return res;
        }
        mode = s->health;
        slow_ms = config_.slow_health_ms;
        name = s->name;
        if (const SimDeployment* d = world_->Latest(s->id, s->environment_id)) {
            has_deployment = true;
            status = d->StatusAt(clock_.Now());
            // A superseded deployment may be REMOVED while a newer one serves; look for any live one.
            for (std::size_t index : s->deployments) {
                const auto st = world_->Deployments()[index].StatusAt(clock_.Now());
                if (st == core::DeploymentStatus::kSuccess) status = st;
            }
        }
    }
    if (!has_deployment || status != core::DeploymentStatus::kSuccess) {
        ServerResponse res;
        res.status = 502;
        res.content_type = "application/json";
        res.body = json{{"status", "error"},
                        {"code", 502},
                        {"message", "Application failed to respond"},
                        {"deploymentStatus", has_deployment ? std::string(core::ToString(status)) : "NONE"}}
                       .dump();
        return res;
    }
    switch (mode) {
        case HealthMode::kFailing:
            return JsonResponse(503, json{{"status", "failing"}, {"service", name}}.dump());
        case HealthMode::kSlow:
            clock_.WaitFor(core::Millis(slow_ms), stop_);
            return JsonResponse(200, json{{"status", "ok"}, {"service", name}, {"slowMs", slow_ms}}.dump());
        case HealthMode::kHealthy:
            break;
    }
    return JsonResponse(200, json{{"status", "ok"}, {"service", name}}.dump());
}

}  // namespace railwatch::sim
