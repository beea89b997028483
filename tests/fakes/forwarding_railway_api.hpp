#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "railway/railway_api.hpp"

namespace railwatch::fakes {

/// A RailwayApi that passes every call to another one: a test or a bench derives from it and
/// overrides only the calls it counts or answers itself. Thread-safety: that of `inner` (and of
/// the overrides); `inner` must outlive it.
class ForwardingRailwayApi : public railway::RailwayApi {
  public:
    explicit ForwardingRailwayApi(railway::RailwayApi& inner) : inner_(inner) {}

    std::vector<railway::DeploymentResult> GetDeployments(std::span<const std::string> ids) override {
        return inner_.GetDeployments(ids);
    }
    std::vector<railway::ApiResult<railway::PolledStatus>> PollStatuses(
        std::span<const std::string_view> ids) override {
        return inner_.PollStatuses(ids);
    }
    railway::ApiResult<std::optional<railway::Deployment>> GetLatestDeployment(const std::string& s,
                                                                               const std::string& e) override {
        return inner_.GetLatestDeployment(s, e);
    }
    railway::ApiResult<void> ReadEnvironmentServices(
        const std::string& e,
        const std::function<void(std::span<const railway::ServiceLatestDeployment>)>& on_page) override {
        return inner_.ReadEnvironmentServices(e, on_page);
    }
    railway::ApiResult<std::vector<railway::Deployment>> ListDeployments(const std::string& e,
                                                                         const std::optional<std::string>& s,
                                                                         int first) override {
        return inner_.ListDeployments(e, s, first);
    }
    railway::ApiResult<railway::DeploymentsSince> ListDeploymentsSince(const std::string& e,
                                                                       std::optional<core::Timestamp> since,
                                                                       std::size_t max_pages) override {
        return inner_.ListDeploymentsSince(e, since, max_pages);
    }
    railway::ApiResult<std::vector<railway::DeploymentEvent>> GetDeploymentEvents(const std::string& d,
                                                                                  int first) override {
        return inner_.GetDeploymentEvents(d, first);
    }
    railway::ApiResult<std::vector<railway::LogLine>> GetNewLogs(railway::LogKind kind, const std::string& d,
                                                                 railway::LogCursor& cursor, int limit) override {
        return inner_.GetNewLogs(kind, d, cursor, limit);
    }
    std::vector<railway::PhaseChangeReads> GetPhaseChanges(std::span<railway::PhaseChangeAsk> asks, int first,
                                                           int limit) override {
        return inner_.GetPhaseChanges(asks, first, limit);
    }
    std::vector<railway::ApiResult<std::optional<core::Timestamp>>> GetLogsSince(
        std::span<const railway::LogsSinceAsk> asks) override {
        return inner_.GetLogsSince(asks);
    }
    railway::ApiResult<railway::ServiceInstanceInfo> GetServiceInstance(const std::string& s,
                                                                        const std::string& e) override {
        return inner_.GetServiceInstance(s, e);
    }
    railway::ApiResult<std::string> Redeploy(const std::string& d) override { return inner_.Redeploy(d); }
    railway::ApiResult<bool> Restart(const std::string& d) override { return inner_.Restart(d); }
    railway::ApiResult<bool> CancelDeployment(const std::string& d) override { return inner_.CancelDeployment(d); }
    railway::ApiResult<railway::TokenInfo> ValidateToken() override { return inner_.ValidateToken(); }
    railway::ApiResult<railway::PlatformStatus> GetPlatformStatus() override { return inner_.GetPlatformStatus(); }
    railway::ApiResult<railway::WorkspaceUsage> GetWorkspaceUsage(const std::string& w) override {
        return inner_.GetWorkspaceUsage(w);
    }
    railway::BudgetSnapshot Budget() const override { return inner_.Budget(); }
    std::size_t StatusBatchSize() const override { return inner_.StatusBatchSize(); }
    void ShareBudget(int parts) override { inner_.ShareBudget(parts); }
    void Stop() override { inner_.Stop(); }

  private:
    railway::RailwayApi& inner_;
};

}  // namespace railwatch::fakes
