#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/lifecycle.hpp"
#include "util/result.hpp"

/// The simulator's settings: scenario files (JSON, docs/SIMULATOR.md), the create-specs of the
/// control API, faults and rate limits. Parsing is strict: unknown keys and bad values are
/// errors that name the key.
namespace railwatch::sim {

/// What a service's health endpoint answers.
enum class HealthMode { kHealthy, kSlow, kFailing };
std::string_view ToString(HealthMode mode);
std::optional<HealthMode> ParseHealthMode(std::string_view text);

/// Fractions (0..1) of /graphql/v2 requests that fail in each way. At most one of the
/// exclusive faults (all but latency) hits a request; their fractions must add up to ≤ 1.
struct FaultConfig {
    double http500 = 0;         ///< HTTP 500 with a JSON error body
    double http503 = 0;         ///< HTTP 503 "upstream connect error"
    double hang = 0;            ///< no answer for hang_ms, then the connection is reset
    double reset = 0;           ///< TCP reset before any answer
    double malformed_json = 0;  ///< HTTP 200 whose body is cut off mid-JSON
    double html403 = 0;         ///< HTTP 403 HTML page like Cloudflare's
    double latency = 0;         ///< added delay of latency_ms (independent of the others)
    int latency_ms = 1000;
    int hang_ms = 30000;
};

/// Per-token request budgets; 0 means unlimited. `edge_rps` limits requests to /graphql/v2
/// without a query string, which Railway's edge answers with an HTML 403 page.
struct RateLimitConfig {
    int rps = 10;
    int rph = 1000;
    int edge_rps = 10;
};

/// One create request: `count` deployments of `kind`, or drawn from `mix` (weights).
struct CreateSpec {
    int count = 1;
    std::optional<Kind> kind;
    std::vector<std::pair<Kind, double>> mix;
    std::optional<Reason> reason;
    std::string service_id;      ///< empty → a new service per deployment
    std::string service_name;    ///< empty → derived
    std::string environment_id;  ///< empty → the simulator's environment
    std::optional<HealthMode> health;
    std::optional<Kind> redeploy_kind;  ///< kind of deployments created by deploymentRedeploy (default success)
};

struct SimConfig {
    std::uint64_t seed = 1;
    double time_scale = 1.0;
    std::string account_token = "sim-account-token";
    std::string project_token = "sim-project-token";
    Durations durations;
    RateLimitConfig rate_limit;
    FaultConfig faults;
    int slow_health_ms = 2000;
    std::string plan = "HOBBY";
    double current_usage = 12.5;
    int usage_soft_limit = 20;
    std::optional<int> usage_hard_limit = 50;
    std::optional<std::string> incident;  ///< platformStatus.incident.message when set
    std::vector<CreateSpec> deployments;  ///< created at start
};

/// Parses a create-spec object ({count?, kind? | mix?, reason?, serviceId?, serviceName?,
/// environmentId?, health?, redeployKind?}). Errors (kInvalidArgument) name the key.
util::Result<CreateSpec> ParseCreateSpec(const nlohmann::json& j);
/// Applies {http500?, http503?, hang?, reset?, malformedJson?, html403?, latency?, latencyMs?, hangMs?}.
util::Result<FaultConfig> ApplyFaults(const nlohmann::json& j, FaultConfig base);
/// Applies {rps?, rph?, edgeRps?}.
util::Result<RateLimitConfig> ApplyRateLimit(const nlohmann::json& j, RateLimitConfig base);
/// Parses a whole scenario (docs/SIMULATOR.md) on top of the defaults.
util::Result<SimConfig> ParseScenario(std::string_view json_text);
/// Reads and parses a scenario file; errors name the file.
util::Result<SimConfig> LoadScenarioFile(const std::string& path);

}  // namespace railwatch::sim
