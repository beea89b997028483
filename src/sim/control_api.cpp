#include "sim/control_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using net::ServerRequest;
using net::ServerResponse;

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

/// The body as a JSON object, or the 400 answer to send.
util::Result<json> BodyObject(const ServerRequest& req, bool empty_is_object) {
    json body;
    try {
        body = req.body.empty() && empty_is_object ? json::object() : json::parse(req.body);
    } catch (const json::parse_error&) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "the body is not valid JSON");
    }
    if (!body.is_object()) return util::Fail(util::ErrorCode::kInvalidArgument, "the body must be a JSON object");
    return body;
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

util::Result<void> ControlApi::CreateScenarioDeployments() {
    std::unique_lock lock(state_.mutex);
    const core::Timestamp now = state_.clock.Now();
    for (const auto& spec : state_.config.deployments) {
        auto ids = state_.world->Create(spec, now);
        if (!ids) return tl::unexpected(ids.error());
    }
    state_.webhook_changes.Notify();
    return util::Ok();
}

ServerResponse ControlApi::Handle(const ServerRequest& req) {
    const std::string& path = req.path;
    if (path == "/_sim/deployments" && req.method == "POST") return Create(req);
    if (path == "/_sim/deployments/delete" && req.method == "POST") return Delete(req);
    if (path == "/_sim/truth" && req.method == "GET") {
        const auto ids = req.Param("id");
        return JsonResponse(200, Truth(ids ? SplitIds(*ids) : std::vector<std::string>{}).dump());
    }
    if (path == "/_sim/queries" && req.method == "GET") {
        const auto ids = req.Param("id");
        return JsonResponse(200, state_.queries.ToJson(ids ? SplitIds(*ids) : std::vector<std::string>{}).dump());
    }
    if (path == "/_sim/stats" && req.method == "GET") return JsonResponse(200, state_.counters.ToJson().dump());
    if (path == "/_sim/config" && req.method == "POST") return Configure(req);
    if (path == "/_sim/reset" && req.method == "POST") {
        Reset();
        return JsonResponse(200, R"({"reset":true})");
    }
    if (path == "/_sim/health" && req.method == "POST") return SetHealth(req);
    return ControlError(
        404, "not_found",
        "no such control call; see docs/SIMULATOR.md (POST /_sim/deployments, POST "
        "/_sim/deployments/delete, GET /_sim/truth, GET /_sim/queries, GET /_sim/stats, POST /_sim/config, POST "
        "/_sim/reset, POST /_sim/health)");
}

json ControlApi::Truth(const std::vector<std::string>& ids) const {
    std::shared_lock lock(state_.mutex);
    const World& world = *state_.world;
    const core::Timestamp now = state_.clock.Now();
    json list = json::array();
    json unknown = json::array();
    auto describe = [&](const SimDeployment& d) {
        json timeline = json::array();
        json planned = json::array();
        for (const auto& e : d.timeline) {
            json entry = {{"status", core::ToString(e.status)}, {"at", util::FormatRfc3339(e.at)}};
            if (e.at <= now) timeline.push_back(entry);
            planned.push_back(std::move(entry));
        }
        const SimService& s = world.ServiceOf(d);
        return json{{"id", d.id},
                    {"kind", ToString(d.kind)},
                    {"reason", d.reason == Reason::kNone ? json(nullptr) : json(ToString(d.reason))},
                    {"serviceId", s.id},
                    {"serviceName", s.name},
                    {"environmentId", d.environment_id},
                    {"health", ToString(s.health)},
                    {"currentStatus", core::ToString(d.StatusAt(now))},
                    {"finalStatus", core::ToString(d.timeline.empty() ? core::DeploymentStatus::kInitializing
                                                                      : d.timeline.back().status)},
                    {"finalAt", d.timeline.empty() ? json(nullptr) : json(util::FormatRfc3339(d.timeline.back().at))},
                    {"deleted", d.Deleted()},
                    {"deletedAt", d.deleted_at ? json(util::FormatRfc3339(*d.deleted_at)) : json(nullptr)},
                    {"timeline", std::move(timeline)},
                    {"plannedTimeline", std::move(planned)}};
    };
    if (ids.empty()) {
        for (const auto& d : world.Deployments())
            list.push_back(describe(d));
    } else {
        for (const auto& id : ids) {
            if (const SimDeployment* d = world.FindIncludingDeleted(id)) {
                list.push_back(describe(*d));
            } else {
                unknown.push_back(id);
            }
        }
    }
    return json{{"deployments", std::move(list)}, {"unknown", std::move(unknown)}, {"now", util::FormatRfc3339(now)}};
}

ServerResponse ControlApi::Create(const ServerRequest& req) {
    auto body = BodyObject(req, true);
    if (!body) return ControlError(400, "invalid_argument", body.error().message);
    auto spec = ParseCreateSpec(*body);
    if (!spec) return ControlError(400, "invalid_argument", spec.error().message);
    std::unique_lock lock(state_.mutex);
    auto ids = state_.world->Create(*spec, state_.clock.Now());
    if (!ids) return ControlError(400, "invalid_argument", ids.error().message);
    state_.webhook_changes.Notify();
    return JsonResponse(201, json{{"ids", *ids}}.dump());
}

ServerResponse ControlApi::Delete(const ServerRequest& req) {
    auto body = BodyObject(req, false);
    if (!body) return ControlError(400, "invalid_argument", body.error().message);
    const json ids = body->contains("ids") ? body->at("ids") : json();
    const bool valid = body->size() == 1 && ids.is_array() &&
                       std::all_of(ids.begin(), ids.end(), [](const json& id) { return id.is_string(); });
    if (!valid) return ControlError(400, "invalid_argument", "send {\"ids\": [\"<deployment id>\", ...]}");
    std::vector<std::string> not_deleted;
    std::unique_lock lock(state_.mutex);
    const std::size_t deleted =
        state_.world->Delete(ids.get<std::vector<std::string>>(), state_.clock.Now(), not_deleted);
    state_.webhook_changes.Notify();
    return JsonResponse(200, json{{"deleted", deleted}, {"notDeleted", not_deleted}}.dump());
}

ServerResponse ControlApi::Configure(const ServerRequest& req) {
    auto body = BodyObject(req, false);
    if (!body) return ControlError(400, "invalid_argument", body.error().message);
    for (const auto& [key, value] : body->items()) {
        if (std::find(std::begin(kRuntimeKeys), std::end(kRuntimeKeys), key) == std::end(kRuntimeKeys)) {
            std::string allowed;
            for (auto k : kRuntimeKeys)
                allowed += (allowed.empty() ? "" : ", ") + std::string(k);
            return ControlError(400, "invalid_argument", fmt::format("unknown key \"{}\" (allowed: {})", key, allowed));
        }
    }
    std::unique_lock lock(state_.mutex);
    auto next = ApplyRuntimeSettings(*body, state_.config);
    if (!next) return ControlError(400, "invalid_argument", next.error().message);
    state_.config = std::move(*next);
    state_.world->SetTimeScale(state_.config.time_scale);
    state_.SyncWebhookFeed();
    return JsonResponse(200, RuntimeSettingsJson(state_.config).dump());
}

ServerResponse ControlApi::SetHealth(const ServerRequest& req) {
    auto body = BodyObject(req, false);
    if (!body || !body->contains("serviceId") || !(*body)["serviceId"].is_string() || !body->contains("mode") ||
        !(*body)["mode"].is_string())
        return ControlError(400, "invalid_argument", "send {\"serviceId\": \"…\", \"mode\": \"healthy|slow|failing\"}");
    const auto mode = ParseHealthMode((*body)["mode"].get<std::string>());
    if (!mode) return ControlError(400, "invalid_argument", "\"mode\" must be healthy, slow or failing");
    std::unique_lock lock(state_.mutex);
    auto r = state_.world->SetHealth((*body)["serviceId"].get<std::string>(), *mode);
    if (!r) return ControlError(404, "not_found", r.error().message);
    return JsonResponse(200, R"({"ok":true})");
}

void ControlApi::Reset() {
    {
        std::unique_lock lock(state_.mutex);
        state_.config = state_.initial_config;
        state_.feed = StatusFeed{};
        state_.world = std::make_unique<World>(state_.config.seed, state_.config.durations, state_.config.time_scale);
        state_.SyncWebhookFeed();
        const core::Timestamp now = state_.clock.Now();
        for (const auto& spec : state_.config.deployments)
            (void)state_.world->Create(spec, now);
    }
    state_.ResetFaultDraws();
    state_.limiter.Reset();
    state_.counters.Reset();
    state_.queries.Reset();
}

}  // namespace railwatch::sim
