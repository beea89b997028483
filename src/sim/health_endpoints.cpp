#include "sim/health_endpoints.hpp"

#include <nlohmann/json.hpp>
#include <shared_mutex>

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using net::ServerResponse;

ServerResponse Answer(int status, std::string content_type, std::string body) {
    ServerResponse res;
    res.status = status;
    res.content_type = std::move(content_type);
    res.body = std::move(body);
    return res;
}

}  // namespace

ServerResponse HealthEndpoints::Handle(const net::ServerRequest& req) {
    std::string_view rest = req.path;
    if (rest.rfind("/s/", 0) != 0) return Answer(404, "text/plain", "Application not found");
    rest.remove_prefix(3);
    const std::string service_id(rest.substr(0, rest.find('/')));
    HealthMode mode = HealthMode::kHealthy;
    int slow_ms = 0;
    std::string name;
    core::DeploymentStatus status = core::DeploymentStatus::kInitializing;
    bool has_deployment = false;
    {
        std::shared_lock lock(state_.mutex);
        const World& world = *state_.world;
        const SimService* s = world.FindService(service_id);
        if (s == nullptr) return Answer(404, "text/plain", "Application not found");
        mode = s->health;
        slow_ms = state_.config.slow_health_ms;
        name = s->name;
        const core::Timestamp now = state_.clock.Now();
        if (const SimDeployment* d = world.Latest(s->id, s->environment_id)) {
            has_deployment = true;
            status = d->StatusAt(now);
            // The newest deployment may still be building while an older one serves.
            for (std::size_t index : s->deployments) {
                const SimDeployment& other = world.Deployments()[index];
                if (!other.Deleted() && other.StatusAt(now) == core::DeploymentStatus::kSuccess)
                    status = core::DeploymentStatus::kSuccess;
            }
        }
    }
    if (!has_deployment || status != core::DeploymentStatus::kSuccess) {
        return Answer(502, "application/json",
                      json{{"status", "error"},
                           {"code", 502},
                           {"message", "Application failed to respond"},
                           {"deploymentStatus", has_deployment ? std::string(core::ToString(status)) : "NONE"}}
                          .dump());
    }
    switch (mode) {
        case HealthMode::kFailing:
            return Answer(503, "application/json; charset=utf-8",
                          json{{"status", "failing"}, {"service", name}}.dump());
        case HealthMode::kSlow:
            state_.clock.WaitFor(core::Millis(slow_ms), state_.stop);
            return Answer(200, "application/json; charset=utf-8",
                          json{{"status", "ok"}, {"service", name}, {"slowMs", slow_ms}}.dump());
        case HealthMode::kHealthy:
            break;
    }
    return Answer(200, "application/json; charset=utf-8", json{{"status", "ok"}, {"service", name}}.dump());
}

}  // namespace railwatch::sim
