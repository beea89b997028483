#include "fakes/fake_railway_api.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace railwatch::fakes {

using railway::ApiError;
using railway::ApiResult;

ApiError FakeRailwayApi::MakeError(util::ErrorCode code, std::string message, core::ApiFailure failure) {
    ApiError error;
    error.code = code;
    error.message = std::move(message);
    const core::Classification c = core::ClassifyApiFailure(failure);
    error.error_class = c.error_class;
    error.retryable = c.retryable;
    error.failure = std::move(failure);
    error.attempts = 1;
    return error;
}

ApiError FakeRailwayApi::NotFound(const std::string& what) const {
    core::ApiFailure failure;
    failure.http_status = 200;
    failure.graphql_messages = {what + " not found"};
    return MakeError(util::ErrorCode::kNotFound, "fake Railway: " + what + " not found", failure);
}

std::optional<ApiError> FakeRailwayApi::Enter(const std::string& call) {
    CallHook hook;
    {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
        hook = hook_;
    }
    if (hook) hook(call.substr(0, call.find('(')));
    std::lock_guard lock(mutex_);
    if (stopped_) return MakeError(util::ErrorCode::kCancelled, "fake Railway: stopped");
    return fail_everything_;
}

void FakeRailwayApi::SetDeployment(railway::Deployment deployment) {
    std::lock_guard lock(mutex_);
    const std::string id = deployment.id;
    deployments_[id] = {std::move(deployment)};
    next_answer_[id] = 0;
}

void FakeRailwayApi::ScriptDeployment(const std::string& id, std::vector<ApiResult<railway::Deployment>> answers) {
    std::lock_guard lock(mutex_);
    deployments_[id] = std::move(answers);
    next_answer_[id] = 0;
}

void FakeRailwayApi::SetDeploymentError(const std::string& id, ApiError error) {
    std::lock_guard lock(mutex_);
    deployments_[id] = {tl::unexpected(std::move(error))};
    next_answer_[id] = 0;
}

void FakeRailwayApi::SetLatestDeployment(const std::string& service_id, const std::string& environment_id,
                                         std::optional<railway::Deployment> deployment) {
    std::lock_guard lock(mutex_);
    latest_[{service_id, environment_id}] = std::move(deployment);
}

void FakeRailwayApi::SetDeploymentEvents(const std::string& deployment_id,
                                         std::vector<railway::DeploymentEvent> events) {
    std::lock_guard lock(mutex_);
    events_[deployment_id] = std::move(events);
}

void FakeRailwayApi::AddLogs(railway::LogKind kind, const std::string& deployment_id,
                             std::vector<railway::LogLine> lines) {
    std::lock_guard lock(mutex_);
    auto& held = logs_[{kind, deployment_id}];
    held.insert(held.end(), std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()));
    std::stable_sort(held.begin(), held.end(),
                     [](const railway::LogLine& a, const railway::LogLine& b) { return a.timestamp < b.timestamp; });
}

void FakeRailwayApi::SetServiceInstance(const std::string& service_id, const std::string& environment_id,
                                        railway::ServiceInstanceInfo info) {
    std::lock_guard lock(mutex_);
    service_instances_[{service_id, environment_id}] = std::move(info);
}

void FakeRailwayApi::SetRedeployAnswer(const std::string& deployment_id, ApiResult<std::string> answer) {
    std::lock_guard lock(mutex_);
    redeploy_answers_.insert_or_assign(deployment_id, std::move(answer));
}

void FakeRailwayApi::SetTokenAnswer(ApiResult<railway::TokenInfo> answer) {
    std::lock_guard lock(mutex_);
    token_ = std::move(answer);
}

void FakeRailwayApi::SetPlatformStatus(ApiResult<railway::PlatformStatus> answer) {
    std::lock_guard lock(mutex_);
    platform_ = std::move(answer);
}

void FakeRailwayApi::SetWorkspaceUsage(const std::string& workspace_id, ApiResult<railway::WorkspaceUsage> answer) {
    std::lock_guard lock(mutex_);
    usage_.insert_or_assign(workspace_id, std::move(answer));
}

void FakeRailwayApi::SetBudget(railway::BudgetSnapshot budget) {
    std::lock_guard lock(mutex_);
    budget_ = budget;
}

void FakeRailwayApi::FailEverything(std::optional<ApiError> error) {
    std::lock_guard lock(mutex_);
    fail_everything_ = std::move(error);
}

void FakeRailwayApi::SetCallHook(CallHook hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
}

std::vector<std::string> FakeRailwayApi::Calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

int FakeRailwayApi::CallCount(const std::string& name) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [&](const std::string& call) {
        return call.compare(0, name.size(), name) == 0 && call.size() > name.size() && call[name.size()] == '(';
    }));
}

std::vector<railway::DeploymentResult> FakeRailwayApi::GetDeployments(std::span<const std::string> ids) {
    std::string joined;
    for (const auto& id : ids)
        joined += (joined.empty() ? "" : ",") + id;
    const auto failure = Enter("GetDeployments(" + joined + ")");
    std::vector<railway::DeploymentResult> out;
    out.reserve(ids.size());
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
        if (failure) {
            out.push_back({id, tl::unexpected(*failure)});
            continue;
        }
        auto it = deployments_.find(id);
        if (it == deployments_.end() || it->second.empty()) {
            out.push_back({id, tl::unexpected(NotFound("deployment " + id))});
            continue;
        }
        std::size_t& next = next_answer_[id];
        out.push_back({id, it->second[std::min(next, it->second.size() - 1)]});
        if (next + 1 < it->second.size()) ++next;
    }
    return out;
}

ApiResult<std::optional<railway::Deployment>> FakeRailwayApi::GetLatestDeployment(const std::string& service_id,
                                                                                  const std::string& environment_id) {
    if (auto failure = Enter(fmt::format("GetLatestDeployment({},{})", service_id, environment_id))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    auto it = latest_.find({service_id, environment_id});
    if (it == latest_.end()) return std::optional<railway::Deployment>{};
    return it->second;
}

ApiResult<std::vector<railway::DeploymentEvent>> FakeRailwayApi::GetDeploymentEvents(const std::string& deployment_id,
                                                                                     int first) {
    if (auto failure = Enter(fmt::format("GetDeploymentEvents({})", deployment_id))) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    auto it = events_.find(deployment_id);
    if (it == events_.end()) return std::vector<railway::DeploymentEvent>{};
    std::vector<railway::DeploymentEvent> events = it->second;
    if (first >= 0 && events.size() > static_cast<std::size_t>(first)) events.resize(static_cast<std::size_t>(first));
    return events;
}

ApiResult<std::vector<railway::LogLine>> FakeRailwayApi::GetNewLogs(railway::LogKind kind,
                                                                    const std::string& deployment_id,
                                                                    railway::LogCursor& cursor, int limit) {
    if (auto failure = Enter(fmt::format("GetNewLogs({},{})", core::ToString(kind), deployment_id))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    std::vector<railway::LogLine> out;
    auto it = logs_.find({kind, deployment_id});
    if (it == logs_.end()) return out;
    for (const auto& line : it->second) {
        if (limit > 0 && out.size() >= static_cast<std::size_t>(limit)) break;
        if (cursor.last) {
            if (line.timestamp < *cursor.last) continue;
            if (line.timestamp == *cursor.last &&
                std::find(cursor.messages_at_last.begin(), cursor.messages_at_last.end(), line.message) !=
                    cursor.messages_at_last.end()) {
                continue;
            }
        }
        if (!cursor.last || line.timestamp > *cursor.last) {
            cursor.last = line.timestamp;
            cursor.last_raw = line.timestamp_raw;
            cursor.messages_at_last.clear();
        }
        cursor.messages_at_last.push_back(line.message);
        out.push_back(line);
    }
    return out;
}

ApiResult<railway::ServiceInstanceInfo> FakeRailwayApi::GetServiceInstance(const std::string& service_id,
                                                                           const std::string& environment_id) {
    if (auto failure = Enter(fmt::format("GetServiceInstance({},{})", service_id, environment_id))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    auto it = service_instances_.find({service_id, environment_id});
    if (it == service_instances_.end()) return tl::unexpected(NotFound("service instance " + service_id));
    return it->second;
}

ApiResult<std::string> FakeRailwayApi::Redeploy(const std::string& deployment_id) {
    if (auto failure = Enter(fmt::format("Redeploy({})", deployment_id))) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    auto it = redeploy_answers_.find(deployment_id);
    if (it != redeploy_answers_.end()) return it->second;
    return fmt::format("{}-redeploy-{}", deployment_id, ++redeploys_[deployment_id]);
}

ApiResult<bool> FakeRailwayApi::Restart(const std::string& deployment_id) {
    if (auto failure = Enter(fmt::format("Restart({})", deployment_id))) return tl::unexpected(*failure);
    return true;
}

ApiResult<bool> FakeRailwayApi::CancelDeployment(const std::string& deployment_id) {
    if (auto failure = Enter(fmt::format("CancelDeployment({})", deployment_id))) return tl::unexpected(*failure);
    return true;
}

ApiResult<railway::TokenInfo> FakeRailwayApi::ValidateToken() {
    if (auto failure = Enter("ValidateToken()")) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    if (token_) return *token_;
    railway::TokenInfo info;
    info.user_id = "user-1";
    return info;
}

ApiResult<railway::PlatformStatus> FakeRailwayApi::GetPlatformStatus() {
    if (auto failure = Enter("GetPlatformStatus()")) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    if (platform_) return *platform_;
    return railway::PlatformStatus{};
}

ApiResult<railway::WorkspaceUsage> FakeRailwayApi::GetWorkspaceUsage(const std::string& workspace_id) {
    if (auto failure = Enter(fmt::format("GetWorkspaceUsage({})", workspace_id))) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    auto it = usage_.find(workspace_id);
    if (it == usage_.end()) return tl::unexpected(NotFound("workspace " + workspace_id));
    return it->second;
}

railway::BudgetSnapshot FakeRailwayApi::Budget() const {
    std::lock_guard lock(mutex_);
    return budget_;
}

void FakeRailwayApi::Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
}

}  // namespace railwatch::fakes
