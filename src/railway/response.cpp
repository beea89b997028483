#include "railway/response.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using core::TransportErrorKind;
using nlohmann::json;
using util::ErrorCode;

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
    return Lower(haystack).find(Lower(needle)) != std::string::npos;
}

std::string_view TokenAdvice(TokenKind kind) {
    return kind == TokenKind::kProject
               ? "check RAILWAY_TOKEN: a project token works only for its own project and environment; create one "
                 "in the project's Settings → Tokens"
               : "check RAILWAY_API_TOKEN: it may be invalid, expired, or not allowed to see this resource; create "
                 "one at https://railway.com/account/tokens";
}

ApiError Make(ErrorCode code, std::string message, const ErrorContext& context, bool retryable) {
    ApiError error;
    error.code = code;
    error.message = Redact(std::move(message), context.secret);
    error.retryable = retryable;
    return error;
}

// The message Railway's edge (Cloudflare) shows on an HTML page, if any.
std::string HtmlTitle(std::string_view body) {
    const auto lower = Lower(body.substr(0, 4096));
    const auto start = lower.find("<title>");
    if (start == std::string::npos) return {};
    const auto end = lower.find("</title>", start);
    if (end == std::string::npos) return {};
    return std::string(body.substr(start + 7, end - start - 7));
}

ApiError TransportError(const net::HttpResponse& response, const ErrorContext& context) {
    ApiError error;
    const std::string& detail = response.error_message;
    switch (response.error) {
        case TransportErrorKind::kDns:
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: could not resolve Railway's host ({}); check the network, DNS or "
                                     "RAILWAY_API_URL ({})",
                                     context.operation, detail, context.endpoint),
                         context, true);
            break;
        case TransportErrorKind::kConnect:
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: could not connect to {} ({}); check the network, a proxy or RAILWAY_API_URL",
                                     context.operation, context.endpoint, detail),
                         context, true);
            break;
        case TransportErrorKind::kReset:
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: the connection to {} broke before a full answer arrived ({})",
                                     context.operation, context.endpoint, detail),
                         context, true);
            break;
        case TransportErrorKind::kTls:
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: TLS with {} failed ({}); check the system's CA certificates, the clock, or a "
                                     "proxy that intercepts TLS",
                                     context.operation, context.endpoint, detail),
                         context, false);
            break;
        case TransportErrorKind::kTimeout:
            error = Make(ErrorCode::kTimeout,
                         fmt::format("{}: {} did not answer in time ({})", context.operation, context.endpoint, detail),
                         context, true);
            break;
        case TransportErrorKind::kCancelled:
            error = Make(ErrorCode::kCancelled, fmt::format("{}: cancelled ({})", context.operation, detail), context,
                         false);
            break;
        case TransportErrorKind::kNone:
        case TransportErrorKind::kOther:
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: request to {} failed ({})", context.operation, context.endpoint, detail),
                         context, true);
            break;
    }
    error.failure.transport = response.error;
    return error;
}

std::optional<std::string> OptString(const json& node, const char* key) {
    auto it = node.find(key);
    if (it == node.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

util::Result<std::string> ReqString(const json& node, const char* key, std::string_view type) {
    auto it = node.find(key);
    if (it == node.end() || !it->is_string()) {
        return util::Fail(ErrorCode::kParse, fmt::format("{}.{} is missing or not a string", type, key));
    }
    return it->get<std::string>();
}

std::optional<core::Timestamp> OptTime(const json& node, const char* key) {
    auto it = node.find(key);
    if (it == node.end() || !it->is_string()) return std::nullopt;
    const auto& text = it->get_ref<const std::string&>();
    if (auto t = util::ParseRfc3339(text)) return *t;
    return std::nullopt;
}

bool OptBool(const json& node, const char* key) {
    auto it = node.find(key);
    return it != node.end() && it->is_boolean() && it->get<bool>();
}

template <typename Int>
std::optional<Int> OptInt(const json& node, const char* key) {
    auto it = node.find(key);
    if (it == node.end() || !it->is_number()) return std::nullopt;
    return it->get<Int>();
}

}  // namespace

const GraphqlError* Envelope::ErrorFor(std::string_view field) const {
    for (const auto& error : errors) {
        if (error.path_head == field) return &error;
    }
    return nullptr;
}

ApiError& Classify(ApiError& error) {
    error.error_class = core::ClassifyApiFailure(error.failure).error_class;
    return error;
}

ApiError ApiErrorFromGraphql(const GraphqlError& gql, int http_status, const ErrorContext& context) {
    const std::string excerpt = Excerpt(gql.message, 200);
    ApiError error;
    if (gql.code == "GRAPHQL_VALIDATION_FAILED" || gql.code == "GRAPHQL_PARSE_FAILED") {
        error = Make(ErrorCode::kInvalidArgument,
                     fmt::format("{}: Railway rejected railwatch's GraphQL document ({}: \"{}\"); this is a railwatch "
                                 "bug (its documents are checked against Railway's schema, which may have changed): "
                                 "please report it",
                                 context.operation, gql.code, excerpt),
                     context, false);
    } else if (Contains(gql.message, "project token not found")) {
        error = Make(ErrorCode::kUnauthenticated,
                     fmt::format("{}: Railway does not know this project token (\"{}\"); {}", context.operation,
                                 excerpt, TokenAdvice(TokenKind::kProject)),
                     context, false);
    } else if (Contains(gql.message, "not authorized") || Contains(gql.message, "unauthorized") ||
               Contains(gql.message, "two factor authentication")) {
        error = Make(ErrorCode::kUnauthenticated,
                     fmt::format("{}: Railway refused the {} (\"{}\"); {}", context.operation,
                                 context.token_kind == TokenKind::kProject ? "project token (RAILWAY_TOKEN)"
                                                                           : "token (RAILWAY_API_TOKEN)",
                                 excerpt, TokenAdvice(context.token_kind)),
                     context, false);
    } else if (Contains(gql.message, "not found")) {
        error = Make(ErrorCode::kNotFound,
                     fmt::format("{}: Railway says \"{}\"; check the id (and that the token's project or workspace "
                                 "owns it)",
                                 context.operation, excerpt),
                     context, false);
    } else if (gql.code == "INTERNAL_SERVER_ERROR") {
        error = Make(
            ErrorCode::kUnavailable,
            fmt::format("{}: Railway had an internal error (\"{}\"); usually temporary", context.operation, excerpt),
            context, true);
    } else if (gql.code == "BAD_USER_INPUT" || Contains(gql.message, "problem processing request")) {
        error = Make(ErrorCode::kInvalidArgument,
                     fmt::format("{}: Railway rejected an argument (\"{}\"); check the ids and dates given",
                                 context.operation, excerpt),
                     context, false);
    } else if (Contains(gql.message, "rate limit")) {
        error = Make(ErrorCode::kRateLimited,
                     fmt::format("{}: Railway's rate limit (\"{}\")", context.operation, excerpt), context, true);
    } else {
        error = Make(ErrorCode::kInternal,
                     fmt::format("{}: Railway returned an error: \"{}\"{}", context.operation, excerpt,
                                 gql.code.empty() ? "" : fmt::format(" ({})", gql.code)),
                     context, false);
    }
    error.failure.http_status = http_status;
    error.failure.graphql_messages = {Redact(gql.message, context.secret)};
    error.failure.graphql_code = gql.code;
    return error;
}

ApiError MalformedAnswer(std::string_view what, int http_status, const ErrorContext& context) {
    ApiError error = Make(ErrorCode::kParse,
                          fmt::format("{}: Railway's answer (HTTP {}) was not what railwatch expected: {}",
                                      context.operation, http_status, what),
                          context, true);
    error.failure.http_status = http_status;
    error.failure.malformed_body = true;
    return error;
}

ApiResult<Envelope> InterpretResponse(const net::HttpResponse& response, const ErrorContext& context) {
    if (!response.Answered()) return tl::unexpected(TransportError(response, context));
    const int status = response.status;

    if (status == 429) {
        const auto retry_after = response.Header("Retry-After");
        ApiError error =
            Make(ErrorCode::kRateLimited,
                 fmt::format("{}: Railway's rate limit was reached (HTTP 429{}); railwatch waits and retries. If "
                             "this keeps happening, watch fewer deployments, check them less often, or set "
                             "requests_per_hour to the token's plan",
                             context.operation,
                             retry_after ? fmt::format(", Retry-After {} s", Excerpt(*retry_after, 20)) : ""),
                 context, true);
        error.failure.http_status = status;
        if (retry_after) {
            if (auto seconds = ParseRetryAfter(*retry_after)) error.retry_after = *seconds;
        }
        return tl::unexpected(std::move(error));
    }

    json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    const bool is_object = body.is_object() && (body.contains("data") || body.contains("errors"));
    if (!is_object) {
        const std::string title = HtmlTitle(response.body);
        const bool html = !title.empty() || response.body.find("<html") != std::string::npos ||
                          response.body.find("<!DOCTYPE") != std::string::npos;
        ApiError error;
        if (html && (Contains(response.body.substr(0, 8192), "cloudflare") || status == 403)) {
            error = Make(ErrorCode::kRateLimited,
                         fmt::format("{}: Railway's edge answered with an HTML page instead of JSON (HTTP {}, \"{}\"), "
                                     "most likely its limit on unidentified traffic; railwatch waits and retries",
                                     context.operation, status, Excerpt(title.empty() ? response.body : title, 100)),
                         context, true);
            error.retry_after = core::Seconds(10);
        } else if (status >= 500) {
            error = Make(ErrorCode::kUnavailable,
                         fmt::format("{}: Railway answered HTTP {} (server error, usually temporary): \"{}\"",
                                     context.operation, status, Excerpt(html ? title : response.body, 100)),
                         context, true);
        } else {
            error = Make(
                ErrorCode::kParse,
                fmt::format("{}: Railway's answer was not GraphQL JSON (HTTP {}, {} bytes{}{}): is RAILWAY_API_URL "
                            "({}) Railway's GraphQL endpoint?",
                            context.operation, status, response.body.size(), response.body.empty() ? "" : ": \"",
                            response.body.empty() ? "" : Excerpt(html ? title : response.body, 100) + "\"",
                            context.endpoint),
                context, status >= 200 && status < 300);
        }
        error.failure.http_status = status;
        error.failure.malformed_body = true;
        return tl::unexpected(std::move(error));
    }

    Envelope envelope;
    envelope.http_status = status;
    if (auto it = body.find("errors"); it != body.end() && it->is_array()) {
        for (const auto& e : *it) {
            GraphqlError gql;
            if (auto m = e.find("message"); m != e.end() && m->is_string()) gql.message = m->get<std::string>();
            if (auto p = e.find("path"); p != e.end() && p->is_array() && !p->empty()) {
                const auto& head = p->front();
                gql.path_head = head.is_string() ? head.get<std::string>() : head.dump();
            }
            if (auto ext = e.find("extensions"); ext != e.end() && ext->is_object()) {
                if (auto c = ext->find("code"); c != ext->end() && c->is_string()) gql.code = c->get<std::string>();
            }
            envelope.errors.push_back(std::move(gql));
        }
    }
    if (auto it = body.find("data"); it != body.end()) envelope.data = std::move(*it);

    const bool whole_failure = !envelope.errors.empty() && !envelope.data.is_object() &&
                               std::none_of(envelope.errors.begin(), envelope.errors.end(),
                                            [](const GraphqlError& e) { return !e.path_head.empty(); });
    if (status >= 500) {
        ApiError error = envelope.errors.empty()
                             ? Make(ErrorCode::kUnavailable,
                                    fmt::format("{}: Railway answered HTTP {} (server error, usually temporary)",
                                                context.operation, status),
                                    context, true)
                             : ApiErrorFromGraphql(envelope.errors.front(), status, context);
        error.code = ErrorCode::kUnavailable;
        error.retryable = true;
        error.failure.http_status = status;
        return tl::unexpected(std::move(error));
    }
    if (whole_failure || (status >= 400 && !envelope.errors.empty())) {
        ApiError error = ApiErrorFromGraphql(envelope.errors.front(), status, context);
        for (std::size_t i = 1; i < envelope.errors.size(); ++i) {
            error.failure.graphql_messages.push_back(Redact(envelope.errors[i].message, context.secret));
        }
        if (status == 400 && error.code == ErrorCode::kInternal) error.code = ErrorCode::kInvalidArgument;
        return tl::unexpected(std::move(error));
    }
    if (status < 200 || status >= 300) {
        ApiError error = Make(
            status == 401 || status == 403 ? ErrorCode::kUnauthenticated : ErrorCode::kInternal,
            fmt::format("{}: Railway answered HTTP {}{}", context.operation, status,
                        status == 401 || status == 403 ? fmt::format("; {}", TokenAdvice(context.token_kind)) : ""),
            context, status == 408);
        error.failure.http_status = status;
        return tl::unexpected(std::move(error));
    }
    if (envelope.errors.empty() && !envelope.data.is_object()) {
        return tl::unexpected(MalformedAnswer("it has neither data nor errors", status, context));
    }
    return envelope;
}

util::Result<Deployment> ParseDeployment(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "deployment is not an object");
    Deployment d;
    auto id = ReqString(node, "id", "Deployment");
    if (!id) return tl::unexpected(id.error());
    d.id = std::move(*id);
    auto status = ReqString(node, "status", "Deployment");
    if (!status) return tl::unexpected(status.error());
    d.status = core::RailwayStatus::Parse(*status);
    d.status_updated_at = OptTime(node, "statusUpdatedAt");
    d.created_at = OptTime(node, "createdAt");
    d.updated_at = OptTime(node, "updatedAt");
    d.url = OptString(node, "url");
    d.static_url = OptString(node, "staticUrl");
    d.deployment_stopped = OptBool(node, "deploymentStopped");
    d.can_redeploy = OptBool(node, "canRedeploy");
    if (auto it = node.find("instances"); it != node.end() && it->is_array()) {
        d.instances.reserve(it->size());
        for (const auto& instance : *it) {
            d.instances.push_back({OptString(instance, "status").value_or("")});
        }
    }
    d.service_id = OptString(node, "serviceId");
    d.environment_id = OptString(node, "environmentId").value_or("");
    d.project_id = OptString(node, "projectId").value_or("");
    return d;
}

util::Result<LogLine> ParseLogLine(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "log line is not an object");
    auto ts = ReqString(node, "timestamp", "Log");
    if (!ts) return tl::unexpected(ts.error());
    auto parsed = util::ParseRfc3339(*ts);
    if (!parsed) return util::Fail(ErrorCode::kParse, "Log.timestamp: " + parsed.error().message);
    LogLine line;
    line.timestamp = *parsed;
    line.timestamp_raw = std::move(*ts);
    line.message = OptString(node, "message").value_or("");
    line.severity = OptString(node, "severity").value_or("");
    return line;
}

util::Result<DeploymentEvent> ParseDeploymentEvent(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "deployment event is not an object");
    auto step = ReqString(node, "step", "DeploymentEvent");
    if (!step) return tl::unexpected(step.error());
    DeploymentEvent event;
    event.step = std::move(*step);
    event.created_at = OptTime(node, "createdAt");
    event.completed_at = OptTime(node, "completedAt");
    if (auto it = node.find("payload"); it != node.end() && it->is_object()) {
        const json& p = *it;
        event.attempt = OptInt<int>(p, "attempt");
        event.max_attempts = OptInt<int>(p, "maxAttempts");
        event.duration_ms = OptInt<long long>(p, "durationMs");
        event.error = OptString(p, "error").value_or("");
        event.reason = OptString(p, "reason").value_or("");
        event.detail = OptString(p, "detail").value_or("");
        event.skipped = OptBool(p, "skipped");
    }
    return event;
}

util::Result<ServiceInstanceInfo> ParseServiceInstance(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "serviceInstance is not an object");
    ServiceInstanceInfo info;
    info.id = OptString(node, "id").value_or("");
    info.service_name = OptString(node, "serviceName").value_or("");
    info.healthcheck_path = OptString(node, "healthcheckPath");
    info.healthcheck_timeout_s = OptInt<int>(node, "healthcheckTimeout");
    info.num_replicas = OptInt<int>(node, "numReplicas");
    info.restart_policy_type = OptString(node, "restartPolicyType").value_or("");
    info.restart_policy_max_retries = OptInt<int>(node, "restartPolicyMaxRetries").value_or(0);
    if (auto domains = node.find("domains"); domains != node.end() && domains->is_object()) {
        for (const char* kind : {"serviceDomains", "customDomains"}) {
            if (auto list = domains->find(kind); list != domains->end() && list->is_array()) {
                for (const auto& d : *list) {
                    if (auto name = OptString(d, "domain")) info.domains.push_back(*name);
                }
            }
        }
    }
    return info;
}

util::Result<PlatformStatus> ParsePlatformStatus(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "platformStatus is not an object");
    PlatformStatus status;
    status.is_stable = OptBool(node, "isStable");
    if (auto it = node.find("incident"); it != node.end() && it->is_object()) {
        status.incident_message = OptString(*it, "message").value_or("");
        status.incident_status = OptString(*it, "status").value_or("");
    }
    if (auto it = node.find("maintenance"); it != node.end() && it->is_object()) {
        status.maintenance_message = OptString(*it, "message").value_or("");
        status.maintenance_status = OptString(*it, "status").value_or("");
    }
    return status;
}

util::Result<WorkspaceUsage> ParseWorkspaceUsage(const json& node) {
    if (!node.is_object()) return util::Fail(ErrorCode::kParse, "workspace is not an object");
    WorkspaceUsage usage;
    usage.workspace_id = OptString(node, "id").value_or("");
    usage.plan = OptString(node, "plan").value_or("");
    if (auto customer = node.find("customer"); customer != node.end() && customer->is_object()) {
        if (auto cu = customer->find("currentUsage"); cu != customer->end() && cu->is_number()) {
            usage.current_usage_dollars = cu->get<double>();
        }
        usage.customer_state = OptString(*customer, "state").value_or("");
        if (auto limit = customer->find("usageLimit"); limit != customer->end() && limit->is_object()) {
            usage.soft_limit_dollars = OptInt<int>(*limit, "softLimit");
            usage.hard_limit_dollars = OptInt<int>(*limit, "hardLimit");
            usage.is_over_limit = OptBool(*limit, "isOverLimit");
        }
    }
    return usage;
}

std::vector<LogLine> TakeNewLogLines(std::vector<LogLine> lines, LogCursor& cursor, std::size_t limit) {
    std::stable_sort(lines.begin(), lines.end(),
                     [](const LogLine& a, const LogLine& b) { return a.timestamp < b.timestamp; });
    std::vector<LogLine> fresh;
    fresh.reserve(lines.size());
    for (auto& line : lines) {
        if (cursor.last) {
            if (line.timestamp < *cursor.last) continue;
            if (line.timestamp == *cursor.last &&
                std::find(cursor.messages_at_last.begin(), cursor.messages_at_last.end(), line.message) !=
                    cursor.messages_at_last.end()) {
                continue;
            }
        }
        fresh.push_back(std::move(line));
    }
    if (limit > 0 && fresh.size() > limit) fresh.erase(fresh.begin(), fresh.end() - static_cast<long>(limit));
    for (const auto& line : fresh) {
        if (!cursor.last || line.timestamp > *cursor.last) {
            cursor.last = line.timestamp;
            cursor.last_raw = line.timestamp_raw;
            cursor.messages_at_last.clear();
        }
        cursor.messages_at_last.push_back(line.message);
    }
    return fresh;
}

}  // namespace railwatch::railway
