#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <shared_mutex>
#include <string>

#include "net/http_server.hpp"
#include "sim/config.hpp"
#include "sim/graphql/executor.hpp"
#include "sim/graphql/schema.hpp"
#include "sim/rate_limiter.hpp"
#include "sim/world.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

/// The Railway simulator's request logic, independent of any socket: the GraphQL endpoint
/// (faults, edge limit, rate limits, parse, validate, auth, execute), the `/_sim/` control API
/// and the per-service health endpoints. SimServer puts it on HTTP; unit tests call it directly
/// with a FakeClock. Thread-safe: requests may arrive on any number of threads.
namespace railwatch::sim {

class Simulator {
  public:
    /// `clock` must outlive the simulator; injected latency, hangs and slow health answers wait
    /// on it (a FakeClock moves forward instead of sleeping). Deployments of config.deployments are created by
    /// CreateScenarioDeployments(), not here.
    Simulator(SimConfig config, const util::Clock& clock);

    /// Creates the scenario's deployments at the current time. Errors: kInvalidArgument.
    util::Result<void> CreateScenarioDeployments();

    /// Ends every injected wait now and makes later ones return at once (server shutdown).
    /// Thread-safe; irreversible.
    void Stop();
    /// Where the health server listens ("http://127.0.0.1:PORT"); deployment URLs point there.
    void SetHealthBaseUrl(std::string url);

    /// POST /graphql/v2.
    net::ServerResponse HandleGraphql(const net::ServerRequest& req);
    /// Everything under /_sim/ (interface.md, "The simulator").
    net::ServerResponse HandleControl(const net::ServerRequest& req);
    /// GET /s/<serviceId>[/path] on the health server.
    net::ServerResponse HandleHealth(const net::ServerRequest& req);

    /// The /_sim/stats document.
    nlohmann::json Stats() const;
    /// The /_sim/truth document for `ids` (all deployments when empty); unknown ids are listed
    /// under "unknown".
    nlohmann::json Truth(const std::vector<std::string>& ids) const;

  private:
    enum class Fault { kNone, kHttp500, kHttp503, kHang, kReset, kMalformedJson, kHtml403 };
    struct Counters {
        std::uint64_t total = 0;
        std::uint64_t rate_limited = 0;
        std::uint64_t edge_blocked = 0;
        std::uint64_t parse_errors = 0;
        std::uint64_t validation_errors = 0;
        std::uint64_t auth_errors = 0;
        std::uint64_t latency_injected = 0;
        std::map<std::string, std::uint64_t> faults;
        std::map<std::string, std::uint64_t> root_fields;
        std::map<int, std::uint64_t> by_status;
    };

    net::ServerResponse Graphql(const net::ServerRequest& req, Fault fault, core::Timestamp now);
    Fault DrawFault(bool& add_latency, FaultConfig& faults);
    void Count(const std::function<void(Counters&)>& update) const;
    net::ServerResponse ControlCreate(const net::ServerRequest& req);
    net::ServerResponse ControlConfig(const net::ServerRequest& req);
    void ResetState();

    const util::Clock& clock_;
    const graphql::Schema& schema_;
    graphql::Executor executor_;

    mutable std::shared_mutex state_mutex_;  // guards world_, config_, health_base_url_
    SimConfig initial_config_;
    SimConfig config_;
    std::unique_ptr<World> world_;
    std::string health_base_url_;

    std::mutex fault_mutex_;
    std::mt19937_64 fault_rng_;

    RateLimiter limiter_;
    mutable std::mutex counters_mutex_;
    mutable Counters counters_;
    util::Wakeup stop_;
};

/// The parsed simulator schema (Railway's subset), built once per process on first use.
const graphql::Schema& SimulatorSchema();

}  // namespace railwatch::sim
