#include "api/render.hpp"

#include <algorithm>
#include <charconv>

#include "util/json.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::api {
namespace {

using nlohmann::json;

json OptText(const std::optional<std::string>& text) {
    return text ? json(*text) : json(nullptr);
}

/// https://railway.com/project/{p}/service/{s}?environmentId={e}&id={d}, nullopt while a part is
/// unknown. Railway's ids are UUIDs (no characters that need escaping); anything else is not
/// linked rather than linked wrongly.
std::optional<std::string> RailwayUrlText(const store::Instance& i) {
    if (!i.project_id || !i.state.deployment_id) return std::nullopt;
    const auto plain = [](const std::string& s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
        });
    };
    if (!plain(*i.project_id) || !plain(i.service_id) || !plain(i.environment_id) || !plain(*i.state.deployment_id))
        return std::nullopt;
    return "https://railway.com/project/" + *i.project_id + "/service/" + i.service_id +
           "?environmentId=" + i.environment_id + "&id=" + *i.state.deployment_id;
}

json RailwayUrl(const store::Instance& i) {
    auto url = RailwayUrlText(i);
    return url ? json(std::move(*url)) : json(nullptr);
}

/// Appends `"key":` (the key is a fixed ASCII name, no escaping needed) after a comma unless
/// it is the object's first member.
void AppendKey(std::string& out, std::string_view key, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += key;
    out += "\":";
}

void AppendText(std::string& out, std::string_view key, std::string_view text) {
    AppendKey(out, key);
    util::AppendJsonString(out, text);
}

void AppendOptText(std::string& out, std::string_view key, const std::optional<std::string>& text) {
    AppendKey(out, key);
    if (text) {
        util::AppendJsonString(out, *text);
    } else {
        out += "null";
    }
}

void AppendInt(std::string& out, long long value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
}

/// A timestamp as a JSON string: RFC 3339 text has nothing to escape.
void AppendTimeValue(std::string& out, core::Timestamp t) {
    out += '"';
    util::AppendRfc3339(out, t, util::TimePrecision::kMillis);
    out += '"';
}

void AppendTime(std::string& out, std::string_view key, const std::optional<core::Timestamp>& t) {
    AppendKey(out, key);
    if (t) {
        AppendTimeValue(out, *t);
    } else {
        out += "null";
    }
}

/// A JSON object from a stored JSON text, or an empty object when it is not one.
json ParseObject(const std::string& text) {
    json parsed = json::parse(text, nullptr, false);
    return parsed.is_object() ? parsed : json::object();
}

json StringField(const json& object, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        auto it = object.find(name);
        if (it != object.end() && it->is_string()) return *it;
    }
    return nullptr;
}

// The object at `name` in `object`, or an empty object.
json Member(const json& object, const char* name) {
    auto it = object.find(name);
    return it != object.end() && it->is_object() ? *it : json::object();
}

// The first non-null of two fields.
json Either(const json& first, const json& second) {
    return first.is_null() ? second : first;
}

// A duration in seconds, to the millisecond; none: null.
json SecondsJson(const std::optional<core::Duration>& interval) {
    if (!interval) return nullptr;
    return static_cast<double>(std::chrono::round<std::chrono::milliseconds>(*interval).count()) / 1000.0;
}

// A row of a deployment's step list (docs/DASHBOARD.md, "…/progress — steps"); `nested`: with
// its `substeps`.
json StepJson(const core::StepRow& row, bool nested) {
    std::optional<core::Duration> took;
    if (row.started_at && row.completed_at) took = *row.completed_at - *row.started_at;
    json out = {{"name", row.name},
                {"label", row.label},
                {"state", core::ToString(row.state)},
                {"startedAt", TimeJson(row.started_at)},
                {"completedAt", TimeJson(row.completed_at)},
                {"durationSeconds", SecondsJson(took)},
                {"medianSeconds", SecondsJson(row.median)}};
    if (nested) {
        json substeps = json::array();
        for (const core::StepRow& sub : row.substeps)
            substeps.push_back(StepJson(sub, false));
        out["substeps"] = std::move(substeps);
    }
    return out;
}

}  // namespace

json TimeJson(core::Timestamp t) {
    return util::FormatRfc3339(t, util::TimePrecision::kMillis);
}

json TimeJson(const std::optional<core::Timestamp>& t) {
    return t ? TimeJson(*t) : json(nullptr);
}

json InstanceJson(const store::Instance& i, const std::vector<store::HealthCheck>& recent_checks,
                  std::optional<core::Duration> check_interval) {
    const store::InstanceState& s = i.state;
    json checks = json::array();
    for (auto it = recent_checks.rbegin(); it != recent_checks.rend(); ++it) {
        checks.push_back({{"at", TimeJson(it->at)},
                          {"ok", it->ok},
                          {"latencyMs", it->latency_ms ? json(*it->latency_ms) : json(nullptr)}});
    }
    return {
        {"id", i.id},
        {"userId", OptText(i.user_id)},
        {"projectName", OptText(i.project_name)},
        {"projectId", OptText(i.project_id)},
        {"serviceId", i.service_id},
        {"environmentId", i.environment_id},
        {"deploymentId", OptText(s.deployment_id)},
        {"status", core::ToString(s.status)},
        {"deploymentStatus", OptText(s.deployment_status)},
        {"progress", s.progress},
        {"health", s.health ? *s.health : std::string("UNKNOWN")},
        {"errorType", s.error_type ? json(core::ToString(*s.error_type)) : json(nullptr)},
        {"errorMessage", OptText(s.error_message)},
        {"needsAttention", s.needs_attention},
        {"attentionReason", OptText(s.attention_reason)},
        {"retryCount", s.retry_count},
        {"monitoring", i.monitoring},
        {"checkIntervalSeconds", i.check_interval_s ? json(*i.check_interval_s) : json(nullptr)},
        {"createdAt", TimeJson(i.created_at)},
        {"deploymentStartedAt", TimeJson(s.deployment_started_at)},
        {"deploymentUpdatedAt", TimeJson(s.deployment_updated_at)},
        {"deploymentCompletedAt", TimeJson(s.deployment_completed_at)},
        {"deletedAt", TimeJson(i.deleted_at)},
        {"effectiveIntervalSeconds", SecondsJson(check_interval)},
        {"railwayUrl", RailwayUrl(i)},
        {"recentChecks", std::move(checks)},
    };
}

void AppendInstanceJson(std::string& out, const store::Instance& i, std::span<const store::CheckSummary> recent_checks,
                        std::optional<core::Duration> check_interval) {
    // The members in the order nlohmann::json (a std::map) writes them, so that the text is the
    // same as InstanceJson(i, recent_checks, check_interval).dump() (render_test holds the two
    // together).
    const store::InstanceState& s = i.state;
    out += '{';
    AppendKey(out, "attentionReason", true);
    if (s.attention_reason) {
        util::AppendJsonString(out, *s.attention_reason);
    } else {
        out += "null";
    }
    AppendKey(out, "checkIntervalSeconds");
    if (i.check_interval_s) {
        AppendInt(out, *i.check_interval_s);
    } else {
        out += "null";
    }
    AppendTime(out, "createdAt", i.created_at);
    AppendTime(out, "deletedAt", i.deleted_at);
    AppendTime(out, "deploymentCompletedAt", s.deployment_completed_at);
    AppendOptText(out, "deploymentId", s.deployment_id);
    AppendTime(out, "deploymentStartedAt", s.deployment_started_at);
    AppendOptText(out, "deploymentStatus", s.deployment_status);
    AppendTime(out, "deploymentUpdatedAt", s.deployment_updated_at);
    AppendKey(out, "effectiveIntervalSeconds");
    out += SecondsJson(check_interval).dump();  // nlohmann's number text, as InstanceJson's
    AppendText(out, "environmentId", i.environment_id);
    AppendOptText(out, "errorMessage", s.error_message);
    AppendKey(out, "errorType");
    if (s.error_type) {
        util::AppendJsonString(out, core::ToString(*s.error_type));
    } else {
        out += "null";
    }
    AppendText(out, "health", s.health ? std::string_view(*s.health) : std::string_view("UNKNOWN"));
    AppendText(out, "id", i.id);
    AppendKey(out, "monitoring");
    out += i.monitoring ? "true" : "false";
    AppendKey(out, "needsAttention");
    out += s.needs_attention ? "true" : "false";
    AppendKey(out, "progress");
    AppendInt(out, s.progress);
    AppendOptText(out, "projectId", i.project_id);
    AppendOptText(out, "projectName", i.project_name);
    AppendOptText(out, "railwayUrl", RailwayUrlText(i));
    AppendKey(out, "recentChecks");
    out += '[';
    for (auto it = recent_checks.rbegin(); it != recent_checks.rend(); ++it) {
        if (it != recent_checks.rbegin()) out += ',';
        out += '{';
        AppendKey(out, "at", true);
        AppendTimeValue(out, it->at);
        AppendKey(out, "latencyMs");
        if (it->latency_ms) {
            AppendInt(out, *it->latency_ms);
        } else {
            out += "null";
        }
        AppendKey(out, "ok");
        out += it->ok ? "true" : "false";
        out += '}';
    }
    out += ']';
    AppendKey(out, "retryCount");
    AppendInt(out, s.retry_count);
    AppendText(out, "serviceId", i.service_id);
    AppendText(out, "status", core::ToString(s.status));
    AppendOptText(out, "userId", i.user_id);
    out += '}';
}

json UserJson(const store::User& u) {
    return {
        {"id", u.id}, {"email", u.email}, {"name", u.name}, {"plan", u.plan}, {"createdAt", TimeJson(u.created_at)}};
}

json TimelineJson(const store::TimelineEvent& e) {
    return {{"id", e.id},           {"from", OptText(e.from_status)},  {"to", e.to_status},
            {"at", TimeJson(e.at)}, {"deploymentId", e.deployment_id}, {"source", e.source}};
}

json LogJson(const store::LogLine& l) {
    return {{"timestamp", util::FormatRfc3339(l.timestamp, util::TimePrecision::kNanos)},
            {"severity", l.severity},
            {"message", l.message},
            {"kind", core::ToString(l.kind)}};
}

json HealthCheckJson(const store::HealthCheck& c) {
    return {{"at", TimeJson(c.at)},
            {"ok", c.ok},
            {"httpStatus", c.http_status.value_or(0)},
            {"latencyMs", c.latency_ms ? json(*c.latency_ms) : json(nullptr)},
            {"error", OptText(c.error)}};
}

json NotificationJson(const store::Notification& n) {
    const json data = ParseObject(n.data);
    return {{"id", n.id},
            {"userId", n.user_id},
            {"instanceId",
             Either(StringField(data, {"instanceId", "instance_id"}), StringField(Member(data, "instance"), {"id"}))},
            {"type", n.type},
            {"errorType", StringField(data, {"errorType", "error_class"})},
            {"title", n.title},
            {"message", n.message},
            {"createdAt", TimeJson(n.created_at)},
            {"readAt", TimeJson(n.read_at)}};
}

json DeliveryJson(const store::OutboxRow& row) {
    const json payload = ParseObject(row.message.payload);
    // The notifier's payload (notify::EncodePayload) holds the event under "event"; flat
    // payloads name the fields at the top.
    const json event = Member(payload, "event");
    return {
        {"id", row.message.id},
        {"channel", row.message.channel},
        {"status", store::ToString(row.status)},
        {"attempts", row.attempts},
        {"lastError", OptText(row.last_error)},
        {"notificationType", Either(StringField(payload, {"type", "notificationType"}), StringField(event, {"type"}))},
        {"instanceId",
         Either(StringField(payload, {"instanceId", "instance_id"}), StringField(Member(event, "instance"), {"id"}))},
        {"eventId", StringField(event, {"id"})},
        {"createdAt", TimeJson(row.message.created_at)},
        {"sentAt", TimeJson(row.sent_at)},
        {"nextAttemptAt", row.status == store::OutboxStatus::kPending || row.status == store::OutboxStatus::kFailed
                              ? TimeJson(row.next_attempt_at)
                              : json(nullptr)}};
}

json DisabledEndpointJson(const store::DisabledEndpoint& endpoint) {
    return {{"key", endpoint.key},
            {"channel", endpoint.channel},
            {"reason", endpoint.reason},
            {"disabledAt", TimeJson(endpoint.disabled_at)}};
}

json ProgressJson(const monitor::ProgressReport& r, const std::optional<std::string>& deployment_id) {
    json steps = json::array();
    for (const core::StepRow& row : r.steps)
        steps.push_back(StepJson(row, true));
    return {{"instanceId", r.instance_id},
            {"deploymentId", OptText(deployment_id)},
            {"progress", r.progress},
            {"phase", r.phase},
            {"etaSeconds", r.eta_seconds ? json(*r.eta_seconds) : json(nullptr)},
            {"stepAware", r.step_aware},
            {"steps", std::move(steps)}};
}

json CapacityJson(const monitor::CapacityReport& r) {
    json intervals = json::object();
    for (const auto& [status, seconds] : r.effective_interval_s)
        intervals[status] = seconds;
    return {{"monitored", r.monitored},
            {"capacity", r.capacity},
            {"requestsPerHour", r.requests_per_hour},
            {"requestsPerSecond", r.requests_per_second},
            {"sharedBy", r.shared_by},
            {"batchSize", r.batch_size},
            {"stretch", r.stretch},
            {"effectiveIntervalSeconds", std::move(intervals)}};
}

}  // namespace railwatch::api
