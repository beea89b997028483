#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "loopback_http.hpp"

/// A loopback stand-in for Railway's GraphQL endpoint, for client and `railwatch watch` tests:
/// answers the documents railwatch sends (DeploymentStatuses and DeploymentPoll with aliases, DeploymentLogs,
/// BuildLogs, DeploymentEvents) the way FACTS.md says Railway does — "Not Authorized" with HTTP
/// 200 for a bad token, errors with `path` (and `data: null`) for unknown ids, every error with
/// `extensions: {code: INTERNAL_SERVER_ERROR, traceId}`, X-RateLimit-* on every answer — and
/// injects faults on demand (5xx, hangs, connection resets).
namespace railwatch::test {

/// A scripted deployment: each status query returns the next status (the last one repeats).
struct FakeDeployment {
    std::vector<std::string> statuses;
    std::vector<std::string> build_logs;  ///< messages, one second apart
    std::vector<std::string> deploy_logs;
};

/// Fault rates, each a probability per request (drawn from a seeded generator).
struct FakeFaults {
    double http5xx = 0;  ///< 500 / 502 / 503 in turn
    double hang = 0;     ///< no answer for `hang_for` (the client's timeout fires first)
    double reset = 0;    ///< TCP RST without an answer
    std::chrono::milliseconds hang_for{3000};
    unsigned seed = 42;
};

/// Thread-safe; the server runs until destruction.
class FakeRailway {
  public:
    FakeRailway(std::string account_token = "test-account-token", std::string project_token = "test-project-token");

    /// Adds or replaces a deployment.
    void AddDeployment(const std::string& id, FakeDeployment deployment);
    /// Adds `count` deployments "dep-0" … that are SUCCESS from the start.
    void AddSuccessfulDeployments(int count);
    void SetFaults(FakeFaults faults);
    /// X-RateLimit-Limit (the window never resets in a test); 429 + Retry-After when exhausted.
    void SetRateLimit(int per_window, int retry_after_s = 1);

    /// The GraphQL URL ("http://127.0.0.1:PORT/graphql/v2").
    std::string Url() const { return server_.Url("/graphql/v2"); }

    std::size_t requests() const { return requests_.load(); }
    std::size_t status_aliases_answered() const { return aliases_.load(); }
    std::size_t faults_injected() const { return faults_.load(); }
    std::size_t connections() const { return server_.connections_accepted(); }
    /// How many status queries named `id` (each alias counted).
    int status_queries(const std::string& id) const;
    /// Every request target seen has `?source=railwatch`.
    bool all_requests_had_source() const { return all_had_source_.load(); }
    /// Every request carried a User-Agent starting with "railwatch/".
    bool all_requests_had_user_agent() const { return all_had_user_agent_.load(); }

  private:
    LoopbackReply Handle(const LoopbackRequest& request);

    std::string account_token_;
    std::string project_token_;
    mutable std::mutex mutex_;
    std::map<std::string, FakeDeployment> deployments_;  // guarded by mutex_
    std::map<std::string, int> queries_;                 // guarded by mutex_
    FakeFaults faults_config_;                           // guarded by mutex_
    std::mt19937 random_{42};                            // guarded by mutex_
    int rate_limit_ = 1'000'000;                         // guarded by mutex_
    int rate_used_ = 0;                                  // guarded by mutex_
    int retry_after_s_ = 1;                              // guarded by mutex_
    int next_5xx_ = 0;                                   // guarded by mutex_
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> aliases_{0};
    std::atomic<std::size_t> faults_{0};
    std::atomic<bool> all_had_source_{true};
    std::atomic<bool> all_had_user_agent_{true};
    LoopbackHttpServer server_;  // last: it calls Handle, which uses everything above
};

}  // namespace railwatch::test
