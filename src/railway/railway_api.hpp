#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_kind.hpp"
#include "railway/api_error.hpp"
#include "railway/budget.hpp"
#include "railway/types.hpp"

/// What railwatch asks of Railway, in plain values: the seam between the modules that use Railway
/// (the monitor, `railwatch watch`) and the one that speaks its GraphQL API. RailwayClient is the
/// implementation over HTTP; tests/fakes/fake_railway_api.hpp answers from tables.
namespace railwatch::railway {

using core::LogKind;

/// The status of one deployment from a batched check: its data, or why there is none.
struct DeploymentResult {
    std::string deployment_id;
    ApiResult<Deployment> result;
};

/// One deployment's phase read asked of RailwayApi::GetPhaseChanges: its steps and its build log
/// (and, with a deploy cursor, its deploy log) from the cursors, which the read advances.
struct PhaseChangeAsk {
    std::string deployment_id;
    LogCursor build_cursor;
    std::optional<LogCursor> deploy_cursor;  ///< the deploy log is read when set
};

/// What a phase change reads of one deployment (RailwayApi::GetPhaseChanges), each part as its
/// own call would answer it.
struct PhaseChangeReads {
    ApiResult<std::vector<DeploymentEvent>> events;              ///< as GetDeploymentEvents
    ApiResult<std::vector<LogLine>> build_logs;                  ///< as GetNewLogs(kBuild, …)
    std::optional<ApiResult<std::vector<LogLine>>> deploy_logs;  ///< as GetNewLogs(kDeploy, …), when asked
};

/// The most deployments RailwayClient::GetPhaseChanges reads in one request: 2–3 root fields each,
/// 48 at most, as many as a GetLogsSince request carries (fewer while status requests carry fewer).
inline constexpr std::size_t kMaxPhaseChangesPerRequest = 16;

/// How many deployments one GetPhaseChanges request carries while status requests carry
/// `status_batch` root fields (RailwayApi::StatusBatchSize; 0: no limit of the implementation's
/// own): a third of them, three root fields a deployment at most.
constexpr std::size_t PhaseChangesPerRequest(std::size_t status_batch) {
    return std::clamp<std::size_t>(status_batch == 0 ? kMaxPhaseChangesPerRequest : status_batch / 3, 1,
                                   kMaxPhaseChangesPerRequest);
}

/// The most asks RailwayClient::GetLogsSince puts in one request (fewer while status requests
/// carry fewer: RailwayApi::StatusBatchSize).
inline constexpr std::size_t kMaxLogsSincePerRequest = 50;

/// How many asks one GetLogsSince request carries while status requests carry `status_batch`
/// deployments (RailwayApi::StatusBatchSize; 0: no limit of the implementation's own).
constexpr std::size_t LogsSincePerRequest(std::size_t status_batch) {
    return std::clamp<std::size_t>(status_batch == 0 ? kMaxLogsSincePerRequest : status_batch, 1,
                                   kMaxLogsSincePerRequest);
}

/// One deployment's log asked of RailwayApi::GetLogsSince: has it grown since `since`?
struct LogsSinceAsk {
    std::string deployment_id;
    LogKind kind = LogKind::kBuild;
    core::Timestamp since{};
};

/// The contract every implementation keeps:
/// - Every call blocks its caller until it has a final answer (transient trouble already retried
///   within the implementation's limits) and never throws: failures are ApiError values whose
///   `message` a person can act on (with Railway's traceId when it sent one), whose
///   `error_class`, `kind` and `retryable` come from the core's rules, and which never contain a
///   token.
/// - One bad id never costs another id its answer (GetDeployments and PollStatuses answer each id
///   on its own).
/// - Mutations (Redeploy, Restart, CancelDeployment) are sent at most once unless Railway surely
///   did not run them.
/// - Thread-safety: every method may be called from several threads at once.
/// - After Stop(), running and later calls end soon with util::ErrorCode::kCancelled.
class RailwayApi {
  public:
    virtual ~RailwayApi() = default;

    /// Status of many deployments: one result per id, in the order given.
    virtual std::vector<DeploymentResult> GetDeployments(std::span<const std::string> ids) = 0;

    /// The monitor's status check of many deployments: GetDeployments with the poll's selection
    /// (status and its times, PolledStatus), one result per id in the order given (its id is the
    /// one asked for). The ids are read during the call only.
    virtual std::vector<ApiResult<PolledStatus>> PollStatuses(std::span<const std::string_view> ids) = 0;

    /// The newest deployment of a service in an environment; nullopt when it has none.
    virtual ApiResult<std::optional<Deployment>> GetLatestDeployment(const std::string& service_id,
                                                                     const std::string& environment_id) = 0;

    /// Every service of an environment with the id of its latest deployment and its probe target,
    /// page by page: `on_page` is called on the calling thread with each page as it is read
    /// (RailwayClient: one request per page of services, usually one), so that a caller need not
    /// hold an environment of many services at once. An error after some pages leaves those
    /// visited; the result says it.
    virtual ApiResult<void> ReadEnvironmentServices(
        const std::string& environment_id,
        const std::function<void(std::span<const ServiceLatestDeployment>)>& on_page) = 0;

    /// The newest `first` deployments of an environment, of one service when `service_id` is
    /// given; newest first.
    virtual ApiResult<std::vector<Deployment>> ListDeployments(const std::string& environment_id,
                                                               const std::optional<std::string>& service_id,
                                                               int first = 10) = 0;

    /// The deployments of an environment created after `since` (all of them: nullopt), read
    /// newest first page by page (RailwayClient: `deployments(input: {environmentId}, first,
    /// after)`, one request per page) until one created at or before `since`, the list's end, or
    /// `max_pages` pages; DeploymentsSince says whether that was the whole of them and whether
    /// Railway answered newest first. An error after some pages drops them (the caller reads again).
    virtual ApiResult<DeploymentsSince> ListDeploymentsSince(const std::string& environment_id,
                                                             std::optional<core::Timestamp> since,
                                                             std::size_t max_pages) = 0;

    /// The steps of a deployment (`deploymentEvents`), oldest first.
    virtual ApiResult<std::vector<DeploymentEvent>> GetDeploymentEvents(const std::string& deployment_id,
                                                                        int first = 100) = 0;

    /// Log lines newer than `cursor`, oldest first, duplicates of what the cursor has seen dropped;
    /// advances `cursor` past exactly the lines returned, and the lines returned are every line
    /// from the cursor up to the newest one returned (never a gap). Pages of `limit` lines until
    /// caught up, within a bounded number of pages per call; the next call goes on from there.
    virtual ApiResult<std::vector<LogLine>> GetNewLogs(LogKind kind, const std::string& deployment_id,
                                                       LogCursor& cursor, int limit = 500) = 0;

    /// For each ask, in the order given: the steps and the new build (and, with a deploy cursor,
    /// deploy) log lines of its deployment, each part as GetDeploymentEvents(id, events_first) and
    /// GetNewLogs(kind, id, cursor, limit) answer it, the ask's cursors advanced as theirs. An
    /// implementation may read several deployments' parts in one request; a part it could not
    /// read that way is asked on its own, and one bad id never costs another its answer.
    virtual std::vector<PhaseChangeReads> GetPhaseChanges(std::span<PhaseChangeAsk> asks, int events_first,
                                                          int limit) = 0;

    /// For each ask, in the order given: the newest time of a line of its kind logged after its
    /// `since` among those Railway sent, none when it sent none. A sign of life, not a read of the
    /// lines: whether Railway sends the first or the last lines of a window, any line after
    /// `since` is one. An implementation may ask for several deployments in one request; one bad
    /// id never costs another its answer. The asks are read during the call only.
    virtual std::vector<ApiResult<std::optional<core::Timestamp>>> GetLogsSince(std::span<const LogsSinceAsk> asks) = 0;

    /// Health settings of a service instance (healthcheck path, domains, restart policy).
    virtual ApiResult<ServiceInstanceInfo> GetServiceInstance(const std::string& service_id,
                                                              const std::string& environment_id) = 0;

    /// `deploymentRedeploy`: the new deployment's id. Checks `canRedeploy` first: when Railway
    /// says false, nothing is sent and the error (util::ErrorCode::kConflict) says why.
    virtual ApiResult<std::string> Redeploy(const std::string& deployment_id) = 0;
    /// `deploymentRestart`.
    virtual ApiResult<bool> Restart(const std::string& deployment_id) = 0;
    /// `deploymentCancel`.
    virtual ApiResult<bool> CancelDeployment(const std::string& deployment_id) = 0;

    /// Who the configured token belongs to and what kind it is (account, workspace or project);
    /// an error (kUnauthenticated) when Railway refuses it.
    virtual ApiResult<TokenInfo> ValidateToken() = 0;
    /// Railway-wide incidents and maintenance (`platformStatus`).
    virtual ApiResult<PlatformStatus> GetPlatformStatus() = 0;
    /// A workspace's plan and usage limit, for quota checks.
    virtual ApiResult<WorkspaceUsage> GetWorkspaceUsage(const std::string& workspace_id) = 0;

    /// The request budget as of now.
    virtual BudgetSnapshot Budget() const = 0;

    /// The most deployments one status request (GetDeployments, PollStatuses) carries now: the
    /// configured batch size, or fewer once Railway refused bigger requests (1 while it seems to
    /// charge each root field of a request: RequestBudget::Observe). 0: the implementation
    /// sets no limit of its own (callers cut batches as they are configured).
    virtual std::size_t StatusBatchSize() const = 0;

    /// This process is one of `parts` sending with the token (the live workers sharing a store):
    /// from now on it spends 1/parts of the token's limits (RequestBudget::SetShare).
    virtual void ShareBudget(int parts) = 0;

    /// Ends running and later calls soon with kCancelled. Irreversible; thread-safe.
    virtual void Stop() = 0;

    /// Every service of an environment at once (ReadEnvironmentServices' pages together).
    ApiResult<std::vector<ServiceLatestDeployment>> GetEnvironmentLatestDeployments(const std::string& environment_id) {
        std::vector<ServiceLatestDeployment> services;
        auto read = ReadEnvironmentServices(environment_id, [&](std::span<const ServiceLatestDeployment> page) {
            services.insert(services.end(), page.begin(), page.end());
        });
        if (!read) return tl::unexpected(std::move(read.error()));
        return services;
    }

    /// Status of one deployment (GetDeployments with one id).
    ApiResult<Deployment> GetDeployment(const std::string& id) {
        auto results = GetDeployments(std::span<const std::string>(&id, 1));
        return std::move(results.front().result);
    }
};

}  // namespace railwatch::railway
