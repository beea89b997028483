#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/log_kind.hpp"
#include "core/retry.hpp"
#include "net/http_transport.hpp"
#include "railway/api_error.hpp"
#include "railway/budget.hpp"
#include "railway/call_engine.hpp"
#include "railway/config.hpp"
#include "railway/railway_api.hpp"
#include "railway/status_batch.hpp"
#include "railway/types.hpp"
#include "util/clock.hpp"

/// The Railway GraphQL client: every call railwatch makes to Railway.
namespace railwatch::railway {

using core::LogKind;

/// Speaks Railway's public GraphQL API (backboard v2) for railwatch: the endpoints, each one
/// document → root field → parser through one helper, over a CallEngine (in-flight cap, request
/// budget, retries with backoff, cancellation; see call_engine.hpp) and, for statuses, a
/// StatusChecker (batches with per-id isolation; see status_batch.hpp). Mutations go on a
/// connection of their own and are retried only when Railway surely did not run them. Errors
/// come back as values (ApiError) whose messages say what to do and never contain the token.
///
/// Thread-safety: all methods may be called from several threads at once. The transport, clock,
/// budget and random source must outlive the client; the client must outlive its calls. Waits
/// (for answers, retry delays, the budget) go through the clock, so a FakeClock runs them at once.
class RailwayClient final : public RailwayApi {
  public:
    RailwayClient(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
                  core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log = {});

    /// Status of many deployments (StatusChecker::Check): one result per id, in order.
    std::vector<DeploymentResult> GetDeployments(std::span<const std::string> ids) override;
    /// The same with the poll's selection (StatusChecker::Poll).
    std::vector<ApiResult<PolledStatus>> PollStatuses(std::span<const std::string_view> ids) override;

    /// `serviceInstance(serviceId, environmentId) { latestDeployment }` with the status selection.
    ApiResult<std::optional<Deployment>> GetLatestDeployment(const std::string& service_id,
                                                             const std::string& environment_id) override;

    /// `environment(id) { serviceInstances { … latestDeployment } }`: one request per page of
    /// `environment_page_size` services (at most `max_environment_pages`; a longer list is cut
    /// there, with a log line). Should Railway refuse that `first`, the page is asked again without
    /// it, and once so answered every later read goes without it (pages of Railway's own size).
    ApiResult<void> ReadEnvironmentServices(
        const std::string& environment_id,
        const std::function<void(std::span<const ServiceLatestDeployment>)>& on_page) override;

    /// `deployments(input: {environmentId}, first: 100, after)`, page by page, each deployment's
    /// id, service and creation time only; stops at the first deployment created at or before
    /// `since`, or at a page that is not newest first (DeploymentsSince::newest_first, checked
    /// along each whole page before it is cut).
    ApiResult<DeploymentsSince> ListDeploymentsSince(const std::string& environment_id,
                                                     std::optional<core::Timestamp> since,
                                                     std::size_t max_pages) override;

    /// `deployments(input: {environmentId, serviceId?}, first)`, newest first by createdAt.
    ApiResult<std::vector<Deployment>> ListDeployments(const std::string& environment_id,
                                                       const std::optional<std::string>& service_id,
                                                       int first = 10) override;

    /// The steps of a deployment (`deploymentEvents`), oldest first as Railway returns them.
    ApiResult<std::vector<DeploymentEvent>> GetDeploymentEvents(const std::string& deployment_id,
                                                                int first = 100) override;

    /// Log lines newer than `cursor` (log_pager.hpp: pages of `limit` lines, `limit` ≤ 5000, at
    /// most `max_log_pages` requests per call, gaps filled with endDate).
    ApiResult<std::vector<LogLine>> GetNewLogs(LogKind kind, const std::string& deployment_id, LogCursor& cursor,
                                               int limit = 500) override;

    /// One request for up to kMaxPhaseChangesPerRequest deployments (fewer while status requests
    /// carry fewer root fields than 3 each: StatusBatchSize): `PhaseChanges`, the steps and the
    /// first page of each log kind of each, or `PhaseChange` for one alone. The pages after a
    /// full one, and a part the shared answer lacks (nulled by another part's error, or the whole
    /// request failed for a reason that may pass), are asked as GetNewLogs and
    /// GetDeploymentEvents would; every deployment of a request Railway refused as a whole for
    /// what may be its size is asked alone. A whole failure that asking again would not change
    /// (the token refused) is every part's.
    std::vector<PhaseChangeReads> GetPhaseChanges(std::span<PhaseChangeAsk> asks, int events_first, int limit) override;

    /// `LogsSince`: up to kMaxLogsSincePerRequest deployments a request (fewer while status requests
    /// carry fewer: StatusBatchSize), each read from its `since` (at most kLogsSinceLines lines: a
    /// line logged at `since` itself is sent again and is no sign). A part the shared answer lacks
    /// is asked alone (`buildLogs` / `deploymentLogs`), and so is every part of a request Railway
    /// refused as a whole for what may be its size (a limit on aliases it does not document); a
    /// whole refusal of the token is every part's.
    std::vector<ApiResult<std::optional<core::Timestamp>>> GetLogsSince(std::span<const LogsSinceAsk> asks) override;
    static constexpr int kLogsSinceLines = 20;

    /// Health settings of a service instance.
    ApiResult<ServiceInstanceInfo> GetServiceInstance(const std::string& service_id,
                                                      const std::string& environment_id) override;

    /// Reads `deployment(id) { canRedeploy }`, then sends `deploymentRedeploy` only when true;
    /// returns the new deployment's id.
    ApiResult<std::string> Redeploy(const std::string& deployment_id) override;
    /// `deploymentRestart`.
    ApiResult<bool> Restart(const std::string& deployment_id) override;
    /// `deploymentCancel`.
    ApiResult<bool> CancelDeployment(const std::string& deployment_id) override;

    /// A project token: `projectToken`. A Bearer token: `me` (account token); when Railway refuses
    /// that, `apiToken` (workspace token); both refused → kUnauthenticated naming
    /// RAILWAY_API_TOKEN and what to do.
    ApiResult<TokenInfo> ValidateToken() override;

    /// Railway-wide incidents and maintenance.
    ApiResult<PlatformStatus> GetPlatformStatus() override;

    /// A workspace's plan and usage limit (quota checks).
    ApiResult<WorkspaceUsage> GetWorkspaceUsage(const std::string& workspace_id) override;

    /// The budget as of now.
    BudgetSnapshot Budget() const override { return engine_.budget().Snapshot(); }
    void ShareBudget(int parts) override { engine_.budget().SetShare(parts); }
    /// railway.batch_size, or fewer once Railway refused bigger status requests (StatusChecker).
    std::size_t StatusBatchSize() const override { return statuses_.BatchSize(); }
    /// What the budget can watch at `check_interval` with this client's batch size.
    FleetCapacity Capacity(core::Duration check_interval, long long deployments = 0) const {
        return engine_.budget().Capacity(check_interval, statuses_.BatchSize(), deployments);
    }

    /// Makes every running and future call end soon with kCancelled. Thread-safe; irreversible.
    void Stop() override { engine_.Stop(); }

    /// The configuration in use (limits clamped).
    const ClientConfig& config() const { return engine_.config(); }

    /// The JSON body of a status request for `ids` (exposed for benchmarks and tests).
    std::string BuildStatusBatchBody(std::span<const std::string> ids) { return statuses_.BuildBody(ids); }
    std::string BuildPollBody(std::span<const std::string_view> ids) { return statuses_.BuildPollBody(ids); }

  private:
    // GetNewLogs, with the first page already read (GetPhaseChanges) when given.
    ApiResult<std::vector<LogLine>> NewLogs(LogKind kind, const std::string& deployment_id, LogCursor& cursor,
                                            int limit, std::optional<ApiResult<std::vector<LogLine>>> first_page);
    // One deployment's phase read alone (`PhaseChange`).
    PhaseChangeReads PhaseChange(PhaseChangeAsk& ask, int events_first, int limit);
    // One deployment's parts of a phase read's answer `outcome` (its aliases `events`, `build`,
    // `deploy`), each part the answer lacks asked alone, pages after a full one read on.
    PhaseChangeReads PhaseChangeFrom(const CallOutcome& outcome, const std::string& operation, PhaseChangeAsk& ask,
                                     const std::string& events, const std::string& build, const std::string& deploy,
                                     int events_first, int limit);

    CallEngine engine_;
    StatusChecker statuses_;
    // Railway refused `serviceInstances(first:)` once and answered without it: environments are
    // read in pages of its own size since (ReadEnvironmentServices).
    std::atomic<bool> environment_first_refused_{false};
    std::atomic<bool> order_logged_{false};  // ListDeploymentsSince said once that the order is another
};

}  // namespace railwatch::railway
