#include "sim/graphql_pipeline.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <map>
#include <mutex>
#include <shared_mutex>

#include "sim/graphql/json_writer.hpp"
#include "sim/graphql/parser.hpp"
#include "sim/graphql/validator.hpp"
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

ServerResponse TextResponse(int status, std::string body) {
    ServerResponse res = JsonResponse(status, std::move(body));
    res.content_type = "text/plain";
    return res;
}

ServerResponse CloudflarePage() {
    ServerResponse res;
    res.status = 403;
    res.content_type = "text/html; charset=UTF-8";
    res.body = std::string(kCloudflareHtml);
    return res;
}

long long CeilDiv(long long a, long long b) {
    return a >= 0 ? (a + b - 1) / b : a / b;
}

/// X-RateLimit-Reset in the configured unit.
std::string FormatReset(core::Timestamp reset_at, core::Timestamp now, ResetFormat format) {
    const long long ns = reset_at.time_since_epoch().count();
    switch (format) {
        case ResetFormat::kEpochSeconds:
            return std::to_string(CeilDiv(ns, 1'000'000'000));
        case ResetFormat::kEpochMillis:
            return std::to_string(CeilDiv(ns, 1'000'000));
        case ResetFormat::kSecondsFromNow:
            return std::to_string(std::max<long long>(0, CeilDiv((reset_at - now).count(), 1'000'000'000)));
        case ResetFormat::kRfc3339:
            return util::FormatRfc3339(core::Timestamp(std::chrono::ceil<std::chrono::seconds>(reset_at)),
                                       util::TimePrecision::kSeconds);
    }
    return std::to_string(CeilDiv(ns, 1'000'000'000));
}

}  // namespace

std::string GraphqlPipeline::ErrorBody(const Request& r, std::string message, std::string code, bool null_data) {
    return graphql::ErrorsBody({graphql::GraphqlError{std::move(message), {}, {}, std::move(code), r.trace_id}},
                               null_data);
}

ServerResponse GraphqlPipeline::Handle(const ServerRequest& req) {
    Request r(req, state_.clock.Now(), state_.NextTraceId());
    state_.counters.Update([](SimCounters::Values& c) { ++c.total; });
    ServerResponse res = [&] {
        if (Answer a = InjectFaults(r)) return std::move(*a);
        if (Answer a = EdgeLimit(r)) return std::move(*a);
        if (Answer a = RateLimit(r)) return std::move(*a);
        if (Answer a = ParseBody(r)) return std::move(*a);
        if (Answer a = ParseQuery(r)) return std::move(*a);
        if (Answer a = Validate(r)) return std::move(*a);
        if (Answer a = LimitRootFields(r)) return std::move(*a);
        if (Answer a = ChargeRootFields(r)) return std::move(*a);
        if (Answer a = Authenticate(r)) return std::move(*a);
        return Execute(r);
    }();
    if (r.budget) res = WithBudgetHeaders(r, std::move(res));
    if (res.action == ServerResponse::Action::kRespond) {
        const int status = res.status;
        state_.counters.Update([status](SimCounters::Values& c) { ++c.by_status[status]; });
    }
    return res;
}

GraphqlPipeline::Answer GraphqlPipeline::InjectFaults(Request& r) {
    FaultConfig faults;
    {
        std::shared_lock lock(state_.mutex);
        faults = state_.config.faults;
        r.limits = state_.config.rate_limit;
        r.max_root_fields = state_.config.errors.max_root_fields;
        r.root_field_refusal = state_.config.errors.too_many_root_fields;
        r.hang_ms = faults.hang_ms;
    }
    // Latency is drawn independently of the exclusive faults, so it can come on top of one.
    if (faults.latency > 0 && state_.DrawFraction() < faults.latency) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.latency_injected; });
        state_.clock.WaitFor(core::Millis(faults.latency_ms), state_.stop);
    }
    const double u = state_.DrawFraction();
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
        if (fraction > 0 && u < acc) {
            r.fault = fault;
            break;
        }
    }
    auto count = [this](const char* name) {
        state_.counters.Update([name](SimCounters::Values& c) { ++c.faults[name]; });
    };
    switch (r.fault) {
        case Fault::kHttp500:
            count("http500");
            return JsonResponse(500, ErrorBody(r, "Internal Server Error", graphql::kInternalServerError));
        case Fault::kHttp503:
            count("http503");
            return TextResponse(
                503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
        case Fault::kHang:
            count("hang");
            state_.clock.WaitFor(core::Millis(faults.hang_ms), state_.stop);
            return BreakConnection(r);
        case Fault::kReset:
            count("reset");
            return BreakConnection(r);
        case Fault::kHtml403:
            count("html403");
            return CloudflarePage();
        case Fault::kMalformedJson:  // spoils the answer at the end
        case Fault::kNone:
            break;
    }
    return std::nullopt;
}

ServerResponse GraphqlPipeline::BreakConnection(const Request& r) {
    if (state_.resetter != nullptr) state_.resetter->Reset(r.http);
    ServerResponse res;
    res.action = ServerResponse::Action::kAbort;
    return res;
}

GraphqlPipeline::Answer GraphqlPipeline::EdgeLimit(Request& r) {
    // Railway's edge limits traffic without a query string harder, with an HTML page.
    if (r.http.has_query || r.limits.edge_rps <= 0) return std::nullopt;
    const auto edge = state_.limiter.Acquire("edge:" + r.http.remote_addr, r.now, r.limits.edge_rps, 0);
    if (edge.allowed) return std::nullopt;
    state_.counters.Update([](SimCounters::Values& c) { ++c.edge_blocked; });
    return CloudflarePage();
}

GraphqlPipeline::Answer GraphqlPipeline::RateLimit(Request& r) {
    // Budgets are per token (whether or not it is valid), or per client address without one.
    const auto project_header = r.http.Header("Project-Access-Token");
    const auto auth_header = r.http.Header("Authorization");
    if (project_header) {
        r.budget_key = "project:" + std::string(*project_header);
    } else if (auth_header && auth_header->size() > 7 && ::strncasecmp(auth_header->data(), "Bearer ", 7) == 0) {
        r.budget_key = "bearer:" + std::string(auth_header->substr(7));
    } else {
        r.budget_key = "anonymous:" + r.http.remote_addr;
    }
    r.budget = state_.limiter.Acquire(r.budget_key, r.now, r.limits.rps, r.limits.rph);
    if (r.budget->allowed) return std::nullopt;
    state_.counters.Update([](SimCounters::Values& c) { ++c.rate_limited; });
    ServerResponse res = JsonResponse(
        429,
        ErrorBody(r, "You have exceeded the rate limit. Please retry after the time in Retry-After.", "RATE_LIMITED"));
    res.SetHeader("Retry-After", std::to_string(r.budget->retry_after_s));
    return res;
}

GraphqlPipeline::Answer GraphqlPipeline::ParseBody(Request& r) {
    // {"query", "variables"?, "operationName"?}
    json body;
    try {
        body = json::parse(r.http.body);
    } catch (const json::parse_error&) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.parse_errors; });
        return JsonResponse(400,
                            ErrorBody(r, "POST body is not valid JSON: send {\"query\": \"...\", \"variables\": {...}}",
                                      "BAD_REQUEST"));
    }
    if (!body.is_object() || !body.contains("query") || !body["query"].is_string() ||
        body["query"].get_ref<const std::string&>().empty()) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.parse_errors; });
        return JsonResponse(
            400, ErrorBody(r, "GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.",
                           "BAD_REQUEST"));
    }
    if (body.contains("variables") && !body["variables"].is_null()) {
        if (!body["variables"].is_object())
            return JsonResponse(400, ErrorBody(r, "`variables` must be a JSON object", "BAD_REQUEST"));
        r.variables = std::move(body["variables"]);
    }
    if (body.contains("operationName") && body["operationName"].is_string())
        r.operation_name = body["operationName"].get<std::string>();
    r.query = std::move(body["query"].get_ref<std::string&>());
    return std::nullopt;
}

GraphqlPipeline::Answer GraphqlPipeline::ParseQuery(Request& r) {
    auto document = graphql::ParseDocument(r.query);
    if (!document) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.parse_errors; });
        graphql::GraphqlError error = document.error();
        error.trace_id = r.trace_id;
        return JsonResponse(400, graphql::ErrorsBody({error}));
    }
    r.document = std::move(*document);
    return std::nullopt;
}

GraphqlPipeline::Answer GraphqlPipeline::Validate(Request& r) {
    auto errors = graphql::Validate(state_.schema, *r.document);
    if (errors.empty()) {
        r.root_fields = graphql::RootFieldNames(*r.document, r.operation_name, r.variables);
        return std::nullopt;
    }
    state_.counters.Update([](SimCounters::Values& c) { ++c.validation_errors; });
    for (auto& e : errors)
        e.trace_id = r.trace_id;
    return JsonResponse(400, graphql::ErrorsBody(errors));
}

GraphqlPipeline::Answer GraphqlPipeline::LimitRootFields(Request& r) {
    // A limit on aliases, or on a document's size or complexity (Railway documents none): the
    // whole request refused in one of the plausible ways, no alias named.
    const std::size_t fields = r.root_fields.size();
    if (r.max_root_fields <= 0 || fields <= static_cast<std::size_t>(r.max_root_fields)) return std::nullopt;
    state_.counters.Update([](SimCounters::Values& c) { ++c.root_field_refusals; });
    switch (r.root_field_refusal) {
        case RootFieldRefusal::kComplexity:
            return JsonResponse(400, ErrorBody(r,
                                               fmt::format("Query is too complex: {} root fields, at most {} allowed",
                                                           fields, r.max_root_fields),
                                               graphql::kValidationFailed));
        case RootFieldRefusal::kPayloadTooLarge:
            return TextResponse(413, "413 Request Entity Too Large");
        case RootFieldRefusal::kNoPath:
            return JsonResponse(200, ErrorBody(r, "Problem processing request", graphql::kInternalServerError, true));
        case RootFieldRefusal::kServerError:
            return TextResponse(503,
                                "upstream connect error or disconnect/reset before headers. reset reason: "
                                "connection termination");
        case RootFieldRefusal::kTimeout: {
            state_.clock.WaitFor(core::Millis(r.hang_ms), state_.stop);
            return BreakConnection(r);
        }
    }
    return std::nullopt;
}

GraphqlPipeline::Answer GraphqlPipeline::ChargeRootFields(Request& r) {
    // With a per-field cost the request has paid 1 at the rate-limit stage; the other root
    // fields are charged now, or the request is refused (still having cost 1).
    if (r.limits.cost != AliasCost::kRootField || r.root_fields.size() <= 1) return std::nullopt;
    const auto extra = static_cast<long long>(r.root_fields.size()) - 1;
    const RateLimiter::Decision charged =
        state_.limiter.Acquire(r.budget_key, r.now, r.limits.rps, r.limits.rph, extra);
    r.budget = charged;
    if (charged.allowed) return std::nullopt;
    state_.counters.Update([](SimCounters::Values& c) { ++c.rate_limited; });
    ServerResponse res = JsonResponse(
        429, ErrorBody(r,
                       fmt::format("You have exceeded the rate limit: this request costs {} (one per root field). "
                                   "Please retry after the time in Retry-After.",
                                   r.root_fields.size()),
                       "RATE_LIMITED"));
    res.SetHeader("Retry-After", std::to_string(charged.retry_after_s));
    return res;
}

GraphqlPipeline::Answer GraphqlPipeline::Authenticate(Request& r) {
    // After validation, as Railway's resolvers check it: a bad token with a valid document gets
    // HTTP 200 and data null.
    std::string account_token;
    std::string workspace_token;
    std::string project_token;
    {
        std::shared_lock lock(state_.mutex);
        account_token = state_.config.account_token;
        workspace_token = state_.config.workspace_token;
        project_token = state_.config.project_token;
    }
    auto refuse = [&](std::string message) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.auth_errors; });
        return JsonResponse(200, ErrorBody(r, std::move(message), graphql::kInternalServerError, true));
    };
    if (const auto project_header = r.http.Header("Project-Access-Token")) {
        if (*project_header != project_token) return refuse("Project Token not found");
        r.auth = AuthKind::kProject;
        return std::nullopt;
    }
    const auto auth_header = r.http.Header("Authorization");
    std::string_view bearer;
    if (auth_header && auth_header->size() > 7 && ::strncasecmp(auth_header->data(), "Bearer ", 7) == 0)
        bearer = auth_header->substr(7);
    if (!bearer.empty() && bearer == account_token) {
        r.auth = AuthKind::kAccount;
    } else if (!bearer.empty() && bearer == workspace_token) {
        r.auth = AuthKind::kWorkspace;
    } else {
        return refuse("Not Authorized");
    }
    return std::nullopt;
}

ServerResponse GraphqlPipeline::Execute(Request& r) {
    state_.counters.Update([&r](SimCounters::Values& c) {
        for (const auto& field : r.root_fields)
            ++c.root_fields[field];
    });
    bool is_mutation = false;
    std::string operation;  // the executed operation's name, for the query log
    for (const auto& op : r.document->operations) {
        if (!r.operation_name.empty() && op.name != r.operation_name) continue;
        if (op.kind == graphql::OperationKind::kMutation) is_mutation = true;
        operation = op.name;
    }
    graphql::ExecutionResult result;
    {
        std::shared_lock read_lock(state_.mutex, std::defer_lock);
        std::unique_lock write_lock(state_.mutex, std::defer_lock);
        if (is_mutation) {
            write_lock.lock();
        } else {
            read_lock.lock();
        }
        RequestContext ctx;
        ctx.world = state_.world.get();
        ctx.now = r.now;
        ctx.config = &state_.config;
        ctx.auth = r.auth;
        ctx.project_environment = std::string(state_.ProjectTokenEnvironment());
        ctx.health_base_url = state_.health_base_url;
        ctx.remaining_points = r.budget->hour.remaining;
        ctx.resets_at = r.budget->hour.reset_at;
        ctx.on_deployment_query = [this, &r, &operation](const std::string& id) {
            state_.queries.Record(id, r.now, r.http.query, operation);
        };
        graphql::ExecutionOptions options;
        options.trace_id = r.trace_id;
        options.sibling_errors = state_.config.errors.sibling_errors;
        options.error_paths = state_.config.errors.paths;
        const auto query_root = MakeQueryRoot(ctx);
        const auto mutation_root = MakeMutationRoot(ctx);
        result =
            state_.executor.Execute(*r.document, r.operation_name, r.variables, *query_root, *mutation_root, options);
        // Mutations change timelines: the webhook sender may have something new to wait for.
        if (is_mutation) state_.webhook_changes.Notify();
    }
    if (r.fault == Fault::kMalformedJson) {
        state_.counters.Update([](SimCounters::Values& c) { ++c.faults["malformedJson"]; });
        result.body.resize(result.body.size() / 2);
    }
    return JsonResponse(result.http_status, std::move(result.body));
}

ServerResponse GraphqlPipeline::WithBudgetHeaders(const Request& r, ServerResponse res) const {
    const RateLimiter::Decision& b = *r.budget;
    const bool hour_limited = r.limits.rph > 0;
    const bool second_limited = r.limits.rps > 0;
    // The configured window, unless it is unlimited and the other is not.
    const bool use_second = r.limits.header_window == HeaderWindow::kSecond ? (second_limited || !hour_limited)
                                                                            : (!hour_limited && second_limited);
    const RateLimiter::Window& w = use_second ? b.second : b.hour;
    res.SetHeader("X-RateLimit-Limit", std::to_string(w.limit));
    res.SetHeader("X-RateLimit-Remaining", std::to_string(w.remaining));
    res.SetHeader("X-RateLimit-Reset", FormatReset(w.reset_at, r.now, r.limits.reset_format));
    if (r.limits.policy_header && (hour_limited || second_limited)) {
        std::string policy;
        if (hour_limited) policy = fmt::format("{};w=3600", r.limits.rph);
        if (second_limited) policy += fmt::format("{}{};w=1", policy.empty() ? "" : ", ", r.limits.rps);
        res.SetHeader("RateLimit-Policy", policy);
    }
    return res;
}

}  // namespace railwatch::sim
