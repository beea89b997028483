#include "app/placeholder_engine.hpp"

#include <algorithm>
#include <cctype>

#include "util/ids.hpp"

namespace railwatch::app {

PlaceholderEngine::PlaceholderEngine(store::Store& store, const util::Clock& clock, monitor::EventSink& events,
                                     int default_interval_s)
    : store_(store), clock_(clock), events_(events), default_interval_s_(default_interval_s) {}

util::Result<store::Instance> PlaceholderEngine::Changed(const std::string& id) {
    auto instance = store_.GetInstance(id);
    if (instance) events_.OnInstance(*instance);
    return instance;
}

util::Result<store::Instance> PlaceholderEngine::AddInstance(const monitor::AddInstanceRequest& request) {
    if (request.service_id.empty()) return util::Fail(util::ErrorCode::kInvalidArgument, "serviceId is required");
    if (request.environment_id.empty())
        return util::Fail(util::ErrorCode::kInvalidArgument, "environmentId is required");
    if (request.check_interval_s && *request.check_interval_s < 1)
        return util::Fail(util::ErrorCode::kInvalidArgument, "checkIntervalSeconds must be at least 1");
    store::Instance instance;
    instance.id = util::NewId("ins");
    instance.user_id = request.user_id;
    instance.project_name = request.project_name;
    instance.service_id = request.service_id;
    instance.environment_id = request.environment_id;
    instance.state.deployment_id = request.deployment_id;
    instance.state.next_check_at = clock_.Now();
    instance.check_interval_s = request.check_interval_s.value_or(default_interval_s_);
    instance.created_at = clock_.Now();
    if (auto created = store_.CreateInstance(instance); !created) {
        if (created.error().code == util::ErrorCode::kNotFound && request.user_id)
            return util::Fail(util::ErrorCode::kNotFound,
                              "userId \"" + *request.user_id + "\" names no user; create it with POST /api/v1/users");
        return tl::unexpected(created.error());
    }
    return Changed(instance.id);
}

util::Result<store::Instance> PlaceholderEngine::DeleteInstance(const std::string& id) {
    if (auto deleted = store_.DeleteInstance(id, clock_.Now()); !deleted) return tl::unexpected(deleted.error());
    return Changed(id);
}

util::Result<store::Instance> PlaceholderEngine::SetMonitoring(const std::string& id, bool enabled,
                                                               std::optional<int> check_interval_s) {
    if (auto set = store_.SetMonitoring(id, enabled, check_interval_s, clock_.Now()); !set)
        return tl::unexpected(set.error());
    return Changed(id);
}

util::Result<void> PlaceholderEngine::Redeploy(const std::string& id) {
    if (auto instance = store_.GetInstance(id); !instance) return tl::unexpected(instance.error());
    return util::Fail(util::ErrorCode::kUnavailable,
                      "redeploys need the monitoring engine, which this build does not include yet");
}

util::Result<int> PlaceholderEngine::CheckDeploymentNow(const std::string& deployment_id) {
    auto instances = store_.FindInstancesByDeployment(deployment_id);
    if (!instances) return tl::unexpected(instances.error());
    int woken = 0;
    for (store::Instance& instance : *instances) {
        if (instance.deleted_at || !instance.monitoring) continue;
        instance.state.next_check_at = clock_.Now();
        if (auto saved = store_.SaveState(instance.id, instance.state); !saved) return tl::unexpected(saved.error());
        ++woken;
    }
    return woken;
}

util::Result<monitor::ProgressReport> PlaceholderEngine::Progress(const std::string& id) {
    auto instance = store_.GetInstance(id);
    if (!instance) return tl::unexpected(instance.error());
    monitor::ProgressReport report;
    report.instance_id = id;
    report.progress = instance->state.progress;
    std::string phase = instance->state.deployment_status.value_or("unknown");
    std::transform(phase.begin(), phase.end(), phase.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    report.phase = phase;
    return report;
}

monitor::CapacityReport PlaceholderEngine::Capacity() const {
    return {};
}

}  // namespace railwatch::app
