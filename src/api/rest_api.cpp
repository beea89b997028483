#include "api/rest_api.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "api/auth.hpp"
#include "api/badge.hpp"
#include "api/render.hpp"
#include "api/responses.hpp"
#include "api/static_assets.hpp"
#include "core/classify.hpp"
#include "core/deployment_status.hpp"
#include "core/detect.hpp"
#include "core/error_class.hpp"
#include "core/notify_event.hpp"
#include "core/stats.hpp"
#include "util/ids.hpp"
#include "util/json.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::api {
namespace {

using nlohmann::json;
using util::ErrorCode;

constexpr std::string_view kHookPath = "/api/v1/hooks/railway";
constexpr int kDefaultInstanceLimit = 50;
constexpr int kMaxInstanceLimit = 500;
constexpr std::size_t kMaxSearchChars = 200;
constexpr int kMaxLogLimit = 1000;
constexpr int kMaxHealthCheckLimit = 2000;
constexpr int kRecentChecks = 20;
constexpr core::Duration kUptimeWindow = core::Seconds(86400);

/// A failed parse of the request: the answer to send instead.
using Parsed = tl::expected<json, net::ServerResponse>;

net::ServerResponse BadRequest(std::string_view message) {
    return ErrorResponse(400, "bad_request", message);
}

net::ServerResponse Invalid(std::string_view message) {
    return ErrorResponse(422, "invalid", message);
}

/// The body as a JSON object: 400 when it is not JSON or not an object. An empty body is an empty
/// object (every field optional in some route).
Parsed ParseObjectBody(const net::ServerRequest& req) {
    if (req.body.empty()) return json::object();
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return tl::unexpected(BadRequest("the body is not valid JSON; send a JSON object"));
    if (!body.is_object()) return tl::unexpected(BadRequest("the body must be a JSON object"));
    return body;
}

/// An optional string field: absent or null → nullopt; another type → 422 naming the field.
tl::expected<std::optional<std::string>, net::ServerResponse> OptString(const json& body, const char* name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return tl::unexpected(Invalid(fmt::format("`{}` must be a string", name)));
    return std::optional<std::string>(it->get<std::string>());
}

/// A required non-empty string field.
tl::expected<std::string, net::ServerResponse> RequiredString(const json& body, const char* name) {
    auto value = OptString(body, name);
    if (!value) return tl::unexpected(value.error());
    if (!*value || (*value)->empty())
        return tl::unexpected(Invalid(fmt::format("`{}` is required: a non-empty string", name)));
    return **value;
}

/// An optional integer field within [lo, hi].
tl::expected<std::optional<int>, net::ServerResponse> OptInt(const json& body, const char* name, long long lo,
                                                             long long hi) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::optional<int>();
    if (!it->is_number_integer())
        return tl::unexpected(Invalid(fmt::format("`{}` must be a whole number ({}..{})", name, lo, hi)));
    const long long value =
        it->is_number_unsigned() && it->get<unsigned long long>() > 1ULL << 62 ? hi + 1 : it->get<long long>();
    if (value < lo || value > hi)
        return tl::unexpected(Invalid(fmt::format("`{}` is {}; allowed: {}..{}", name, value, lo, hi)));
    return std::optional<int>(static_cast<int>(value));
}

/// A query parameter as an integer within [lo, hi], `fallback` when absent; 400 otherwise.
tl::expected<int, net::ServerResponse> QueryInt(const net::ServerRequest& req, std::string_view name, int fallback,
                                                int lo, int hi) {
    auto text = req.Param(name);
    if (!text) return fallback;
    int value = 0;
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || ptr != text->data() + text->size() || value < lo || value > hi) {
        return tl::unexpected(
            BadRequest(fmt::format("query parameter `{}` must be a whole number in {}..{}", name, lo, hi)));
    }
    return value;
}

/// A query parameter "true" / "false" (also "1" / "0"); nullopt when absent; 400 otherwise.
tl::expected<std::optional<bool>, net::ServerResponse> QueryBool(const net::ServerRequest& req, std::string_view name) {
    auto text = req.Param(name);
    if (!text || text->empty()) return std::optional<bool>();
    if (*text == "true" || *text == "1") return std::optional<bool>(true);
    if (*text == "false" || *text == "0") return std::optional<bool>(false);
    return tl::unexpected(BadRequest(fmt::format("query parameter `{}` must be true or false", name)));
}

/// A comma-separated query parameter, each value parsed by `parse` (nullopt: unknown); empty when
/// absent or empty; 400 naming the value and the allowed ones otherwise. Duplicates are kept.
template <typename Parse>
auto QueryList(const net::ServerRequest& req, std::string_view name, Parse parse, std::string_view allowed)
    -> tl::expected<std::vector<typename std::invoke_result_t<Parse, std::string_view>::value_type>,
                    net::ServerResponse> {
    std::vector<typename std::invoke_result_t<Parse, std::string_view>::value_type> out;
    auto text = req.Param(name);
    if (!text || text->empty()) return out;
    std::string_view rest = *text;
    for (;;) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        auto parsed = parse(item);
        if (!parsed) {
            return tl::unexpected(BadRequest(
                fmt::format("unknown {} \"{}\"; use one or more of {}, separated by commas", name, item, allowed)));
        }
        out.push_back(std::move(*parsed));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return out;
}

/// The failure card's heading for a class.
std::string_view FailureTitle(core::ErrorClass error_class) {
    switch (error_class) {
        case core::ErrorClass::kConfiguration:
            return "Configuration error";
        case core::ErrorClass::kNetwork:
            return "Network error";
        case core::ErrorClass::kAuthentication:
            return "Authentication failed";
        case core::ErrorClass::kResource:
            return "Out of resources";
        case core::ErrorClass::kTimeout:
            return "Timed out";
        case core::ErrorClass::kUnknown:
            break;
    }
    return "Deployment failed";
}

json OptTextJson(const std::optional<std::string>& s) {
    return s ? json(*s) : json(nullptr);
}

json BudgetJson(const std::optional<core::BudgetStatus>& b) {
    if (!b) return nullptr;
    return {{"limitPerHour", b->limit_per_hour}, {"remaining", b->remaining},
            {"usedLastHour", b->used_last_hour}, {"requestsPerMinute", b->requests_per_minute},
            {"resetAt", TimeJson(b->reset_at)},  {"exhaustsAt", TimeJson(b->exhausts_at)}};
}

std::string_view AttentionKind(const store::AttentionItem& item) {
    if (item.verdict.stuck.stuck) return "stuck";
    const store::InstanceState& s = item.instance.state;
    if (s.attention_reason && core::IsCrashLoopReason(*s.attention_reason)) return "crash_loop";
    if (s.status == core::InstanceStatus::kFailed) return "failed";
    if (s.health && *s.health == "UNHEALTHY") return "unhealthy";
    // Flagged by the engine while in progress: a stall (or a run past the time limit) it saw,
    // though a sign of life since (a log line, a newer updatedAt) ended this list's own stall.
    if (s.needs_attention &&
        (s.status == core::InstanceStatus::kInitializing || s.status == core::InstanceStatus::kDeploying))
        return "stuck";
    return "other";
}

}  // namespace

RestApi::RestApi(StoreRoles store, monitor::Operations& operations, const util::Clock& clock,
                 util::MetricsRegistry* metrics, EventHub* hub, RestApiOptions options)
    : store_(store),
      operations_(operations),
      clock_(clock),
      metrics_(metrics),
      hub_(hub),
      options_(std::move(options)) {
    Add("POST", "/api/v1/users", &RestApi::CreateUser);
    Add("GET", "/api/v1/users", &RestApi::ListUsers);
    Add("POST", "/api/v1/instances", &RestApi::CreateInstance);
    Add("GET", "/api/v1/instances", &RestApi::ListInstances);
    Add("GET", "/api/v1/instances/{id}", &RestApi::GetInstance);
    Add("DELETE", "/api/v1/instances/{id}", &RestApi::DeleteInstance);
    Add("PUT", "/api/v1/instances/{id}/monitoring", &RestApi::SetMonitoring);
    Add("GET", "/api/v1/instances/{id}/progress", &RestApi::Progress);
    Add("GET", "/api/v1/instances/{id}/logs", &RestApi::Logs);
    Add("GET", "/api/v1/instances/{id}/health", &RestApi::Health);
    Add("GET", "/api/v1/instances/{id}/health/checks", &RestApi::HealthChecks);
    Add("GET", "/api/v1/instances/{id}/events", &RestApi::Events);
    Add("GET", "/api/v1/instances/{id}/failure", &RestApi::Failure);
    Add("POST", "/api/v1/instances/{id}/redeploy", &RestApi::Redeploy);
    Add("GET", "/api/v1/stats", &RestApi::Stats);
    Add("GET", "/api/v1/stats/history", &RestApi::StatsHistory);
    Add("GET", "/api/v1/attention", &RestApi::Attention);
    Add("GET", "/api/v1/notifications", &RestApi::Notifications);
    Add("POST", "/api/v1/notifications/{id}/read", &RestApi::MarkRead);
    Add("GET", "/api/v1/deliveries", &RestApi::Deliveries);
    Add("POST", "/api/v1/deliveries/{id}/replay", &RestApi::ReplayDelivery);
    Add("POST", "/api/v1/endpoints/{key}/enable", &RestApi::EnableEndpoint);
    Add("GET", "/api/v1/stream", &RestApi::Stream);
    Add("POST", "/api/v1/hooks/railway", &RestApi::RailwayHook);
    Add("GET", "/healthz", &RestApi::Healthz);
    Add("GET", "/readyz", &RestApi::Readyz);
    Add("GET", "/metrics", &RestApi::Metrics);
    Add("GET", "/badge/{id}.svg", &RestApi::Badge);
    if (metrics_ != nullptr) {
        requests_ =
            &metrics_->AddCounter("railwatch_api_requests_total",
                                  "REST API requests answered, by route pattern and HTTP status", {"route", "code"});
    }
}

void RestApi::Add(std::string method, std::string pattern, Handler handler) {
    router_.Add(std::move(method), std::move(pattern),
                [this, handler](const net::ServerRequest& req, const PathParams& params) {
                    return (this->*handler)(req, params);
                });
}

net::ServerResponse RestApi::Handle(const net::ServerRequest& req) const {
    const bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/api";
    const RouteMatch match = router_.Match(req.method, req.path);
    std::string_view route = "unmatched";
    net::ServerResponse res = [&] {
        if (req.body.size() > options_.max_body_bytes) {
            return ErrorResponse(413, "payload_too_large",
                                 fmt::format("the request body is {} bytes; the limit is {} bytes", req.body.size(),
                                             options_.max_body_bytes));
        }
        // The token is checked before the route, so that a caller without it learns nothing about
        // which paths exist. The webhook receiver has its own shared secret instead.
        if (api && req.path != kHookPath && !BearerAuthorized(req.Header("Authorization"), options_.api_token)) {
            net::ServerResponse denied = ErrorResponse(
                401, "unauthorized",
                req.Header("Authorization") ? "the API token was rejected; send Authorization: Bearer <token>"
                                            : "this API needs a token; send Authorization: Bearer <token>");
            denied.SetHeader("WWW-Authenticate", "Bearer realm=\"railwatch\"");
            return denied;
        }
        if (match.handler != nullptr) {
            route = match.route->pattern;
            return (*match.handler)(req, match.params);
        }
        if (!api) {
            if (auto asset = ServeAsset(req)) {
                route = "dashboard";
                return std::move(*asset);
            }
        }
        if (match.path_known) {
            return ErrorResponse(
                404, "not_found",
                fmt::format("{} is not allowed on {}; see docs/API.md for the methods", req.method, req.path));
        }
        return ErrorResponse(404, "not_found", fmt::format("no route {} {}; see docs/API.md", req.method, req.path));
    }();
    // The label is the route pattern (bounded), never the raw path.
    if (requests_ != nullptr) requests_->WithLabels({route, std::to_string(res.status)}).Increment();
    if (req.method == "HEAD") res.body.clear();
    return res;
}

json RestApi::InstanceWithChecks(const store::Instance& instance) const {
    auto checks = store_.health.RecentHealthChecks(instance.id, kRecentChecks);
    return InstanceJson(instance, checks ? *checks : std::vector<store::HealthCheck>{},
                        operations_.CheckInterval(instance));
}

// --- users ---------------------------------------------------------------------------------------

net::ServerResponse RestApi::CreateUser(const net::ServerRequest& req, const PathParams&) const {
    auto body = ParseObjectBody(req);
    if (!body) return body.error();
    auto email = RequiredString(*body, "email");
    if (!email) return email.error();
    if (email->find('@') == std::string::npos || email->size() > 254)
        return Invalid("`email` must be an email address such as ana@example.com");
    auto name = OptString(*body, "name");
    if (!name) return name.error();
    auto id = OptString(*body, "id");
    if (!id) return id.error();
    auto plan = OptString(*body, "plan");
    if (!plan) return plan.error();

    store::User user;
    user.id = id->value_or(util::NewId("usr"));
    if (user.id.empty()) return Invalid("`id` must not be empty; leave it out to get a generated one");
    user.email = *email;
    user.name = name->value_or("");
    user.plan = plan->value_or("");
    user.created_at = clock_.Now();
    if (auto created = store_.users.CreateUser(user); !created) return ErrorFrom(created.error());
    return JsonResponse(201, UserJson(user));
}

net::ServerResponse RestApi::ListUsers(const net::ServerRequest&, const PathParams&) const {
    auto users = store_.users.ListUsers();
    if (!users) return ErrorFrom(users.error());
    json items = json::array();
    for (const store::User& u : *users)
        items.push_back(UserJson(u));
    return JsonResponse(200, {{"items", std::move(items)}});
}

// --- instances -----------------------------------------------------------------------------------

net::ServerResponse RestApi::CreateInstance(const net::ServerRequest& req, const PathParams&) const {
    auto body = ParseObjectBody(req);
    if (!body) return body.error();
    monitor::AddInstanceRequest request;
    auto service = RequiredString(*body, "serviceId");
    if (!service) return service.error();
    auto environment = RequiredString(*body, "environmentId");
    if (!environment) return environment.error();
    auto deployment = OptString(*body, "deploymentId");
    if (!deployment) return deployment.error();
    auto project = OptString(*body, "projectName");
    if (!project) return project.error();
    auto user = OptString(*body, "userId");
    if (!user) return user.error();
    auto interval = OptInt(*body, "checkIntervalSeconds", 1, 86400);
    if (!interval) return interval.error();
    request.service_id = *service;
    request.environment_id = *environment;
    request.deployment_id = *deployment;
    request.project_name = *project;
    request.user_id = *user;
    request.check_interval_s = *interval;
    auto added = operations_.AddInstance(request);
    if (!added) return ErrorFrom(added.error());
    net::ServerResponse res = JsonResponse(201, InstanceJson(*added, {}, operations_.CheckInterval(*added)));
    res.SetHeader("Location", "/api/v1/instances/" + added->id);
    return res;
}

net::ServerResponse RestApi::ListInstances(const net::ServerRequest& req, const PathParams&) const {
    store::InstanceQuery query;
    auto statuses =
        QueryList(req, "status", core::ParseInstanceStatus, "INITIALIZING, DEPLOYING, RUNNING, FAILED, DELETED");
    if (!statuses) return statuses.error();
    query.statuses = std::move(*statuses);
    auto health = QueryList(
        req, "health",
        [](std::string_view text) -> std::optional<std::string> {
            for (const char* known : {"HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"})
                if (text == known) return std::string(text);
            return std::nullopt;
        },
        "HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN");
    if (!health) return health.error();
    query.health = std::move(*health);
    auto classes = QueryList(req, "errorType", core::ParseErrorClass,
                             "CONFIGURATION, NETWORK, AUTHENTICATION, RESOURCE, TIMEOUT, UNKNOWN");
    if (!classes) return classes.error();
    query.error_types = std::move(*classes);
    query.text = std::string(req.Param("q").value_or(""));
    if (query.text.size() > kMaxSearchChars)
        return BadRequest(fmt::format("query parameter `q` is longer than {} characters", kMaxSearchChars));
    auto count = QueryBool(req, "count");
    if (!count) return count.error();
    query.with_total = count->value_or(false);
    auto attention = QueryBool(req, "needsAttention");
    if (!attention) return attention.error();
    query.needs_attention = *attention;
    auto limit = QueryInt(req, "limit", kDefaultInstanceLimit, 1, kMaxInstanceLimit);
    if (!limit) return limit.error();
    query.limit = *limit;
    query.cursor = std::string(req.Param("cursor").value_or(""));
    auto page = store_.instances.ListInstances(query);
    if (!page) {
        if (page.error().code == ErrorCode::kInvalidArgument)
            return BadRequest("`cursor` is not one this server handed out; start again without it");
        return ErrorFrom(page.error());
    }
    // The page is the API's hottest answer (dashboards poll it): its recent checks come in one
    // store read and its text is written directly, not through a JSON tree (docs/PERFORMANCE.md).
    std::vector<std::string> ids;
    ids.reserve(page->items.size());
    for (const store::Instance& i : page->items)
        ids.push_back(i.id);
    auto checks = store_.health.RecentCheckSummariesOf(ids, kRecentChecks);
    if (!checks) return ErrorFrom(checks.error());
    net::ServerResponse res;
    res.status = 200;
    res.content_type = "application/json";
    std::string& body = res.body;
    // About 600 bytes per instance and 60 per check: one allocation for the whole page.
    std::size_t estimate = 64;
    for (const auto& list : *checks)
        estimate += 640 + list.size() * 64;
    body.reserve(estimate);
    body += R"({"items":[)";
    for (std::size_t n = 0; n < page->items.size(); ++n) {
        if (n > 0) body += ',';
        AppendInstanceJson(body, page->items[n], (*checks)[n], operations_.CheckInterval(page->items[n]));
    }
    body += R"(],"nextCursor":)";
    if (page->next_cursor.empty()) {
        body += "null";
    } else {
        util::AppendJsonString(body, page->next_cursor);
    }
    if (page->total_count) body += fmt::format(R"(,"totalCount":{})", *page->total_count);
    body += '}';
    return res;
}

net::ServerResponse RestApi::GetInstance(const net::ServerRequest&, const PathParams& p) const {
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    return JsonResponse(200, InstanceWithChecks(*instance));
}

net::ServerResponse RestApi::DeleteInstance(const net::ServerRequest&, const PathParams& p) const {
    auto deleted = operations_.DeleteInstance(p.at("id"));
    if (!deleted) return ErrorFrom(deleted.error());
    return JsonResponse(200, InstanceJson(*deleted, {}, operations_.CheckInterval(*deleted)));
}

net::ServerResponse RestApi::SetMonitoring(const net::ServerRequest& req, const PathParams& p) const {
    auto body = ParseObjectBody(req);
    if (!body) return body.error();
    auto enabled = body->find("enabled");
    if (enabled == body->end() || !enabled->is_boolean()) return Invalid("`enabled` is required: true or false");
    auto interval = OptInt(*body, "checkIntervalSeconds", 1, 86400);
    if (!interval) return interval.error();
    // null removes the instance's own interval (0 to the engine); absent leaves it as it is.
    if (const auto given = body->find("checkIntervalSeconds"); given != body->end() && given->is_null()) *interval = 0;
    auto changed = operations_.SetMonitoring(p.at("id"), enabled->get<bool>(), *interval);
    if (!changed) return ErrorFrom(changed.error());
    return JsonResponse(200, InstanceWithChecks(*changed));
}

net::ServerResponse RestApi::Progress(const net::ServerRequest&, const PathParams& p) const {
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    auto report = operations_.Progress(p.at("id"));
    if (!report) return ErrorFrom(report.error());
    return JsonResponse(200, ProgressJson(*report, instance->state.deployment_id));
}

net::ServerResponse RestApi::Logs(const net::ServerRequest& req, const PathParams& p) const {
    auto limit = QueryInt(req, "limit", 100, 1, kMaxLogLimit);
    if (!limit) return limit.error();
    std::optional<core::LogKind> kind;
    if (auto text = req.Param("kind"); text && !text->empty()) {
        kind = core::ParseLogKind(*text);
        if (!kind) return BadRequest("query parameter `kind` must be deploy or build");
    }
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    // Someone reads them: the deployment's newer lines are fetched for the next read (best
    // effort; what is stored now is the answer either way).
    (void)operations_.FollowLogs(instance->id);
    auto lines = store_.logs.RecentLogs(instance->id, *limit, kind);
    if (!lines) return ErrorFrom(lines.error());
    json items = json::array();
    for (const store::LogLine& line : *lines) {
        // Only the current deployment's lines: an older deployment's failure is not this one's.
        if (instance->state.deployment_id && line.deployment_id != *instance->state.deployment_id) continue;
        items.push_back(LogJson(line));
    }
    return JsonResponse(200, {{"instanceId", instance->id},
                              {"deploymentId", OptTextJson(instance->state.deployment_id)},
                              {"items", std::move(items)}});
}

net::ServerResponse RestApi::Health(const net::ServerRequest&, const PathParams& p) const {
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    const core::Timestamp now = clock_.Now();
    auto uptime = store_.health.Uptime(instance->id, now - kUptimeWindow);
    if (!uptime) return ErrorFrom(uptime.error());
    auto recent = store_.health.RecentHealthChecks(instance->id, 1);
    if (!recent) return ErrorFrom(recent.error());

    const store::InstanceState& s = instance->state;
    json reasons = json::array();
    if (!recent->empty() && !recent->front().ok) {
        const store::HealthCheck& last = recent->front();
        reasons.push_back(last.error ? "last probe failed: " + *last.error
                                     : fmt::format("last probe failed (HTTP {})", last.http_status.value_or(0)));
    }
    if (s.status == core::InstanceStatus::kFailed) {
        reasons.push_back(s.error_message ? "deployment failed: " + *s.error_message
                                          : std::string("deployment failed"));
    }
    // Up since the deployment became active, while it still is (uptimeSeconds 0 and upSince null
    // while it is not).
    std::optional<core::Timestamp> up_since;
    if (s.status == core::InstanceStatus::kRunning && s.deployment_completed_at && *s.deployment_completed_at <= now)
        up_since = s.deployment_completed_at;
    return JsonResponse(200, {{"instanceId", instance->id},
                              {"status", s.health ? *s.health : std::string("UNKNOWN")},
                              {"uptimeSeconds", up_since ? core::ToSeconds(now - *up_since) : 0},
                              {"upSince", TimeJson(up_since)},
                              {"lastCheckedAt", TimeJson(uptime->last_checked_at)},
                              {"uptimePercent", uptime->checks == 0 ? json(nullptr) : json(100.0 * uptime->Ratio())},
                              {"uptimeWindowSeconds", core::ToSeconds(kUptimeWindow)},
                              {"reasons", std::move(reasons)},
                              {"probe", recent->empty() ? json(nullptr) : HealthCheckJson(recent->front())}});
}

net::ServerResponse RestApi::HealthChecks(const net::ServerRequest& req, const PathParams& p) const {
    auto limit = QueryInt(req, "limit", 100, 1, kMaxHealthCheckLimit);
    if (!limit) return limit.error();
    std::optional<core::Timestamp> since;
    if (auto text = req.Param("since"); text && !text->empty()) {
        auto parsed = util::ParseRfc3339(*text);
        if (!parsed) return BadRequest("query parameter `since` must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z");
        since = *parsed;
    }
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    auto checks = store_.health.RecentHealthChecks(instance->id, *limit);
    if (!checks) return ErrorFrom(checks.error());
    json items = json::array();
    for (auto it = checks->rbegin(); it != checks->rend(); ++it) {
        if (since && it->at <= *since) continue;
        items.push_back(HealthCheckJson(*it));
    }
    return JsonResponse(200, {{"instanceId", instance->id}, {"items", std::move(items)}});
}

net::ServerResponse RestApi::Events(const net::ServerRequest& req, const PathParams& p) const {
    auto limit = QueryInt(req, "limit", 1000, 1, 10000);
    if (!limit) return limit.error();
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    auto events = store_.timeline.ListEvents(instance->id, *limit);
    if (!events) return ErrorFrom(events.error());
    json items = json::array();
    for (const store::TimelineEvent& e : *events)
        items.push_back(TimelineJson(e));
    return JsonResponse(200, {{"instanceId", instance->id}, {"items", std::move(items)}});
}

net::ServerResponse RestApi::Failure(const net::ServerRequest&, const PathParams& p) const {
    constexpr int kDecidingLineSearch = 1000;
    constexpr std::size_t kMessageChars = 240;
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    const store::InstanceState& s = instance->state;
    if (s.status != core::InstanceStatus::kFailed)
        return JsonResponse(200, {{"instanceId", instance->id}, {"failure", nullptr}});
    // Before the verdict (classification runs after the failure is seen) the class is not known.
    const std::optional<core::ErrorClass> error_class = s.error_type;
    const std::string evidence = s.error_stack.value_or("");
    // The deciding line: the newest stored line of this deployment that the verdict quoted
    // (error_stack holds the matching line, possibly cut and sanitised, so a prefix decides). The
    // deployment's lines also make the next step specific (where the app listens).
    json deciding = nullptr;
    std::vector<std::string> messages;
    if (s.deployment_id) {
        const std::string_view head = std::string_view(evidence).substr(0, 80);
        if (auto lines = store_.logs.RecentLogs(instance->id, kDecidingLineSearch)) {
            for (const store::LogLine& line : *lines) {
                if (line.deployment_id != *s.deployment_id) continue;
                messages.push_back(line.message);
                if (!evidence.empty() && (line.message == evidence || line.message.starts_with(head)))
                    deciding = LogJson(line);  // the newest such line
            }
        }
    }
    std::string message = evidence.empty() ? s.error_message.value_or("") : evidence;
    if (message.size() > kMessageChars) message = core::Utf8Prefix(message, kMessageChars);
    const core::ErrorClass shown = error_class.value_or(core::ErrorClass::kUnknown);
    json failure = {
        {"errorType", error_class ? json(core::ToString(*error_class)) : json(nullptr)},
        {"title", FailureTitle(shown)},
        {"reason", OptTextJson(s.error_message)},
        {"message", message.empty() ? json(nullptr) : json(message)},
        {"decidingLine", std::move(deciding)},
        {"nextStep", core::FailureNextStep(shown, s.error_message.value_or(""), evidence, messages)},
        // The failed Railway step is known to the engine only while it classifies; not stored.
        {"failedStep", nullptr},
        {"at", TimeJson(s.deployment_completed_at ? s.deployment_completed_at : s.deployment_updated_at)},
    };
    return JsonResponse(200, {{"instanceId", instance->id}, {"failure", std::move(failure)}});
}

net::ServerResponse RestApi::Redeploy(const net::ServerRequest&, const PathParams& p) const {
    auto instance = store_.instances.GetInstance(p.at("id"));
    if (!instance) return ErrorFrom(instance.error());
    if (instance->state.status == core::InstanceStatus::kDeleted)
        return ErrorResponse(409, "conflict", "the instance is deleted; add it again to redeploy it");
    const core::Timestamp requested_at = clock_.Now();
    auto done = operations_.Redeploy(instance->id);
    if (!done) return ErrorFrom(done.error());
    return JsonResponse(202, {{"instanceId", instance->id}, {"requestedAt", TimeJson(requested_at)}});
}

// --- fleet ---------------------------------------------------------------------------------------

namespace {
json OptNumber(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}
}  // namespace

net::ServerResponse RestApi::Stats(const net::ServerRequest&, const PathParams&) const {
    auto stats = store::GetFleetStats(store_.queries);
    if (!stats) return ErrorFrom(stats.error());
    const core::FleetCounts& c = stats->counts;
    json by_status = {{"INITIALIZING", c.initializing},
                      {"DEPLOYING", c.deploying},
                      {"RUNNING", c.running},
                      {"FAILED", c.failed},
                      {"DELETED", c.deleted}};
    return JsonResponse(
        200, {{"totalInstances", c.total},
              {"runningInstances", c.running},
              {"failedInstances", c.failed},
              {"pendingInstances", stats->pending},
              {"avgDeploymentSeconds", OptNumber(stats->avg_deployment_seconds)},
              {"p50DeploymentSeconds", OptNumber(stats->p50_deployment_seconds)},
              {"p95DeploymentSeconds", OptNumber(stats->p95_deployment_seconds)},
              {"errorRate", stats->error_rate},
              {"byStatus", std::move(by_status)},
              {"byHealth", c.by_health},
              {"byErrorType", c.by_error_type},
              {"checksPerMinute", options_.checks_per_minute ? json(options_.checks_per_minute()) : json(nullptr)},
              {"needsAttention", c.flagged},
              {"deploymentsFinished", c.deployments_finished},
              {"deploymentsFailed", c.deployments_failed},
              {"capacity", CapacityJson(operations_.Capacity())},
              {"budget", BudgetJson(options_.budget ? options_.budget() : std::nullopt)},
              {"incident", nullptr},
              {"generatedAt", TimeJson(clock_.Now())}});
}

net::ServerResponse RestApi::StatsHistory(const net::ServerRequest& req, const PathParams&) const {
    constexpr int kMinStep = 60;
    constexpr int kMaxStep = 86400;
    constexpr std::size_t kMaxBuckets = 2000;
    const core::Timestamp now = clock_.Now();
    auto step_s = QueryInt(req, "stepSeconds", 900, kMinStep, kMaxStep);
    if (!step_s) return step_s.error();
    // Whole minutes only: the engine's counts are stored per minute, so other widths could not
    // be summed exactly.
    if (*step_s % 60 != 0) {
        return BadRequest(fmt::format("query parameter `stepSeconds` is {}; use a multiple of 60 in {}..{}", *step_s,
                                      kMinStep, kMaxStep));
    }
    core::Timestamp since = now - core::Seconds(24LL * 3600);
    if (auto text = req.Param("since")) {
        auto parsed = util::ParseRfc3339(*text);
        if (!parsed) {
            return BadRequest(
                fmt::format("query parameter `since` must be an RFC 3339 time such as "
                            "2025-05-01T12:00:00Z: {}",
                            parsed.error().message));
        }
        since = *parsed;
    }
    if (since > now)
        return BadRequest(fmt::format("query parameter `since` ({}) is in the future", util::FormatRfc3339(since)));
    const core::Duration step = core::Seconds(*step_s);
    // Counted before the window is built, so that a far `since` cannot ask for a huge vector.
    const auto buckets = (core::AlignDown(now, step) - core::AlignDown(since, step)) / step + 1;
    if (buckets > static_cast<long long>(kMaxBuckets)) {
        return BadRequest(
            fmt::format("that is {} buckets of {} s; at most {} are answered: use a later `since` or "
                        "a larger `stepSeconds`",
                        buckets, *step_s, kMaxBuckets));
    }
    const core::HistoryWindow window = core::PlanHistory(since, step, now);
    auto points = store::GetStatsHistory(store_.queries, window);
    if (!points) return ErrorFrom(points.error());
    json out = json::array();
    for (const core::HistoryPoint& p : *points) {
        json by_class = json::object();
        for (std::size_t i = 0; i < core::kAllErrorClasses.size(); ++i) {
            if (p.failed_by_class[i] > 0)
                by_class[std::string(core::ToString(core::kAllErrorClasses[i]))] = p.failed_by_class[i];
        }
        out.push_back({{"at", TimeJson(p.at)},
                       {"finished", p.finished},
                       {"failed", p.failed},
                       {"durationP50Seconds", p.duration_p50 ? json(core::ToSecondsF(*p.duration_p50)) : json(nullptr)},
                       {"durationP95Seconds", p.duration_p95 ? json(core::ToSecondsF(*p.duration_p95)) : json(nullptr)},
                       {"failedByClass", std::move(by_class)},
                       {"checks", p.checks},
                       {"apiRequests", p.api_requests},
                       {"budgetRemaining", p.budget_remaining ? json(*p.budget_remaining) : json(nullptr)}});
    }
    return JsonResponse(
        200,
        {{"since", TimeJson(since)}, {"until", TimeJson(now)}, {"stepSeconds", *step_s}, {"points", std::move(out)}});
}

net::ServerResponse RestApi::Attention(const net::ServerRequest& req, const PathParams&) const {
    auto limit = QueryInt(req, "limit", 100, 1, 10000);
    if (!limit) return limit.error();
    store::AttentionQuery query;
    query.now = clock_.Now();
    query.limit = *limit;
    query.stuck_policy = options_.stuck_policy;
    query.platform_incident = operations_.PlatformIncident().has_value();
    auto items = store::ListAttention(store_.queries, query);
    if (!items) return ErrorFrom(items.error());
    json out = json::array();
    for (const store::AttentionItem& item : *items) {
        json entry = InstanceJson(item.instance, {}, operations_.CheckInterval(item.instance));
        entry["needsAttention"] = true;
        entry["attentionKind"] = AttentionKind(item);
        entry["attentionReason"] = item.verdict.reason;
        entry["attentionSince"] = TimeJson(item.verdict.since);
        entry["incidentRelated"] = item.verdict.platform_suspected;
        entry["user"] = item.user ? json{{"id", item.user->id}, {"email", item.user->email}, {"name", item.user->name}}
                                  : json(nullptr);
        out.push_back(std::move(entry));
    }
    return JsonResponse(200, {{"items", std::move(out)}});
}

// --- notifications -------------------------------------------------------------------------------

net::ServerResponse RestApi::Notifications(const net::ServerRequest& req, const PathParams&) const {
    auto limit = QueryInt(req, "limit", 100, 1, 1000);
    if (!limit) return limit.error();
    auto unread = QueryBool(req, "unread");
    if (!unread) return unread.error();
    store::NotificationQuery query;
    if (auto user = req.Param("userId"); user && !user->empty()) query.user_id = std::string(*user);
    query.unread_only = unread->value_or(false);
    query.limit = *limit;
    auto list = store_.inbox.ListNotifications(query);
    if (!list) return ErrorFrom(list.error());

    // The unread count over the whole inbox (not just this page), up to the store's largest page.
    store::NotificationQuery unread_query;
    unread_query.user_id = query.user_id;
    unread_query.unread_only = true;
    unread_query.limit = 10000;
    auto unread_list = store_.inbox.ListNotifications(unread_query);
    if (!unread_list) return ErrorFrom(unread_list.error());

    const std::optional<std::string> instance_filter =
        req.Param("instanceId") && !req.Param("instanceId")->empty()
            ? std::optional<std::string>(std::string(*req.Param("instanceId")))
            : std::nullopt;
    json items = json::array();
    for (const store::Notification& n : *list) {
        json item = NotificationJson(n);
        if (instance_filter && item["instanceId"] != *instance_filter) continue;
        items.push_back(std::move(item));
    }
    std::size_t unread_count = 0;
    for (const store::Notification& n : *unread_list) {
        if (instance_filter && NotificationJson(n)["instanceId"] != *instance_filter) continue;
        ++unread_count;
    }
    return JsonResponse(200, {{"items", std::move(items)}, {"unreadCount", unread_count}, {"nextCursor", nullptr}});
}

net::ServerResponse RestApi::MarkRead(const net::ServerRequest&, const PathParams& p) const {
    const std::string& id = p.at("id");
    if (auto marked = store_.inbox.MarkNotificationRead(id, clock_.Now()); !marked) return ErrorFrom(marked.error());
    // The inbox has no read-one call: find it among the newest (a notification being marked read is
    // almost always among them); otherwise answer with what is known.
    store::NotificationQuery query;
    query.limit = 10000;
    if (auto list = store_.inbox.ListNotifications(query)) {
        for (const store::Notification& n : *list) {
            if (n.id == id) return JsonResponse(200, NotificationJson(n));
        }
    }
    return JsonResponse(200, {{"id", id}, {"readAt", TimeJson(clock_.Now())}});
}

net::ServerResponse RestApi::Deliveries(const net::ServerRequest& req, const PathParams&) const {
    auto limit = QueryInt(req, "limit", 100, 1, 1000);
    if (!limit) return limit.error();
    std::optional<store::OutboxStatus> status;
    if (auto text = req.Param("status"); text && !text->empty()) {
        status = store::ParseOutboxStatus(*text);
        if (!status) return BadRequest("query parameter `status` must be pending, sent, failed or dead");
    }
    auto page = store_.outbox.ListDeliveries(store::DeliveryQuery{status, *limit, {}});
    if (!page) return ErrorFrom(page.error());
    const auto instance_filter = req.Param("instanceId");
    json items = json::array();
    for (const store::OutboxRow& row : page->items) {
        json item = DeliveryJson(row);
        if (instance_filter && !instance_filter->empty() && item["instanceId"] != std::string(*instance_filter))
            continue;
        items.push_back(std::move(item));
    }
    json disabled = json::array();
    for (const store::DisabledEndpoint& endpoint : page->disabled_endpoints)
        disabled.push_back(DisabledEndpointJson(endpoint));
    return JsonResponse(
        200, {{"items", std::move(items)}, {"nextCursor", nullptr}, {"disabledEndpoints", std::move(disabled)}});
}

net::ServerResponse RestApi::ReplayDelivery(const net::ServerRequest&, const PathParams& p) const {
    const std::string& id = p.at("id");
    const core::Timestamp now = clock_.Now();
    auto replayed = store_.outbox.ReplayOutbox(id, now);
    if (!replayed) {
        if (replayed.error().code == ErrorCode::kNotFound) {
            return ErrorResponse(404, "not_found",
                                 fmt::format("no delivery \"{}\"; GET /api/v1/deliveries lists them", id));
        }
        if (replayed.error().code == ErrorCode::kConflict) {
            return ErrorResponse(409, "conflict",
                                 fmt::format("delivery \"{}\" is not dead: only a dead delivery can be replayed ({})",
                                             id, replayed.error().message));
        }
        return ErrorFrom(replayed.error());
    }
    // The row as replayed (pending), answered before the woken dispatcher can move it on.
    json row = DeliveryJson(*replayed);
    if (options_.deliveries != nullptr) options_.deliveries->WakeDispatcher();
    return JsonResponse(202, row);
}

net::ServerResponse RestApi::EnableEndpoint(const net::ServerRequest&, const PathParams& p) const {
    const std::string& key = p.at("key");
    auto enabled = store_.outbox.EnableEndpoint(key);
    if (!enabled) return ErrorFrom(enabled.error());
    if (!*enabled) {
        return ErrorResponse(404, "not_found",
                             fmt::format("endpoint \"{}\" is not disabled; GET /api/v1/deliveries lists the "
                                         "disabled endpoints under disabledEndpoints",
                                         key));
    }
    if (options_.deliveries != nullptr) options_.deliveries->EndpointEnabled(key);
    return JsonResponse(200, {{"key", key}, {"enabled", true}});
}

// --- stream, hooks, probes -----------------------------------------------------------------------

net::ServerResponse RestApi::Stream(const net::ServerRequest& req, const PathParams&) const {
    if (hub_ == nullptr) return ErrorResponse(503, "unavailable", "this server has no event stream");
    std::optional<std::string> instance;
    if (auto id = req.Param("instanceId"); id && !id->empty()) instance = std::string(*id);
    return hub_->OpenStream(std::move(instance), req.Header("Last-Event-ID"));
}

net::ServerResponse RestApi::RailwayHook(const net::ServerRequest& req, const PathParams&) const {
    if (!options_.webhook_secret.empty()) {
        auto sent = req.Header(options_.webhook_secret_header);
        if (!sent || !ConstantTimeEquals(*sent, options_.webhook_secret)) {
            return ErrorResponse(
                401, "unauthorized",
                fmt::format("the webhook secret is missing or wrong; send it in {}", options_.webhook_secret_header));
        }
    }
    auto body = ParseObjectBody(req);
    if (!body) return body.error();
    // Railway's project webhook: resource.deployment.id, also details.id (FACTS §9).
    std::string deployment_id;
    const json& resource = body->contains("resource") ? (*body)["resource"] : json();
    if (resource.is_object() && resource.contains("deployment") && resource["deployment"].is_object() &&
        resource["deployment"].contains("id") && resource["deployment"]["id"].is_string()) {
        deployment_id = resource["deployment"]["id"].get<std::string>();
    } else if (body->contains("details") && (*body)["details"].is_object() && (*body)["details"].contains("id") &&
               (*body)["details"]["id"].is_string()) {
        deployment_id = (*body)["details"]["id"].get<std::string>();
    }
    if (deployment_id.empty()) {
        // Railway also sends volume and resource alerts to the same URL: nothing to check.
        return JsonResponse(202, {{"woken", 0}, {"ignored", "no deployment id in the payload"}});
    }
    auto woken = operations_.CheckDeploymentNow(deployment_id);
    if (!woken) return ErrorFrom(woken.error());
    return JsonResponse(202, {{"woken", *woken}});
}

net::ServerResponse RestApi::Healthz(const net::ServerRequest&, const PathParams&) const {
    return JsonResponse(200, {{"ok", true}});
}

net::ServerResponse RestApi::Readyz(const net::ServerRequest&, const PathParams&) const {
    auto version = store_.schema.SchemaVersion();
    if (!version) return ErrorResponse(503, "unavailable", "the store cannot be reached: " + version.error().message);
    return JsonResponse(200, {{"ready", true}, {"schemaVersion", *version}});
}

net::ServerResponse RestApi::Metrics(const net::ServerRequest&, const PathParams&) const {
    if (metrics_ == nullptr) return ErrorResponse(404, "not_found", "this server has no metrics registry");
    net::ServerResponse res;
    res.status = 200;
    res.content_type = std::string(util::kPrometheusContentType);
    res.body = metrics_->Render();
    return res;
}

// --- badge ---------------------------------------------------------------------------------------

// Outside /api/, so without the bearer token: README badges are fetched by image proxies (GitHub's
// camo) that cannot send one. It tells only the status of an instance whose id the caller knows
// (ids are random), never its name, service, logs or error.
net::ServerResponse RestApi::Badge(const net::ServerRequest& req, const PathParams& p) const {
    constexpr std::string_view kLabel = "deployment";
    auto instance = store_.instances.GetInstance(p.at("id"));
    std::string svg;
    int status = 200;
    if (instance) {
        const BadgeText text = BadgeFor(instance->state);
        svg = BadgeSvg(kLabel, text.message, text.colour);
    } else if (instance.error().code == ErrorCode::kNotFound) {
        // Still an image, so that a README shows why instead of a broken picture.
        svg = BadgeSvg(kLabel, "not found", "#7a7a7a");
        status = 404;
    } else {
        return ErrorFrom(instance.error());
    }
    net::ServerResponse res;
    res.status = status;
    const std::string etag = BadgeEtag(svg);
    res.content_type = "image/svg+xml; charset=utf-8";
    // Image proxies and browsers must ask again each time: the status changes.
    res.SetHeader("Cache-Control", "no-cache");
    res.SetHeader("ETag", etag);
    res.SetHeader("X-Content-Type-Options", "nosniff");
    // An SVG opened on its own is a document: it may run nothing and load nothing.
    res.SetHeader("Content-Security-Policy", "default-src 'none'");
    if (auto inm = req.Header("If-None-Match"); status == 200 && inm && IfNoneMatchMatches(*inm, etag)) {
        res.status = 304;
        return res;
    }
    res.body = std::move(svg);
    return res;
}

}  // namespace railwatch::api
