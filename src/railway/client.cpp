#include "railway/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "railway/documents.hpp"
#include "railway/log_pager.hpp"
#include "railway/parse.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using nlohmann::json;

// One GraphQL call: the document, the root field the answer is read from, and its variables.
struct Query {
    std::string operation;      // for messages: "steps of deployment X"
    std::string_view document;  // from documents.hpp
    std::string_view name;      // operationName
    std::string_view root;      // the root field to read
    json variables = json();    // null: none
    bool mutation = false;
    int root_fields = 1;  // what the request costs where Railway charges each (CallRequest)
};

std::string Body(const Query& q) {
    json body = {{"operationName", q.name}, {"query", q.document}};
    if (!q.variables.is_null()) body["variables"] = q.variables;
    return body.dump();
}

// The value of the root field, or the error Railway gave for it.
ApiResult<simdjson::dom::element> RootField(const Envelope& envelope, std::string_view field,
                                            const ErrorContext& context) {
    if (auto value = envelope.Field(field)) return *value;
    const GraphqlError* error = envelope.ErrorFor(field);
    if (error == nullptr && !envelope.errors.empty()) error = &envelope.errors.front();
    if (error != nullptr) return tl::unexpected(ApiErrorFromGraphql(*error, envelope.http_status, context));
    return tl::unexpected(MalformedAnswer(fmt::format("data.{} is missing", field), envelope.http_status, context));
}

// A parser of a hot answer (statuses, logs) that reads simdjson in place; the others take
// nlohmann values (ToNlohmann). Tagged, not told apart by what they accept: a simdjson element
// converts implicitly to bool or a number, and so to an nlohmann value.
template <typename Parse>
struct InPlace {
    Parse parse;
};
template <typename Parse>
InPlace(Parse) -> InPlace<Parse>;

template <typename Parse>
struct ParsedByT {
    using type = std::invoke_result_t<Parse, const json&>;
};
template <typename Parse>
struct ParsedByT<InPlace<Parse>> {
    using type = std::invoke_result_t<Parse, simdjson::dom::element>;
};
template <typename Parse>
using ParsedBy = typename ParsedByT<Parse>::type;

template <typename Parse>
constexpr bool kInPlace = false;
template <typename Parse>
constexpr bool kInPlace<InPlace<Parse>> = true;

CallOutcome Send(CallEngine& engine, const Query& q) {
    CallRequest request;
    request.operation = q.operation;
    request.body = Body(q);
    request.mutation = q.mutation;
    request.root_fields = q.root_fields;
    return engine.ExecuteOne(std::move(request));
}

// A root field's value (or the error Railway gave for it) parsed; errors carry the number of
// requests sent.
template <typename Parse>
auto ParseRoot(const CallOutcome& outcome, const ApiResult<simdjson::dom::element>& root, Parse& parse,
               const ErrorContext& context) -> ApiResult<typename ParsedBy<Parse>::value_type> {
    const auto failed = [&](ApiError error) {
        error.attempts = outcome.attempts;
        return tl::unexpected(std::move(error));
    };
    if (!root) return failed(root.error());
    auto parsed = [&] {
        if constexpr (kInPlace<Parse>) {
            return parse.parse(*root);
        } else {
            return parse(ToNlohmann(*root));
        }
    }();
    if (!parsed) return failed(MalformedAnswer(parsed.error().message, outcome.result->http_status, context));
    return std::move(*parsed);
}

// The one path of every endpoint: send the document, read the root field, parse it. Every
// failure on the way is an ApiError with the number of requests sent.
template <typename Parse>
auto Ask(CallEngine& engine, const Query& q, Parse parse) -> ApiResult<typename ParsedBy<Parse>::value_type> {
    CallOutcome outcome = Send(engine, q);
    if (!outcome.result) return tl::unexpected(std::move(outcome.result.error()));
    const ErrorContext context = engine.Context(q.operation);
    // Points into the envelope's document.
    return ParseRoot(outcome, RootField(*outcome.result, q.root, context), parse, context);
}

// One part (`alias`) of an answer that asked for several root fields: its value parsed, or the
// error that names it, or the whole request's failure when asking again would not change it;
// none when the part must be asked alone: another part's error nulled `data` (GraphQL null
// propagation: the roots are non-null), or the whole request failed for a reason that may pass
// (its retries spent: each part gets its own chance, so one unlucky request does not cost them
// all).
template <typename Parse>
auto SharedPart(const CallOutcome& outcome, std::string_view alias, Parse parse, const ErrorContext& context)
    -> std::optional<ApiResult<typename ParsedBy<Parse>::value_type>> {
    if (!outcome.result) {
        if (outcome.result.error().retryable) return std::nullopt;
        return tl::unexpected(outcome.result.error());
    }
    const Envelope& envelope = *outcome.result;
    if (auto value = envelope.Field(alias)) return ParseRoot(outcome, *value, parse, context);
    if (const GraphqlError* error = envelope.ErrorFor(alias)) {
        ApiError named = ApiErrorFromGraphql(*error, envelope.http_status, context);
        named.attempts = outcome.attempts;
        return tl::unexpected(std::move(named));
    }
    return std::nullopt;
}

// The first window's start of a log fetch from `cursor` (FetchNewLogLines asks from there).
std::optional<LogBound> StartOf(const LogCursor& cursor) {
    if (!cursor.last) return std::nullopt;
    return LogBound{*cursor.last, cursor.last_raw};
}

util::Result<bool> ParseBool(const json& node) {
    if (!node.is_boolean()) return util::Fail(util::ErrorCode::kParse, "the answer is not a Boolean");
    return node.get<bool>();
}

util::Result<std::string> ParseNewDeploymentId(const json& node) {
    if (auto id = node.find("id"); node.is_object() && id != node.end() && id->is_string()) {
        return id->get<std::string>();
    }
    return util::Fail(util::ErrorCode::kParse, "deploymentRedeploy.id is missing");
}

json DeploymentVariable(const std::string& deployment_id) {
    return {{"id", deployment_id}};
}

// Railway answered the call and refused it for what it is (not a transient failure).
bool Refused(const ApiError& error) {
    return error.kind == core::ApiFailureKind::kAuth || (!error.retryable && !error.failure.graphql_errors.empty());
}

// A final refusal that may be about an argument of the request (a validation error, an
// unrecognised one), not about the token, the id or the service's state of health.
bool MayRefuseAnArgument(const ApiError& error) {
    if (error.retryable) return false;
    return error.kind == core::ApiFailureKind::kInvalidArgument || error.kind == core::ApiFailureKind::kBadDocument ||
           error.kind == core::ApiFailureKind::kUnknown;
}

}  // namespace

RailwayClient::RailwayClient(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
                             core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log)
    : engine_(transport, clock, budget, random, std::move(credentials), std::move(config), std::move(log)),
      statuses_(engine_) {}

std::vector<DeploymentResult> RailwayClient::GetDeployments(std::span<const std::string> ids) {
    return statuses_.Check(ids);
}

std::vector<ApiResult<PolledStatus>> RailwayClient::PollStatuses(std::span<const std::string_view> ids) {
    return statuses_.Poll(ids);
}

ApiResult<std::vector<Deployment>> RailwayClient::ListDeployments(const std::string& environment_id,
                                                                  const std::optional<std::string>& service_id,
                                                                  int first) {
    json variables = {{"environmentId", environment_id}, {"first", std::clamp(first, 1, 100)}};
    if (service_id) variables["serviceId"] = *service_id;
    return Ask(engine_,
               {service_id ? fmt::format("deployments of service {} in environment {}", *service_id, environment_id)
                           : fmt::format("deployments in environment {}", environment_id),
                documents::kDeploymentList, "Deployments", "deployments", std::move(variables)},
               InPlace{ParseDeploymentList});
}

ApiResult<std::optional<Deployment>> RailwayClient::GetLatestDeployment(const std::string& service_id,
                                                                        const std::string& environment_id) {
    // Not `deployments(first: 1)`: that is the newest only if Railway lists newest first, which it
    // does not document (FACTS §3); the service instance's latest deployment is Railway's own word.
    return Ask(engine_,
               {fmt::format("latest deployment of service {} in environment {}", service_id, environment_id),
                documents::kServiceLatestDeployment,
                "ServiceLatestDeployment",
                "serviceInstance",
                {{"serviceId", service_id}, {"environmentId", environment_id}}},
               InPlace{ParseServiceLatestDeployment});
}

ApiResult<void> RailwayClient::ReadEnvironmentServices(
    const std::string& environment_id, const std::function<void(std::span<const ServiceLatestDeployment>)>& on_page) {
    std::size_t services = 0;
    std::string after;
    const auto ask = [&](bool with_first) {
        json variables = {{"environmentId", environment_id}};
        if (with_first) variables["first"] = config().environment_page_size;
        if (!after.empty()) variables["after"] = after;
        return Ask(engine_,
                   {fmt::format("latest deployments in environment {}", environment_id),
                    documents::kEnvironmentLatestDeployments, "EnvironmentLatestDeployments", "environment",
                    std::move(variables)},
                   InPlace{ParseEnvironmentLatestDeployments});
    };
    for (std::size_t page = 0; page < config().max_environment_pages; ++page) {
        const bool with_first = !environment_first_refused_.load(std::memory_order_relaxed);
        auto read = ask(with_first);
        // Railway's limit on a connection's `first` is not documented. Should it refuse ours
        // (rather than answer fewer, which paging follows), the page is asked again at Railway's
        // own size, and so is every later page once that is answered.
        if (!read && with_first && MayRefuseAnArgument(read.error())) {
            auto again = ask(false);
            if (again) {
                environment_first_refused_.store(true, std::memory_order_relaxed);
                engine_.Log(
                    fmt::format("railway: serviceInstances(first: {}) was refused ({}); environments are "
                                "read in pages of Railway's own size from now on",
                                config().environment_page_size, read.error().message));
                read = std::move(again);
            }
        }
        if (!read) return tl::unexpected(std::move(read.error()));
        services += read->services.size();
        on_page(read->services);
        if (!read->has_next_page || read->end_cursor.empty()) return {};
        after = std::move(read->end_cursor);
    }
    engine_.Log(fmt::format("railway: environment {} has more than {} pages of services; only the first {} were read",
                            environment_id, config().max_environment_pages, services));
    return {};
}

ApiResult<DeploymentsSince> RailwayClient::ListDeploymentsSince(const std::string& environment_id,
                                                                std::optional<core::Timestamp> since,
                                                                std::size_t max_pages) {
    // Railway's own limit on `first` is not documented; ListDeployments asks at most as many.
    constexpr int kPageSize = 100;
    DeploymentsSince out;
    std::string after;
    std::optional<core::Timestamp> previous;  // the creation time before, along the answer
    for (std::size_t page = 0; page < max_pages; ++page) {
        json variables = {{"environmentId", environment_id}, {"first", kPageSize}};
        if (!after.empty()) variables["after"] = after;
        auto read =
            Ask(engine_,
                {fmt::format("deployments in environment {}", environment_id), documents::kEnvironmentDeployments,
                 "EnvironmentDeployments", "deployments", std::move(variables)},
                InPlace{ParseEnvironmentDeployments});
        if (!read) return tl::unexpected(std::move(read.error()));
        // The order is checked along the whole page before it is cut: oldest first, the first
        // deployment may already be at `since`, and only those after it show the order.
        for (const ListedDeployment& deployment : read->deployments) {
            if (previous && deployment.created_at > *previous) {
                out.newest_first = false;  // the list cannot be cut at `since`
                if (!order_logged_.exchange(true)) {
                    engine_.Log(
                        fmt::format("railway: deployments are not listed newest first (createdAt rose along "
                                    "the answer for environment {}); lists since a time cannot be cut",
                                    environment_id));
                }
                out.deployments.clear();
                return out;
            }
            previous = deployment.created_at;
        }
        if (page == 0 && !read->deployments.empty()) {
            out.newest = read->deployments.front().created_at;
            // Newest first, the list's newest is at or after `since` unless it was deleted since:
            // nothing tells what else changed.
            if (since && *out.newest < *since) return out;
        }
        for (ListedDeployment& deployment : read->deployments) {
            if (since && deployment.created_at <= *since) {
                out.complete = true;
                return out;
            }
            out.deployments.push_back(std::move(deployment));
        }
        if (!read->has_next_page || read->end_cursor.empty()) {
            out.complete = true;
            return out;
        }
        after = std::move(read->end_cursor);
    }
    return out;
}

ApiResult<std::vector<DeploymentEvent>> RailwayClient::GetDeploymentEvents(const std::string& deployment_id,
                                                                           int first) {
    return Ask(engine_,
               {"steps of deployment " + deployment_id,
                documents::kDeploymentEvents,
                "DeploymentEvents",
                "deploymentEvents",
                {{"id", deployment_id}, {"first", first}}},
               InPlace{ParseDeploymentEvents});
}

ApiResult<std::vector<LogLine>> RailwayClient::GetNewLogs(LogKind kind, const std::string& deployment_id,
                                                          LogCursor& cursor, int limit) {
    return NewLogs(kind, deployment_id, cursor, limit, std::nullopt);
}

ApiResult<std::vector<LogLine>> RailwayClient::NewLogs(LogKind kind, const std::string& deployment_id,
                                                       LogCursor& cursor, int limit,
                                                       std::optional<ApiResult<std::vector<LogLine>>> first_page) {
    limit = std::clamp(limit, 1, 5000);
    const bool build = kind == LogKind::kBuild;
    const std::optional<LogBound> start = StartOf(cursor);
    const auto fetch = [&](const LogWindow& window) -> ApiResult<std::vector<LogLine>> {
        // The page read along with the steps answers the first window (the cursor's start, no end).
        if (first_page && !window.end && window.start.has_value() == start.has_value() &&
            (!start || window.start->raw == start->raw)) {
            auto page = std::move(*first_page);
            first_page.reset();
            return page;
        }
        json variables = {{"deploymentId", deployment_id}, {"limit", limit}};
        if (window.start) variables["startDate"] = window.start->raw;
        if (window.end) variables["endDate"] = window.end->raw;
        return Ask(engine_,
                   {fmt::format("{} logs of deployment {}", build ? "build" : "deploy", deployment_id),
                    build ? documents::kBuildLogs : documents::kDeploymentLogs, build ? "BuildLogs" : "DeploymentLogs",
                    build ? "buildLogs" : "deploymentLogs", std::move(variables)},
                   InPlace{ParseLogLines});
    };
    return FetchNewLogLines(fetch, cursor, static_cast<std::size_t>(limit), config().max_log_pages);
}

PhaseChangeReads RailwayClient::PhaseChangeFrom(const CallOutcome& outcome, const std::string& operation,
                                                PhaseChangeAsk& ask, const std::string& events,
                                                const std::string& build, const std::string& deploy, int events_first,
                                                int limit) {
    const ErrorContext context = engine_.Context(operation);
    PhaseChangeReads out;
    auto steps = SharedPart(outcome, events, InPlace{ParseDeploymentEvents}, context);
    out.events = steps ? std::move(*steps) : GetDeploymentEvents(ask.deployment_id, events_first);
    out.build_logs = NewLogs(LogKind::kBuild, ask.deployment_id, ask.build_cursor, limit,
                             SharedPart(outcome, build, InPlace{ParseLogLines}, context));
    if (ask.deploy_cursor) {
        out.deploy_logs = NewLogs(LogKind::kDeploy, ask.deployment_id, *ask.deploy_cursor, limit,
                                  SharedPart(outcome, deploy, InPlace{ParseLogLines}, context));
    }
    return out;
}

PhaseChangeReads RailwayClient::PhaseChange(PhaseChangeAsk& ask, int events_first, int limit) {
    const bool deploy = ask.deploy_cursor.has_value();
    const std::string operation = fmt::format("steps and logs of deployment {}", ask.deployment_id);
    json variables = {{"id", ask.deployment_id}, {"first", events_first}, {"limit", limit}};
    if (auto start = StartOf(ask.build_cursor)) variables["buildStart"] = start->raw;
    if (deploy)
        if (auto start = StartOf(*ask.deploy_cursor)) variables["deployStart"] = start->raw;
    // Steps and both first pages in one request; a page that comes back full is paged on by
    // NewLogs, a part the answer lacks is asked alone (SharedPart).
    const CallOutcome outcome =
        Send(engine_, {operation, deploy ? documents::kPhaseChange : documents::kPhaseChangeBuild,
                       deploy ? "PhaseChange" : "PhaseChangeBuild", "", std::move(variables), false, deploy ? 3 : 2});
    return PhaseChangeFrom(outcome, operation, ask, "events", "build", "deploy", events_first, limit);
}

std::vector<PhaseChangeReads> RailwayClient::GetPhaseChanges(std::span<PhaseChangeAsk> asks, int events_first,
                                                             int limit) {
    limit = std::clamp(limit, 1, 5000);
    std::vector<PhaseChangeReads> out;
    out.reserve(asks.size());
    const std::size_t batch = PhaseChangesPerRequest(statuses_.BatchSize());
    for (std::size_t at = 0; at < asks.size(); at += batch) {
        const auto part = asks.subspan(at, std::min(batch, asks.size() - at));
        if (part.size() == 1) {
            out.push_back(PhaseChange(part[0], events_first, limit));
            continue;
        }
        std::vector<bool> deploy_kinds;
        json variables = {{"first", events_first}, {"limit", limit}};
        int root_fields = 0;
        for (std::size_t k = 0; k < part.size(); ++k) {
            const PhaseChangeAsk& ask = part[k];
            deploy_kinds.push_back(ask.deploy_cursor.has_value());
            root_fields += ask.deploy_cursor ? 3 : 2;
            variables[fmt::format("id{}", k)] = ask.deployment_id;
            if (auto start = StartOf(ask.build_cursor)) variables[fmt::format("bs{}", k)] = start->raw;
            if (ask.deploy_cursor)
                if (auto start = StartOf(*ask.deploy_cursor)) variables[fmt::format("ds{}", k)] = start->raw;
        }
        const CallOutcome outcome = Send(engine_, {fmt::format("steps and logs of {} deployments", part.size()),
                                                   documents::PhaseChangeBatch(deploy_kinds), "PhaseChanges", "",
                                                   std::move(variables), false, root_fields});
        // Refused as a whole, not for the token (perhaps for its size), or failed for a reason that
        // may pass: each deployment is asked alone, in one request rather than one a part.
        const bool each_alone =
            !outcome.result && (outcome.result.error().retryable || MayRefuseAnArgument(outcome.result.error()));
        for (std::size_t k = 0; k < part.size(); ++k) {
            if (each_alone) {
                out.push_back(PhaseChange(part[k], events_first, limit));
                continue;
            }
            const documents::PhaseChangeAliases alias = documents::PhaseChangeAliasesOf(k);
            out.push_back(PhaseChangeFrom(outcome,
                                          fmt::format("steps and logs of deployment {}", part[k].deployment_id),
                                          part[k], alias.events, alias.build, alias.deploy, events_first, limit));
        }
    }
    return out;
}

std::vector<ApiResult<std::optional<core::Timestamp>>> RailwayClient::GetLogsSince(std::span<const LogsSinceAsk> asks) {
    using Newest = ApiResult<std::optional<core::Timestamp>>;
    const auto operation = [](const LogsSinceAsk& ask) {
        return fmt::format("{} logs of deployment {}", ask.kind == LogKind::kBuild ? "build" : "deploy",
                           ask.deployment_id);
    };
    const auto newest_after = [](const std::vector<LogLine>& lines, core::Timestamp since) {
        std::optional<core::Timestamp> newest;
        for (const LogLine& line : lines)
            if (line.timestamp > since && (!newest || line.timestamp > *newest)) newest = line.timestamp;
        return newest;
    };
    // In milliseconds (truncated: never after the since), as any DateTime parser reads them; the
    // lines are compared with the exact since.
    const auto since_text = [](const LogsSinceAsk& ask) { return util::FormatRfc3339(ask.since); };
    const auto alone = [&](const LogsSinceAsk& ask) -> Newest {
        const bool build = ask.kind == LogKind::kBuild;
        auto lines =
            Ask(engine_,
                {operation(ask),
                 build ? documents::kBuildLogs : documents::kDeploymentLogs,
                 build ? "BuildLogs" : "DeploymentLogs",
                 build ? "buildLogs" : "deploymentLogs",
                 {{"deploymentId", ask.deployment_id}, {"limit", kLogsSinceLines}, {"startDate", since_text(ask)}}},
                InPlace{ParseLogLines});
        if (!lines) return tl::unexpected(std::move(lines.error()));
        return newest_after(*lines, ask.since);
    };
    std::vector<Newest> out;
    out.reserve(asks.size());
    const std::size_t batch = LogsSincePerRequest(statuses_.BatchSize());
    for (std::size_t at = 0; at < asks.size(); at += batch) {
        const auto part = asks.subspan(at, std::min(batch, asks.size() - at));
        if (part.size() == 1) {
            out.push_back(alone(part[0]));
            continue;
        }
        std::vector<bool> build_kinds;
        json variables = {{"limit", kLogsSinceLines}};
        for (std::size_t k = 0; k < part.size(); ++k) {
            build_kinds.push_back(part[k].kind == LogKind::kBuild);
            variables[fmt::format("id{}", k)] = part[k].deployment_id;
            variables[fmt::format("since{}", k)] = since_text(part[k]);
        }
        const std::string document = documents::LogsSinceBatch(build_kinds);
        const CallOutcome outcome =
            Send(engine_, {fmt::format("logs of {} deployments since their last line", part.size()), document,
                           "LogsSince", "", std::move(variables), false, static_cast<int>(part.size())});
        // Refused as a whole, not for the token: perhaps for its size. Each part is asked alone.
        const bool refused_whole = !outcome.result && MayRefuseAnArgument(outcome.result.error());
        for (std::size_t k = 0; k < part.size(); ++k) {
            std::optional<ApiResult<std::vector<LogLine>>> lines;
            if (!refused_whole)
                lines = SharedPart(outcome, documents::LogsSinceAlias(k), InPlace{ParseLogLines},
                                   engine_.Context(operation(part[k])));
            if (!lines) {
                out.push_back(alone(part[k]));
            } else if (!*lines) {
                out.push_back(tl::unexpected(std::move(lines->error())));
            } else {
                out.push_back(newest_after(**lines, part[k].since));
            }
        }
    }
    return out;
}

ApiResult<ServiceInstanceInfo> RailwayClient::GetServiceInstance(const std::string& service_id,
                                                                 const std::string& environment_id) {
    return Ask(engine_,
               {fmt::format("settings of service {} in environment {}", service_id, environment_id),
                documents::kServiceInstance,
                "ServiceInstance",
                "serviceInstance",
                {{"serviceId", service_id}, {"environmentId", environment_id}}},
               ParseServiceInstance);
}

ApiResult<std::string> RailwayClient::Redeploy(const std::string& deployment_id) {
    const std::string op = "redeploy of deployment " + deployment_id;
    auto current = Ask(engine_,
                       {op, documents::kDeploymentCanRedeploy, "DeploymentCanRedeploy", "deployment",
                        DeploymentVariable(deployment_id)},
                       InPlace{ParseDeployment});
    if (!current) return tl::unexpected(std::move(current.error()));
    if (!current->can_redeploy) {
        return tl::unexpected(PreconditionFailed(
            fmt::format("Railway says deployment {} cannot be redeployed (canRedeploy is false; its status is {}), "
                        "e.g. because it was removed or its image is no longer kept; redeploy the service's latest "
                        "deployment instead, or deploy the service again from Railway's dashboard",
                        deployment_id, current->status.raw),
            engine_.Context(op)));
    }
    return Ask(engine_,
               {op, documents::kDeploymentRedeploy, "DeploymentRedeploy", "deploymentRedeploy",
                DeploymentVariable(deployment_id), true},
               ParseNewDeploymentId);
}

ApiResult<bool> RailwayClient::Restart(const std::string& deployment_id) {
    return Ask(engine_,
               {"restart of deployment " + deployment_id, documents::kDeploymentRestart, "DeploymentRestart",
                "deploymentRestart", DeploymentVariable(deployment_id), true},
               ParseBool);
}

ApiResult<bool> RailwayClient::CancelDeployment(const std::string& deployment_id) {
    return Ask(engine_,
               {"cancel of deployment " + deployment_id, documents::kDeploymentCancel, "DeploymentCancel",
                "deploymentCancel", DeploymentVariable(deployment_id), true},
               ParseBool);
}

ApiResult<TokenInfo> RailwayClient::ValidateToken() {
    if (engine_.token_kind() == TokenKind::kProject) {
        return Ask(engine_,
                   {"validation of the project token from RAILWAY_TOKEN", documents::kProjectToken, "ProjectToken",
                    "projectToken"},
                   ParseProjectToken);
    }
    const std::string op = "validation of the token from RAILWAY_API_TOKEN";
    auto account = Ask(engine_, {op + " as an account token", documents::kMe, "Me", "me"}, ParseMe);
    if (account || !Refused(account.error())) return account;
    // `me` answers only personal account tokens: a workspace token is introspected instead.
    auto workspace =
        Ask(engine_, {op + " as a workspace token", documents::kApiToken, "ApiToken", "apiToken"}, ParseApiToken);
    if (workspace || workspace.error().kind != core::ApiFailureKind::kAuth) return workspace;
    ApiError error = std::move(workspace.error());
    const std::string_view secret = engine_.Context(op).secret;
    const auto said = [&](const ApiError& e) {
        return e.failure.graphql_errors.empty()
                   ? std::string("no message")
                   : RedactedExcerpt(e.failure.graphql_errors.front().message, secret, 100);
    };
    error.message = fmt::format(
        "{}: Railway refused it as an account token (`me`: \"{}\") and as a workspace token (`apiToken`: \"{}\"): "
        "the token is invalid, expired or revoked. Create an account or workspace token at "
        "https://railway.com/account/tokens and set RAILWAY_API_TOKEN to it (or set RAILWAY_TOKEN to a project "
        "token from the project's Settings → Tokens)",
        op, said(account.error()), said(error));
    if (!error.trace_id.empty()) error.message += fmt::format(" (Railway traceId {})", error.trace_id);
    error.message = Redact(std::move(error.message), secret);
    error.attempts += account.error().attempts;
    return tl::unexpected(std::move(error));
}

ApiResult<PlatformStatus> RailwayClient::GetPlatformStatus() {
    return Ask(engine_, {"Railway platform status", documents::kPlatformStatus, "PlatformStatus", "platformStatus"},
               ParsePlatformStatus);
}

ApiResult<WorkspaceUsage> RailwayClient::GetWorkspaceUsage(const std::string& workspace_id) {
    return Ask(engine_,
               {"usage of workspace " + workspace_id,
                documents::kWorkspaceUsage,
                "WorkspaceUsage",
                "workspace",
                {{"workspaceId", workspace_id}}},
               ParseWorkspaceUsage);
}

}  // namespace railwatch::railway
