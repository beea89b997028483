#include "railway/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using nlohmann::json;
using util::ErrorCode;

util::Error Missing(std::string_view what) {
    return util::Error(ErrorCode::kParse, std::string(what));
}

std::optional<std::string> OptString(const json& node, const char* key) {
    auto it = node.find(key);
    if (it == node.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

bool OptBool(const json& node, const char* key) {
    auto it = node.find(key);
    return it != node.end() && it->is_boolean() && it->get<bool>();
}

// A number as `Int`: a fraction dropped, a value beyond Int's range clamped to it (a plain cast
// of such a value is undefined). None for NaN.
template <typename Int>
std::optional<Int> Clamped(double n) {
    using Limits = std::numeric_limits<Int>;
    if (std::isnan(n)) return std::nullopt;
    // Compared, not clamped as doubles: Int's largest value may round up to one beyond it.
    if (n >= static_cast<double>(Limits::max())) return Limits::max();
    if (n <= static_cast<double>(Limits::min())) return Limits::min();
    return static_cast<Int>(n);
}
template <typename Int>
Int Clamped(std::int64_t n) {
    return static_cast<Int>(
        std::clamp<std::int64_t>(n, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max()));
}
template <typename Int>
Int Clamped(std::uint64_t n) {
    return static_cast<Int>(std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::numeric_limits<Int>::max())));
}

// A number field as `Int` (Clamped); none when it is missing or not a number.
template <typename Int>
std::optional<Int> OptInt(const json& node, const char* key) {
    auto it = node.find(key);
    if (it == node.end() || !it->is_number()) return std::nullopt;
    if (it->is_number_unsigned()) return Clamped<Int>(it->get<std::uint64_t>());
    if (it->is_number_integer()) return Clamped<Int>(it->get<std::int64_t>());
    return Clamped<Int>(it->get<double>());
}

// Railway's attribute values look JSON-encoded ("\"error\""): the text without its quotes.
std::string Unquoted(std::string value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') return value.substr(1, value.size() - 2);
    return value;
}

// The values of the fields `names` of `object`, found in one pass (each known field's first value,
// as a lookup by key would find it): a lookup per field walks the object each time (most of the
// status mapping's time on the hot path before).
template <std::size_t N>
std::array<std::optional<simdjson::dom::element>, N> Pick(simdjson::dom::object object,
                                                          const std::array<std::string_view, N>& names) {
    std::array<std::optional<simdjson::dom::element>, N> values;
    for (const simdjson::dom::key_value_pair field : object) {
        for (std::size_t f = 0; f < N; ++f) {
            if (field.key == names[f]) {
                if (!values[f]) values[f] = field.value;
                break;
            }
        }
    }
    return values;
}

std::optional<std::string_view> TextOf(const std::optional<simdjson::dom::element>& value) {
    std::string_view text;
    if (!value || value->get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
    return text;
}

std::optional<std::string> StringOf(const std::optional<simdjson::dom::element>& value) {
    if (auto text = TextOf(value)) return std::string(*text);
    return std::nullopt;
}

std::optional<core::Timestamp> TimeOf(const std::optional<simdjson::dom::element>& value) {
    if (auto text = TextOf(value))
        if (auto t = util::ParseRfc3339(*text)) return *t;
    return std::nullopt;
}

bool TrueOf(const std::optional<simdjson::dom::element>& value) {
    bool flag = false;
    return value && value->get_bool().get(flag) == simdjson::SUCCESS && flag;
}

// A number as `Int` (Clamped); none when the value is not a number.
template <typename Int>
std::optional<Int> IntOf(const std::optional<simdjson::dom::element>& value) {
    if (!value) return std::nullopt;
    if (std::int64_t n = 0; value->get_int64().get(n) == simdjson::SUCCESS) return Clamped<Int>(n);
    if (std::uint64_t n = 0; value->get_uint64().get(n) == simdjson::SUCCESS) return Clamped<Int>(n);
    if (double n = 0; value->get_double().get(n) == simdjson::SUCCESS) return Clamped<Int>(n);
    return std::nullopt;
}

// The object of every edge's `node` of a connection, each parsed by `parse`; `type` names the
// connection, `node_type` its nodes.
template <typename T, typename Parse>
util::Result<std::vector<T>> ParseNodes(simdjson::dom::object connection, std::string_view type,
                                        std::string_view node_type, Parse parse) {
    simdjson::dom::array edges;
    if (connection["edges"].get_array().get(edges) != simdjson::SUCCESS)
        return tl::unexpected(Missing(fmt::format("{}.edges is missing", type)));
    std::vector<T> out;
    out.reserve(edges.size());
    for (const simdjson::dom::element edge : edges) {
        simdjson::dom::element node;
        if (edge["node"].get(node) != simdjson::SUCCESS)
            return tl::unexpected(Missing(fmt::format("{}.edges[].node is missing", type)));
        simdjson::dom::object fields;
        if (node.get_object().get(fields) != simdjson::SUCCESS)
            return tl::unexpected(Missing(fmt::format("{} is not an object", node_type)));
        auto parsed = parse(fields);
        if (!parsed) return tl::unexpected(std::move(parsed.error()));
        out.push_back(std::move(*parsed));
    }
    return out;
}

util::Result<core::RailwayStatus> StatusOf(const std::optional<simdjson::dom::element>& value) {
    const auto text = TextOf(value);
    if (!text) return tl::unexpected(Missing("Deployment.status is missing or not a string"));
    return core::RailwayStatus::Parse(*text);
}

// A deployment's fields (ParseDeployment, a list's nodes).
util::Result<Deployment> DeploymentOf(simdjson::dom::object object) {
    enum Field : std::size_t {
        kId,
        kStatus,
        kStatusUpdatedAt,
        kCreatedAt,
        kUpdatedAt,
        kUrl,
        kStaticUrl,
        kDeploymentStopped,
        kCanRedeploy,
        kInstances,
        kServiceId,
        kEnvironmentId,
        kProjectId,
        kFields
    };
    static constexpr std::array<std::string_view, kFields> kNames = {
        "id",        "status",        "statusUpdatedAt",   "createdAt",   "updatedAt",
        "url",       "staticUrl",     "deploymentStopped", "canRedeploy", "instances",
        "serviceId", "environmentId", "projectId"};
    const auto values = Pick(object, kNames);
    Deployment d;
    const auto id = TextOf(values[kId]);
    if (!id) return tl::unexpected(Missing("Deployment.id is missing or not a string"));
    d.id = std::string(*id);
    auto status = StatusOf(values[kStatus]);
    if (!status) return tl::unexpected(std::move(status.error()));
    d.status = std::move(*status);
    d.status_updated_at = TimeOf(values[kStatusUpdatedAt]);
    d.created_at = TimeOf(values[kCreatedAt]);
    d.updated_at = TimeOf(values[kUpdatedAt]);
    d.url = StringOf(values[kUrl]);
    d.static_url = StringOf(values[kStaticUrl]);
    d.deployment_stopped = TrueOf(values[kDeploymentStopped]);
    d.can_redeploy = TrueOf(values[kCanRedeploy]);
    if (simdjson::dom::array instances;
        values[kInstances] && values[kInstances]->get_array().get(instances) == simdjson::SUCCESS) {
        d.instances.reserve(instances.size());
        for (simdjson::dom::element instance : instances) {
            std::string_view value;
            d.instances.push_back({instance.at_key("status").get_string().get(value) == simdjson::SUCCESS
                                       ? std::string(value)
                                       : std::string()});
        }
    }
    d.service_id = StringOf(values[kServiceId]);
    d.environment_id = StringOf(values[kEnvironmentId]).value_or("");
    d.project_id = StringOf(values[kProjectId]).value_or("");
    return d;
}

}  // namespace

util::Result<Deployment> ParseDeployment(simdjson::dom::element node) {
    simdjson::dom::object object;
    if (node.get_object().get(object) != simdjson::SUCCESS)
        return tl::unexpected(Missing("deployment is not an object"));
    return DeploymentOf(object);
}

util::Result<PolledStatus> ParsePolledStatus(simdjson::dom::element node) {
    simdjson::dom::object object;
    if (node.get_object().get(object) != simdjson::SUCCESS)
        return tl::unexpected(Missing("deployment is not an object"));
    enum Field : std::size_t { kStatus, kStatusUpdatedAt, kCreatedAt, kUpdatedAt, kDeploymentStopped, kFields };
    static constexpr std::array<std::string_view, kFields> kNames = {"status", "statusUpdatedAt", "createdAt",
                                                                     "updatedAt", "deploymentStopped"};
    const auto values = Pick(object, kNames);
    PolledStatus p;
    auto status = StatusOf(values[kStatus]);
    if (!status) return tl::unexpected(std::move(status.error()));
    p.status = std::move(*status);
    p.status_updated_at = TimeOf(values[kStatusUpdatedAt]);
    p.created_at = TimeOf(values[kCreatedAt]);
    p.updated_at = TimeOf(values[kUpdatedAt]);
    p.deployment_stopped = TrueOf(values[kDeploymentStopped]);
    return p;
}

util::Result<std::vector<Deployment>> ParseDeploymentList(simdjson::dom::element connection) {
    simdjson::dom::object object;
    if (connection.get_object().get(object) != simdjson::SUCCESS)
        return tl::unexpected(Missing("deployments is not an object"));
    auto list = ParseNodes<Deployment>(object, "deployments", "deployment", DeploymentOf);
    if (!list) return list;
    // Unknown creation times sort last.
    std::stable_sort(list->begin(), list->end(), [](const Deployment& a, const Deployment& b) {
        if (a.created_at && b.created_at) return *a.created_at > *b.created_at;
        return a.created_at.has_value() && !b.created_at.has_value();
    });
    return list;
}

util::Result<LogLine> ParseLogLine(simdjson::dom::element node) {
    using simdjson::SUCCESS;
    simdjson::dom::object object;
    if (node.get_object().get(object) != SUCCESS) return tl::unexpected(Missing("log line is not an object"));
    const auto text = [](simdjson::dom::object o, const char* key) {
        std::string_view value;
        return o.at_key(key).get_string().get(value) == SUCCESS ? std::string(value) : std::string();
    };
    std::string_view ts;
    if (object.at_key("timestamp").get_string().get(ts) != SUCCESS)
        return tl::unexpected(Missing("Log.timestamp is missing or not a string"));
    auto parsed = util::ParseRfc3339(ts);
    if (!parsed) return tl::unexpected(Missing("Log.timestamp: " + parsed.error().message));
    LogLine line;
    line.timestamp = *parsed;
    line.timestamp_raw = std::string(ts);
    line.message = text(object, "message");
    line.severity = text(object, "severity");
    if (simdjson::dom::array attributes; object.at_key("attributes").get_array().get(attributes) == SUCCESS) {
        line.attributes.reserve(attributes.size());
        for (simdjson::dom::element attribute : attributes) {
            simdjson::dom::object pair;
            if (attribute.get_object().get(pair) != SUCCESS) {
                line.attributes.push_back({});
                continue;
            }
            line.attributes.push_back({text(pair, "key"), text(pair, "value")});
        }
    }
    if (line.severity.empty()) {
        auto level = std::find_if(line.attributes.begin(), line.attributes.end(),
                                  [](const LogAttribute& a) { return a.key == "level"; });
        if (level != line.attributes.end()) line.severity = Unquoted(level->value);
    }
    return line;
}

util::Result<std::vector<LogLine>> ParseLogLines(simdjson::dom::element list) {
    simdjson::dom::array array;
    if (list.get_array().get(array) != simdjson::SUCCESS)
        return tl::unexpected(Missing("the log list is not an array"));
    std::vector<LogLine> lines;
    lines.reserve(array.size());
    for (simdjson::dom::element node : array) {
        auto line = ParseLogLine(node);
        if (!line) return tl::unexpected(line.error());
        lines.push_back(std::move(*line));
    }
    return lines;
}

util::Result<std::vector<DeploymentEvent>> ParseDeploymentEvents(simdjson::dom::element connection) {
    using simdjson::SUCCESS;
    simdjson::dom::object object;
    if (connection.get_object().get(object) != SUCCESS)
        return tl::unexpected(Missing("deploymentEvents is not an object"));
    return ParseNodes<DeploymentEvent>(
        object, "deploymentEvents", "deployment event",
        [](simdjson::dom::object fields) -> util::Result<DeploymentEvent> {
            const auto [step, created_at, completed_at, payload] =
                Pick<4>(fields, {"step", "createdAt", "completedAt", "payload"});
            const auto step_text = TextOf(step);
            if (!step_text) return tl::unexpected(Missing("DeploymentEvent.step is missing or not a string"));
            DeploymentEvent event;
            event.step = std::string(*step_text);
            event.created_at = TimeOf(created_at);
            event.completed_at = TimeOf(completed_at);
            if (simdjson::dom::object p; payload && payload->get_object().get(p) == SUCCESS) {
                const auto [attempt, max_attempts, duration_ms, error, reason, detail, skipped] =
                    Pick<7>(p, {"attempt", "maxAttempts", "durationMs", "error", "reason", "detail", "skipped"});
                event.attempt = IntOf<int>(attempt);
                event.max_attempts = IntOf<int>(max_attempts);
                event.duration_ms = IntOf<long long>(duration_ms);
                event.error = StringOf(error).value_or("");
                event.reason = StringOf(reason).value_or("");
                event.detail = StringOf(detail).value_or("");
                event.skipped = TrueOf(skipped);
            }
            return event;
        });
}

util::Result<ServiceInstanceInfo> ParseServiceInstance(const json& node) {
    if (!node.is_object()) return tl::unexpected(Missing("serviceInstance is not an object"));
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
    if (!node.is_object()) return tl::unexpected(Missing("platformStatus is not an object"));
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
    if (!node.is_object()) return tl::unexpected(Missing("workspace is not an object"));
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

util::Result<TokenInfo> ParseMe(const json& node) {
    if (!node.is_object()) return tl::unexpected(Missing("me is not an object"));
    TokenInfo info;
    info.scope = TokenScope::kAccount;
    info.user_id = OptString(node, "id").value_or("");
    info.user_email = OptString(node, "email").value_or("");
    info.user_name = OptString(node, "name").value_or("");
    return info;
}

util::Result<TokenInfo> ParseApiToken(const json& node) {
    if (!node.is_object()) return tl::unexpected(Missing("apiToken is not an object"));
    auto workspaces = node.find("workspaces");
    if (workspaces == node.end() || !workspaces->is_array()) {
        return tl::unexpected(Missing("apiToken.workspaces is missing"));
    }
    TokenInfo info;
    info.scope = TokenScope::kWorkspace;
    for (const auto& w : *workspaces)
        info.workspaces.push_back({OptString(w, "id").value_or(""), OptString(w, "name").value_or("")});
    return info;
}

util::Result<TokenInfo> ParseProjectToken(const json& node) {
    if (!node.is_object()) return tl::unexpected(Missing("projectToken is not an object"));
    TokenInfo info;
    info.scope = TokenScope::kProject;
    info.project_id = OptString(node, "projectId").value_or("");
    info.environment_id = OptString(node, "environmentId").value_or("");
    return info;
}

namespace {

// The first domain of a service instance's `domains` that is not empty: service domains, then
// custom ones (as ServiceInstanceInfo::domains lists them).
std::optional<std::string> FirstDomainOf(const std::optional<simdjson::dom::element>& domains) {
    using simdjson::SUCCESS;
    simdjson::dom::object object;
    if (!domains || domains->get_object().get(object) != SUCCESS) return std::nullopt;
    for (const char* kind : {"serviceDomains", "customDomains"}) {
        simdjson::dom::array list;
        if (object.at_key(kind).get_array().get(list) != SUCCESS) continue;
        for (const simdjson::dom::element entry : list) {
            std::string_view domain;
            if (entry.at_key("domain").get_string().get(domain) == SUCCESS && !domain.empty())
                return std::string(domain);
        }
    }
    return std::nullopt;
}

// A connection's `pageInfo { hasNextPage endCursor }` into a page's fields (none: the last page).
template <typename Page>
void ReadPageInfo(simdjson::dom::object connection, Page& page) {
    simdjson::dom::object info;
    if (connection["pageInfo"].get_object().get(info) != simdjson::SUCCESS) return;
    const auto [has_next, cursor] = Pick<2>(info, {"hasNextPage", "endCursor"});
    page.has_next_page = TrueOf(has_next);
    page.end_cursor = StringOf(cursor).value_or("");
}

}  // namespace

// In place (simdjson): one environment may hold many services, and an nlohmann copy of a large
// answer took about ten times its size (a 30 MB answer of 100,000 services: ~500 MB).
util::Result<ServiceInstancePage> ParseEnvironmentLatestDeployments(simdjson::dom::element environment) {
    using simdjson::SUCCESS;
    simdjson::dom::object object;
    if (environment.get_object().get(object) != SUCCESS) return tl::unexpected(Missing("environment is not an object"));
    simdjson::dom::object connection;
    if (simdjson::dom::element found; object["serviceInstances"].get(found) != SUCCESS) {
        return tl::unexpected(Missing("environment.serviceInstances is missing"));
    } else if (found.get_object().get(connection) != SUCCESS) {
        return tl::unexpected(Missing("serviceInstances is not an object"));
    }
    auto services = ParseNodes<ServiceLatestDeployment>(
        connection, "serviceInstances", "serviceInstance",
        [](simdjson::dom::object fields) -> util::Result<ServiceLatestDeployment> {
            const auto [service_id, latest, healthcheck_path, domains] =
                Pick<4>(fields, {"serviceId", "latestDeployment", "healthcheckPath", "domains"});
            const auto id = TextOf(service_id);
            if (!id) return tl::unexpected(Missing("ServiceInstance.serviceId is missing or not a string"));
            ServiceLatestDeployment out;
            out.service_id = std::string(*id);
            if (latest && !latest->is_null()) {
                simdjson::dom::element latest_id;
                std::string_view text;
                if (latest->get_object().at_key("id").get(latest_id) != SUCCESS ||
                    latest_id.get_string().get(text) != SUCCESS)
                    return tl::unexpected(Missing("ServiceInstance.latestDeployment.id is missing or not a string"));
                out.latest_id = std::string(text);
            }
            out.healthcheck_path = StringOf(healthcheck_path);
            out.first_domain = FirstDomainOf(domains);
            return out;
        });
    if (!services) return tl::unexpected(std::move(services.error()));
    ServiceInstancePage page;
    page.services = std::move(*services);
    ReadPageInfo(connection, page);
    return page;
}

util::Result<std::optional<Deployment>> ParseServiceLatestDeployment(simdjson::dom::element service_instance) {
    simdjson::dom::object object;
    if (service_instance.get_object().get(object) != simdjson::SUCCESS)
        return tl::unexpected(Missing("serviceInstance is not an object"));
    simdjson::dom::element latest;
    if (object["latestDeployment"].get(latest) != simdjson::SUCCESS)
        return tl::unexpected(Missing("serviceInstance.latestDeployment is missing"));
    if (latest.is_null()) return std::optional<Deployment>();
    auto deployment = ParseDeployment(latest);
    if (!deployment) return tl::unexpected(std::move(deployment.error()));
    return std::optional<Deployment>(std::move(*deployment));
}

util::Result<DeploymentPage> ParseEnvironmentDeployments(simdjson::dom::element connection) {
    using simdjson::SUCCESS;
    simdjson::dom::object object;
    if (connection.get_object().get(object) != SUCCESS) return tl::unexpected(Missing("deployments is not an object"));
    auto deployments = ParseNodes<ListedDeployment>(
        object, "deployments", "deployment", [](simdjson::dom::object fields) -> util::Result<ListedDeployment> {
            const auto [id, service_id, created_at] = Pick<3>(fields, {"id", "serviceId", "createdAt"});
            const auto text = TextOf(id);
            if (!text) return tl::unexpected(Missing("Deployment.id is missing or not a string"));
            // Ordering and cutting the list rest on it: a deployment without one is not guessed at.
            const auto created = TimeOf(created_at);
            if (!created) return tl::unexpected(Missing("Deployment.createdAt is missing or not a time"));
            return ListedDeployment{std::string(*text), StringOf(service_id).value_or(""), *created};
        });
    if (!deployments) return tl::unexpected(std::move(deployments.error()));
    DeploymentPage page;
    page.deployments = std::move(*deployments);
    ReadPageInfo(object, page);
    return page;
}

}  // namespace railwatch::railway
