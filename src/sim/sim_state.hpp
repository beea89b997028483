#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <shared_mutex>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/connection_reset.hpp"
#include "sim/graphql/executor.hpp"
#include "sim/graphql/schema.hpp"
#include "sim/rate_limiter.hpp"
#include "sim/status_feed.hpp"
#include "sim/world.hpp"
#include "util/clock.hpp"

/// The state the simulator's request handlers share (the GraphQL pipeline, the control API, the
/// health endpoints): configuration, the World, budgets, counters and the waits that Stop ends.
/// Internal to src/sim; Simulator is the public face.
namespace railwatch::sim {

/// Request counters for /_sim/stats. Thread-safe.
class SimCounters {
  public:
    struct Values {
        std::uint64_t total = 0;
        std::uint64_t rate_limited = 0;
        std::uint64_t edge_blocked = 0;
        std::uint64_t parse_errors = 0;
        std::uint64_t validation_errors = 0;
        std::uint64_t root_field_refusals = 0;  ///< documents over errors.maxRootFields
        std::uint64_t auth_errors = 0;
        std::uint64_t latency_injected = 0;
        std::map<std::string, std::uint64_t> faults;
        std::map<std::string, std::uint64_t> root_fields;
        std::map<int, std::uint64_t> by_status;
        std::uint64_t webhooks_sent = 0;       ///< POSTs started
        std::uint64_t webhooks_delivered = 0;  ///< answered 2xx
        std::uint64_t webhooks_failed = 0;     ///< other answers and transport errors
        std::uint64_t webhooks_dropped = 0;    ///< not sent: too many in flight
    };

    /// Runs `update` on the counters under their lock.
    void Update(const std::function<void(Values&)>& update);
    /// The /_sim/stats document.
    nlohmann::json ToJson() const;
    /// Zeroes every counter (POST /_sim/reset).
    void Reset();

  private:
    mutable std::mutex mutex_;
    Values values_;
};

/// Every `deployment(id)` root field the simulator answered: per deployment id, when, with which
/// query string of the request and in which named operation (GET /_sim/queries). Tests tell the processes sharing one
/// simulator apart by giving each its own query string, and read who checked an id when.
/// Holds at most kMaxEntries entries (later ones are counted as dropped). Thread-safe.
class QueryLog {
  public:
    static constexpr std::size_t kMaxEntries = 5'000'000;

    /// One answered `deployment(id)` field.
    struct Entry {
        core::Timestamp at;
        std::uint32_t query = 0;      ///< index into the distinct strings
        std::uint32_t operation = 0;  ///< index into the distinct strings
    };

    /// Records that `id` was asked for at `at` by a request with query string `query`, in the
    /// operation named `operation` (empty for an anonymous one).
    void Record(const std::string& id, core::Timestamp at, const std::string& query, const std::string& operation);
    /// The /_sim/queries document for these ids (all ids when empty): {deployments: {id:
    /// [{at, query, operation}, …] oldest first}, unknown: [ids never asked for], dropped}.
    nlohmann::json ToJson(const std::vector<std::string>& ids) const;
    /// Forgets everything (POST /_sim/reset).
    void Reset();

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<Entry>> by_id_;
    std::uint32_t Intern(const std::string& text);  // requires mutex_

    std::vector<std::string> tags_;
    std::map<std::string, std::uint32_t> tag_index_;
    std::size_t entries_ = 0;
    std::uint64_t dropped_ = 0;
};

/// Everything shared, with the lock that guards what is mutable. Lock order: `mutex`, then the
/// limiter's, the counters' and `fault_mutex` (those three are never held together).
struct SimState {
    /// `clock` must outlive the state; `resetter` may be null (aborted exchanges only).
    SimState(SimConfig config, const util::Clock& clock, ConnectionResetter* resetter);

    /// A new trace id for one answer: 32 lowercase hex digits, unique within the process run
    /// (seeded, so a run is reproducible). Thread-safe.
    std::string NextTraceId();
    /// Draws a number in [0, 1) from the fault generator. Thread-safe.
    double DrawFraction();
    /// Reseeds the fault generator (POST /_sim/reset): the same draws as after start. Thread-safe.
    void ResetFaultDraws();
    /// The one environment a project token may see. Requires `mutex`.
    std::string_view ProjectTokenEnvironment() const;

    /// (Re)starts or stops following status changes to match config.webhook.url, and wakes the
    /// webhook sender. Requires `mutex` held exclusively.
    void SyncWebhookFeed();

    const util::Clock& clock;
    ConnectionResetter* const resetter;
    const graphql::Schema& schema;
    const graphql::Executor executor;

    mutable std::shared_mutex mutex;  ///< guards config, world, health_base_url, feed
    const SimConfig initial_config;
    SimConfig config;
    std::unique_ptr<World> world;
    std::string health_base_url;
    StatusFeed feed;

    RateLimiter limiter;
    SimCounters counters;
    QueryLog queries;
    util::Wakeup stop;             ///< ends injected waits (hang, latency, slow health) at shutdown
    util::Wakeup webhook_changes;  ///< wakes the webhook sender when timelines or its target change

  private:
    std::mutex fault_mutex_;
    std::mt19937_64 fault_rng_;
    std::atomic<std::uint64_t> trace_counter_{0};
    std::uint64_t trace_seed_;
};

/// The parsed simulator schema (Railway's subset), built once per process on first use.
const graphql::Schema& SimulatorSchema();

}  // namespace railwatch::sim
