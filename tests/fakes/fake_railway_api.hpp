#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "railway/railway_api.hpp"
#include "util/clock.hpp"

/// A RailwayApi that answers from tables of plain values, for unit tests of the modules that use
/// Railway (the monitor, `watch`). No JSON, no HTTP: set what Railway "knows", run the code under
/// test, then read the calls it made.
namespace railwatch::fakes {

class FakeRailwayApi final : public railway::RailwayApi {
  public:
    /// Called at the start of every call with its name ("PollStatuses", "Redeploy", ...), before
    /// the answer is looked up: lets a test advance a FakeClock (a slow call) or change the tables.
    using CallHook = std::function<void(const std::string& call)>;

    // --- what Railway knows ------------------------------------------------------------------
    /// GetDeployments (and PollStatuses) answer `deployment` for its id from now on.
    void SetDeployment(railway::Deployment deployment);
    /// Answers for one id, in turn; the last one repeats. Overrides SetDeployment for that id.
    void ScriptDeployment(const std::string& id, std::vector<railway::ApiResult<railway::Deployment>> answers);
    /// GetDeployments (and PollStatuses) answer `error` for `id` from now on.
    void SetDeploymentError(const std::string& id, railway::ApiError error);
    void SetLatestDeployment(const std::string& service_id, const std::string& environment_id,
                             std::optional<railway::Deployment> deployment);
    /// What ReadEnvironmentServices answers for `environment_id`, in one page (unset: not found).
    void SetEnvironmentServices(const std::string& environment_id,
                                std::vector<railway::ServiceLatestDeployment> services);
    /// The same in the pages given, in order, then `then_fail` (a read that breaks off) if set.
    void SetEnvironmentPages(const std::string& environment_id,
                             std::vector<std::vector<railway::ServiceLatestDeployment>> pages,
                             std::optional<railway::ApiError> then_fail = std::nullopt);
    /// ListDeploymentsSince answers as if Railway's list were not newest first (true: as it is).
    void SetListNewestFirst(bool newest_first);
    /// ListDeploymentsSince lists at most `deployments` and says it is not complete when there
    /// were more (as the real client does after its pages); nullopt: no limit.
    void SetListLimit(std::optional<std::size_t> deployments);
    void SetDeploymentEvents(const std::string& deployment_id, std::vector<railway::DeploymentEvent> events);
    /// Appends log lines Railway holds for a deployment (any order; GetNewLogs sorts them).
    void AddLogs(railway::LogKind kind, const std::string& deployment_id, std::vector<railway::LogLine> lines);
    void SetServiceInstance(const std::string& service_id, const std::string& environment_id,
                            railway::ServiceInstanceInfo info);
    /// What Redeploy answers for `deployment_id` (default: an id "<id>-redeploy-<n>"). A refusal
    /// because `canRedeploy` is false is scripted with CannotRedeploy(id).
    void SetRedeployAnswer(const std::string& deployment_id, railway::ApiResult<std::string> answer);
    void SetTokenAnswer(railway::ApiResult<railway::TokenInfo> answer);
    void SetPlatformStatus(railway::ApiResult<railway::PlatformStatus> answer);
    void SetWorkspaceUsage(const std::string& workspace_id, railway::ApiResult<railway::WorkspaceUsage> answer);
    void SetBudget(railway::BudgetSnapshot budget);
    /// PollStatuses answers one result fewer than it was asked for (an implementation that breaks
    /// RailwayApi's contract), for the guard of the code that reads it.
    void BreakPollContract(bool broken);
    /// Every call after this one fails with `error` (nullopt: back to the tables).
    void FailEverything(std::optional<railway::ApiError> error);
    void SetCallHook(CallHook hook);

    // --- what the code under test asked ------------------------------------------------------
    /// Every call, in order, as "Name(args)": "PollStatuses(d1,d2)", "Redeploy(d1)".
    std::vector<std::string> Calls() const;
    /// How many calls had this name.
    int CallCount(const std::string& name) const;

    // --- RailwayApi ---------------------------------------------------------------------------
    std::vector<railway::DeploymentResult> GetDeployments(std::span<const std::string> ids) override;
    /// From the same tables as GetDeployments (a scripted id's answers are shared by both).
    std::vector<railway::ApiResult<railway::PolledStatus>> PollStatuses(std::span<const std::string_view> ids) override;
    railway::ApiResult<std::optional<railway::Deployment>> GetLatestDeployment(
        const std::string& service_id, const std::string& environment_id) override;
    railway::ApiResult<void> ReadEnvironmentServices(
        const std::string& environment_id,
        const std::function<void(std::span<const railway::ServiceLatestDeployment>)>& on_page) override;
    /// From the deployments set with SetDeployment/ScriptDeployment (their current answer, not
    /// advanced), filtered by environment and service, newest createdAt first.
    railway::ApiResult<std::vector<railway::Deployment>> ListDeployments(const std::string& environment_id,
                                                                         const std::optional<std::string>& service_id,
                                                                         int first) override;
    /// From the same deployments as ListDeployments, in one page (complete unless more than
    /// SetListLimit's), newest createdAt first, cut at `since` (those created after it); `newest` is the
    /// newest of them all. Not newest first (SetListNewestFirst): no deployment, incomplete, as
    /// RailwayClient reports such an answer.
    railway::ApiResult<railway::DeploymentsSince> ListDeploymentsSince(const std::string& environment_id,
                                                                       std::optional<core::Timestamp> since,
                                                                       std::size_t max_pages) override;
    railway::ApiResult<std::vector<railway::DeploymentEvent>> GetDeploymentEvents(const std::string& deployment_id,
                                                                                  int first) override;
    /// Every line newer than the cursor (the fake is always caught up in one call; `limit` is
    /// Railway's page size and does not cut the answer).
    railway::ApiResult<std::vector<railway::LogLine>> GetNewLogs(railway::LogKind kind,
                                                                 const std::string& deployment_id,
                                                                 railway::LogCursor& cursor, int limit) override;
    /// One call for all the asks ("GetPhaseChanges(build+deploy:d1,build:d2)") answered from the
    /// same tables as GetDeploymentEvents and GetNewLogs; a failure scripted for it is every part's.
    std::vector<railway::PhaseChangeReads> GetPhaseChanges(std::span<railway::PhaseChangeAsk> asks, int events_first,
                                                           int limit) override;
    /// One call ("GetLogsSince(build:d1>2026-01-01T00:00:00.000Z,deploy:d2>…)", each ask's since)
    /// for all the asks, from GetNewLogs' tables:
    /// the newest line of each ask's kind after its `since`.
    std::vector<railway::ApiResult<std::optional<core::Timestamp>>> GetLogsSince(
        std::span<const railway::LogsSinceAsk> asks) override;
    railway::ApiResult<railway::ServiceInstanceInfo> GetServiceInstance(const std::string& service_id,
                                                                        const std::string& environment_id) override;
    railway::ApiResult<std::string> Redeploy(const std::string& deployment_id) override;
    railway::ApiResult<bool> Restart(const std::string& deployment_id) override;
    railway::ApiResult<bool> CancelDeployment(const std::string& deployment_id) override;
    railway::ApiResult<railway::TokenInfo> ValidateToken() override;
    railway::ApiResult<railway::PlatformStatus> GetPlatformStatus() override;
    railway::ApiResult<railway::WorkspaceUsage> GetWorkspaceUsage(const std::string& workspace_id) override;
    railway::BudgetSnapshot Budget() const override;
    /// What SetStatusBatchSize set (0 at first: no limit of its own).
    std::size_t StatusBatchSize() const override { return status_batch_size_.load(); }
    void SetStatusBatchSize(std::size_t size) { status_batch_size_.store(size); }
    /// Sets Budget().parts; not listed in Calls() (the monitor tells it at every heartbeat).
    void ShareBudget(int parts) override;
    void Stop() override;

    /// An ApiError as the real client would build it for a failed call (class and retryability
    /// from the core's rules for `failure`).
    static railway::ApiError MakeError(util::ErrorCode code, std::string message, core::ApiFailure failure = {});
    /// The error RailwayClient::Redeploy gives when Railway says canRedeploy is false.
    static railway::ApiError CannotRedeploy(const std::string& deployment_id);

  private:
    // Records the call and runs the hook (outside the lock); returns the error every call gets
    // now, if any.
    std::optional<railway::ApiError> Enter(const std::string& call);
    railway::ApiError NotFound(const std::string& what) const;
    // The deployments set (their current answers), of `environment_id` (and `service_id`), newest
    // createdAt first. mutex_ held.
    std::vector<railway::Deployment> Listed(const std::string& environment_id,
                                            const std::optional<std::string>& service_id) const;
    bool poll_contract_broken_ = false;      // guarded by mutex_
    bool list_newest_first_ = true;          // guarded by mutex_
    std::optional<std::size_t> list_limit_;  // guarded by mutex_
    std::atomic<std::size_t> status_batch_size_{0};
    // The tables' answers (mutex_ held).
    std::vector<railway::DeploymentEvent> EventsOf(const std::string& deployment_id, int first) const;
    std::vector<railway::LogLine> LogsOf(railway::LogKind kind, const std::string& deployment_id,
                                         railway::LogCursor& cursor) const;

    mutable std::mutex mutex_;
    CallHook hook_;
    bool stopped_ = false;
    std::optional<railway::ApiError> fail_everything_;
    std::map<std::string, std::vector<railway::ApiResult<railway::Deployment>>> deployments_;
    std::map<std::string, std::size_t> next_answer_;
    std::map<std::pair<std::string, std::string>, std::optional<railway::Deployment>> latest_;
    struct EnvironmentPages {
        std::vector<std::vector<railway::ServiceLatestDeployment>> pages;
        std::optional<railway::ApiError> then_fail;
    };
    std::map<std::string, EnvironmentPages> environments_;
    std::map<std::string, std::vector<railway::DeploymentEvent>> events_;
    std::map<std::pair<railway::LogKind, std::string>, std::vector<railway::LogLine>> logs_;
    std::map<std::pair<std::string, std::string>, railway::ServiceInstanceInfo> service_instances_;
    std::map<std::string, railway::ApiResult<std::string>> redeploy_answers_;
    std::map<std::string, int> redeploys_;
    std::optional<railway::ApiResult<railway::TokenInfo>> token_;
    std::optional<railway::ApiResult<railway::PlatformStatus>> platform_;
    std::map<std::string, railway::ApiResult<railway::WorkspaceUsage>> usage_;
    railway::BudgetSnapshot budget_;
    std::vector<std::string> calls_;
};

}  // namespace railwatch::fakes
