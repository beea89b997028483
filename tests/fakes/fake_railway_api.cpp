#include "fakes/fake_railway_api.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "railway/log_pager.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::fakes {

using railway::ApiError;
using railway::ApiResult;

ApiError FakeRailwayApi::MakeError(util::ErrorCode code, std::string message, core::ApiFailure failure) {
    ApiError error;
    error.code = code;
    error.message = std::move(message);
    const core::ApiClassification c = core::ClassifyApiFailure(failure);
    error.error_class = c.error_class;
    error.kind = c.kind;
    error.retryable = c.retryable;
    error.failure = std::move(failure);
    error.attempts = 1;
    return error;
}

ApiError FakeRailwayApi::NotFound(const std::string& what) const {
    core::ApiFailure failure;
    failure.http_status = 200;
    failure.graphql_errors = {{what + " not found", "INTERNAL_SERVER_ERROR", "", ""}};
    return MakeError(util::ErrorCode::kNotFound, "fake Railway: " + what + " not found", failure);
}

ApiError FakeRailwayApi::CannotRedeploy(const std::string& deployment_id) {
    core::ApiFailure failure;
    failure.precondition = "canRedeploy is false for deployment " + deployment_id;
    return MakeError(util::ErrorCode::kConflict,
                     "redeploy of deployment " + deployment_id + ": not sent: Railway says it cannot be redeployed",
                     failure);
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

void FakeRailwayApi::SetEnvironmentServices(const std::string& environment_id,
                                            std::vector<railway::ServiceLatestDeployment> services) {
    std::lock_guard lock(mutex_);
    environments_[environment_id] = EnvironmentPages{{std::move(services)}, std::nullopt};
}

void FakeRailwayApi::SetEnvironmentPages(const std::string& environment_id,
                                         std::vector<std::vector<railway::ServiceLatestDeployment>> pages,
                                         std::optional<railway::ApiError> then_fail) {
    std::lock_guard lock(mutex_);
    environments_[environment_id] = EnvironmentPages{std::move(pages), std::move(then_fail)};
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

std::vector<ApiResult<railway::PolledStatus>> FakeRailwayApi::PollStatuses(std::span<const std::string_view> ids) {
    std::vector<std::string> copies(ids.begin(), ids.end());
    std::string joined;
    for (const auto& id : copies)
        joined += (joined.empty() ? "" : ",") + id;
    const auto failure = Enter("PollStatuses(" + joined + ")");
    std::vector<ApiResult<railway::PolledStatus>> out;
    out.reserve(ids.size());
    std::lock_guard lock(mutex_);
    for (const auto& id : copies) {
        if (failure) {
            out.emplace_back(tl::unexpected(*failure));
            continue;
        }
        auto it = deployments_.find(id);
        if (it == deployments_.end() || it->second.empty()) {
            out.emplace_back(tl::unexpected(NotFound("deployment " + id)));
            continue;
        }
        std::size_t& next = next_answer_[id];
        const ApiResult<railway::Deployment>& answer = it->second[std::min(next, it->second.size() - 1)];
        if (next + 1 < it->second.size()) ++next;
        if (!answer) {
            out.emplace_back(tl::unexpected(answer.error()));
            continue;
        }
        out.emplace_back(railway::PolledStatus{answer->status, answer->status_updated_at, answer->created_at,
                                               answer->updated_at, answer->deployment_stopped});
    }
    if (poll_contract_broken_ && !out.empty()) out.pop_back();
    return out;
}

void FakeRailwayApi::BreakPollContract(bool broken) {
    std::lock_guard lock(mutex_);
    poll_contract_broken_ = broken;
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

ApiResult<void> FakeRailwayApi::ReadEnvironmentServices(
    const std::string& environment_id,
    const std::function<void(std::span<const railway::ServiceLatestDeployment>)>& on_page) {
    if (auto failure = Enter(fmt::format("ReadEnvironmentServices({})", environment_id))) {
        return tl::unexpected(*failure);
    }
    EnvironmentPages environment;
    {
        std::lock_guard lock(mutex_);
        auto it = environments_.find(environment_id);
        if (it == environments_.end()) return tl::unexpected(NotFound("environment " + environment_id));
        environment = it->second;
    }
    for (const auto& page : environment.pages)
        on_page(page);
    if (environment.then_fail) return tl::unexpected(*environment.then_fail);
    return {};
}

void FakeRailwayApi::SetListNewestFirst(bool newest_first) {
    std::lock_guard lock(mutex_);
    list_newest_first_ = newest_first;
}

void FakeRailwayApi::SetListLimit(std::optional<std::size_t> deployments) {
    std::lock_guard lock(mutex_);
    list_limit_ = deployments;
}

ApiResult<railway::DeploymentsSince> FakeRailwayApi::ListDeploymentsSince(const std::string& environment_id,
                                                                          std::optional<core::Timestamp> since,
                                                                          std::size_t max_pages) {
    if (auto failure = Enter(fmt::format("ListDeploymentsSince({},{})", environment_id, max_pages))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    const std::vector<railway::Deployment> listed = Listed(environment_id, std::nullopt);
    railway::DeploymentsSince out;
    if (!listed.empty()) out.newest = listed.front().created_at.value_or(core::Timestamp{});
    if (!list_newest_first_) {
        out.newest_first = false;
        return out;
    }
    for (const auto& d : listed) {
        const auto created = d.created_at.value_or(core::Timestamp{});
        if (since && created <= *since) break;
        if (list_limit_ && out.deployments.size() == *list_limit_) return out;  // more than the pages hold
        out.deployments.push_back({d.id, d.service_id.value_or(""), created});
    }
    out.complete = true;
    return out;
}

ApiResult<std::vector<railway::Deployment>> FakeRailwayApi::ListDeployments(
    const std::string& environment_id, const std::optional<std::string>& service_id, int first) {
    if (auto failure =
            Enter(fmt::format("ListDeployments({},{},{})", environment_id, service_id.value_or(""), first))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    std::vector<railway::Deployment> out = Listed(environment_id, service_id);
    if (first >= 0 && out.size() > static_cast<std::size_t>(first)) out.resize(static_cast<std::size_t>(first));
    return out;
}

std::vector<railway::Deployment> FakeRailwayApi::Listed(const std::string& environment_id,
                                                        const std::optional<std::string>& service_id) const {
    std::vector<railway::Deployment> out;
    for (const auto& [id, answers] : deployments_) {
        if (answers.empty()) continue;
        const auto next = next_answer_.find(id);
        const auto& current = answers[std::min(next == next_answer_.end() ? 0 : next->second, answers.size() - 1)];
        if (!current || current->environment_id != environment_id) continue;
        if (service_id && current->service_id != *service_id) continue;
        out.push_back(*current);
    }
    std::stable_sort(out.begin(), out.end(), [](const railway::Deployment& a, const railway::Deployment& b) {
        return a.created_at.value_or(core::Timestamp{}) > b.created_at.value_or(core::Timestamp{});
    });
    return out;
}

ApiResult<std::vector<railway::DeploymentEvent>> FakeRailwayApi::GetDeploymentEvents(const std::string& deployment_id,
                                                                                     int first) {
    if (auto failure = Enter(fmt::format("GetDeploymentEvents({})", deployment_id))) return tl::unexpected(*failure);
    std::lock_guard lock(mutex_);
    return EventsOf(deployment_id, first);
}

ApiResult<std::vector<railway::LogLine>> FakeRailwayApi::GetNewLogs(railway::LogKind kind,
                                                                    const std::string& deployment_id,
                                                                    railway::LogCursor& cursor, int /*limit*/) {
    if (auto failure = Enter(fmt::format("GetNewLogs({},{})", core::ToString(kind), deployment_id))) {
        return tl::unexpected(*failure);
    }
    std::lock_guard lock(mutex_);
    return LogsOf(kind, deployment_id, cursor);
}

std::vector<railway::PhaseChangeReads> FakeRailwayApi::GetPhaseChanges(std::span<railway::PhaseChangeAsk> asks,
                                                                       int events_first, int /*limit*/) {
    std::string joined;
    for (const railway::PhaseChangeAsk& ask : asks)
        joined += fmt::format("{}{}:{}", joined.empty() ? "" : ",", ask.deploy_cursor ? "build+deploy" : "build",
                              ask.deployment_id);
    std::vector<railway::PhaseChangeReads> out(asks.size());
    if (auto failure = Enter("GetPhaseChanges(" + joined + ")")) {
        for (std::size_t k = 0; k < asks.size(); ++k) {
            out[k].events = tl::unexpected(*failure);
            out[k].build_logs = tl::unexpected(*failure);
            if (asks[k].deploy_cursor) out[k].deploy_logs = tl::unexpected(*failure);
        }
        return out;
    }
    std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < asks.size(); ++k) {
        railway::PhaseChangeAsk& ask = asks[k];
        out[k].events = EventsOf(ask.deployment_id, events_first);
        out[k].build_logs = LogsOf(railway::LogKind::kBuild, ask.deployment_id, ask.build_cursor);
        if (ask.deploy_cursor)
            out[k].deploy_logs = LogsOf(railway::LogKind::kDeploy, ask.deployment_id, *ask.deploy_cursor);
    }
    return out;
}

std::vector<ApiResult<std::optional<core::Timestamp>>> FakeRailwayApi::GetLogsSince(
    std::span<const railway::LogsSinceAsk> asks) {
    std::string joined;
    for (const railway::LogsSinceAsk& ask : asks)
        joined += fmt::format("{}{}:{}>{}", joined.empty() ? "" : ",", core::ToString(ask.kind), ask.deployment_id,
                              util::FormatRfc3339(ask.since));
    std::vector<ApiResult<std::optional<core::Timestamp>>> out;
    if (auto failure = Enter("GetLogsSince(" + joined + ")")) {
        out.assign(asks.size(), tl::unexpected(*failure));
        return out;
    }
    std::lock_guard lock(mutex_);
    for (const railway::LogsSinceAsk& ask : asks) {
        std::optional<core::Timestamp> newest;
        if (const auto it = logs_.find({ask.kind, ask.deployment_id}); it != logs_.end())
            for (const railway::LogLine& line : it->second)
                if (line.timestamp > ask.since && (!newest || line.timestamp > *newest)) newest = line.timestamp;
        out.emplace_back(newest);
    }
    return out;
}

std::vector<railway::DeploymentEvent> FakeRailwayApi::EventsOf(const std::string& deployment_id, int first) const {
    auto it = events_.find(deployment_id);
    if (it == events_.end()) return {};
    std::vector<railway::DeploymentEvent> events = it->second;
    if (first >= 0 && events.size() > static_cast<std::size_t>(first)) events.resize(static_cast<std::size_t>(first));
    return events;
}

std::vector<railway::LogLine> FakeRailwayApi::LogsOf(railway::LogKind kind, const std::string& deployment_id,
                                                     railway::LogCursor& cursor) const {
    auto it = logs_.find({kind, deployment_id});
    if (it == logs_.end()) return {};
    return railway::TakeNewLogLines(it->second, cursor);
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

void FakeRailwayApi::ShareBudget(int parts) {
    std::lock_guard lock(mutex_);
    budget_.parts = parts;
}

void FakeRailwayApi::Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
}

}  // namespace railwatch::fakes
