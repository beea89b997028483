#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_kind.hpp"
#include "core/retry.hpp"
#include "net/http_transport.hpp"
#include "railway/api_error.hpp"
#include "railway/budget.hpp"
#include "railway/config.hpp"
#include "railway/railway_api.hpp"
#include "railway/response.hpp"
#include "railway/types.hpp"
#include "util/clock.hpp"

/// The Railway GraphQL client: every call railwatch makes to Railway.
namespace railwatch::railway {

using core::LogKind;

/// Receives the client's log lines (retries, rate-limit pauses). Lines never contain the token.
using LogSink = std::function<void(std::string_view line)>;

/// Speaks Railway's public GraphQL API (backboard v2) for railwatch.
///
/// Every call blocks its caller until it has a final answer: transient failures (transport
/// errors, 5xx, 429, HTML from the edge, malformed bodies) are retried with exponential backoff
/// and full jitter (core::NextRetryDelay; a 429's Retry-After is honoured), every request first
/// takes a token from the RequestBudget. Mutations are retried only when Railway surely did not
/// run them (DNS/connect failures, 429). Errors come back as values (ApiError) whose messages say
/// what to do and never contain the token.
///
/// Thread-safety: all methods may be called from several threads at once. The transport, clock,
/// budget and random source must outlive the client; the client must outlive its calls. Waits
/// (for answers, retry delays, the budget) go through the clock, so a FakeClock runs them at once.
class RailwayClient final : public RailwayApi {
  public:
    RailwayClient(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
                  core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log = {});

    /// Status of many deployments, `batch_size` per request (aliases d0…dN), up to
    /// `max_in_flight` requests at once. One result per id, in order. A partial failure (errors
    /// for some aliases, data for the rest) yields data for the rest; aliases that got neither
    /// (Railway nulls all `data` when one non-null field fails) are asked again without the
    /// failing ones.
    std::vector<DeploymentResult> GetDeployments(std::span<const std::string> ids) override;

    /// The newest deployment of a service in an environment; nullopt when it has none.
    ApiResult<std::optional<Deployment>> GetLatestDeployment(const std::string& service_id,
                                                             const std::string& environment_id) override;

    /// The steps of a deployment (`deploymentEvents`), oldest first as Railway returns them.
    ApiResult<std::vector<DeploymentEvent>> GetDeploymentEvents(const std::string& deployment_id,
                                                                int first = 100) override;

    /// Log lines newer than `cursor` (startDate = the last timestamp seen), overlap and Railway's
    /// extra line dropped, oldest first; advances `cursor`. `limit` ≤ 5000.
    ApiResult<std::vector<LogLine>> GetNewLogs(LogKind kind, const std::string& deployment_id, LogCursor& cursor,
                                               int limit = 500) override;

    /// Health settings of a service instance.
    ApiResult<ServiceInstanceInfo> GetServiceInstance(const std::string& service_id,
                                                      const std::string& environment_id) override;

    /// `deploymentRedeploy`: returns the new deployment's id.
    ApiResult<std::string> Redeploy(const std::string& deployment_id) override;
    /// `deploymentRestart`.
    ApiResult<bool> Restart(const std::string& deployment_id) override;
    /// `deploymentCancel`.
    ApiResult<bool> CancelDeployment(const std::string& deployment_id) override;

    /// Checks the token: `me` for an account token, `projectToken` for a project token.
    /// (A workspace token is rejected by `me`; validate it with GetWorkspaceUsage instead.)
    ApiResult<TokenInfo> ValidateToken() override;

    /// Railway-wide incidents and maintenance.
    ApiResult<PlatformStatus> GetPlatformStatus() override;

    /// A workspace's plan and usage limit (quota checks).
    ApiResult<WorkspaceUsage> GetWorkspaceUsage(const std::string& workspace_id) override;

    /// The budget as of now, and what it can watch at `check_interval`.
    BudgetSnapshot Budget() const override { return budget_.Snapshot(); }
    FleetCapacity Capacity(core::Duration check_interval, long long deployments = 0) const {
        return budget_.Capacity(check_interval, config_.batch_size, deployments);
    }

    /// Makes every running and future call end soon with kCancelled (in-flight requests are
    /// cancelled, waits are cut short). Thread-safe; irreversible.
    void Stop() override;

    const ClientConfig& config() const { return config_; }

    /// The JSON body of a status request for `ids` (exposed for benchmarks and tests).
    std::string BuildStatusBatchBody(std::span<const std::string> ids);

    /// Maps one status answer to a result per id (exposed for benchmarks and tests). Ids with
    /// neither data nor error are returned in `retry` instead of `out`.
    void MapStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                        std::vector<std::pair<std::size_t, ApiResult<Deployment>>>& out,
                        std::vector<std::size_t>& retry, std::size_t first_index) const;

  private:
    struct Call;
    struct Inbox;

    void Execute(std::vector<Call>& calls);
    ApiResult<Envelope> ExecuteOne(std::string operation, std::string body, bool mutation);
    ApiResult<nlohmann::json> RootField(const Envelope& envelope, std::string_view field,
                                        const std::string& operation) const;
    std::string Body(std::string_view query, std::string_view operation_name, const nlohmann::json& variables) const;
    const std::string& BatchDocumentJson(std::size_t count);
    ErrorContext Context(std::string operation) const;
    core::Duration RetryDelay(int attempts_made, std::optional<core::Duration> retry_after);
    void Log(const std::string& line) const;

    net::HttpTransport& transport_;
    const util::Clock& clock_;
    RequestBudget& budget_;
    core::RandomSource& random_;
    Credentials credentials_;
    ClientConfig config_;
    LogSink log_;
    std::string endpoint_;           // with ?source=railwatch
    std::string endpoint_for_text_;  // without the query
    std::string user_agent_;

    mutable std::mutex mutex_;
    bool stopped_ = false;                                       // guarded by mutex_
    std::vector<Inbox*> active_;                                 // calls in Execute; guarded by mutex_
    std::vector<std::unique_ptr<std::string>> batch_documents_;  // JSON-escaped, by size; guarded by mutex_
};

}  // namespace railwatch::railway
