#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/graphql/executor.hpp"
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

/// Which budget X-RateLimit-Limit / -Remaining / -Reset describe (Railway does not say).
enum class HeaderWindow { kHour, kSecond };
/// The unit of X-RateLimit-Reset (Railway does not say).
enum class ResetFormat {
    kEpochSeconds,    ///< Unix seconds when the window ends
    kEpochMillis,     ///< Unix milliseconds when the window ends
    kSecondsFromNow,  ///< seconds until the window ends (as Retry-After)
    kRfc3339,         ///< RFC 3339 UTC time when the window ends
};
/// What one request costs against the budgets (Railway does not say how aliases count).
enum class AliasCost {
    kRequest,    ///< 1 per HTTP request, whatever it asks
    kRootField,  ///< 1 per root field, aliases counted separately (at least 1)
};

/// Per-token request budgets; 0 means unlimited. `edge_rps` limits requests to /graphql/v2
/// without a query string, which Railway's edge answers with an HTML 403 page. The rest says how
/// the answers describe the budgets and what a request costs.
struct RateLimitConfig {
    int rps = 10;
    int rph = 1000;
    int edge_rps = 10;
    HeaderWindow header_window = HeaderWindow::kHour;
    ResetFormat reset_format = ResetFormat::kEpochSeconds;
    bool policy_header = false;  ///< send `RateLimit-Policy: 1000;w=3600, 10;w=1` (IETF draft)
    AliasCost cost = AliasCost::kRequest;
};

/// Which lines a full page of deploymentLogs/buildLogs holds when `startDate` is given.
enum class LogPage {
    kHead,  ///< the oldest lines at or after startDate (a client pages forward)
    kTail,  ///< the newest lines at or after startDate
};
/// Whether log lines carry `severity` (the `level` attribute is always there).
enum class LogSeverity {
    kAlways,     ///< every line has severity
    kSometimes,  ///< about half the lines (chosen by a hash of the line) have severity null
    kNever,      ///< severity is always null; clients must read attributes
};

/// How the log queries answer.
struct LogConfig {
    LogPage page_with_start_date = LogPage::kHead;
    bool extra_line = true;  ///< a full page holds limit + 1 lines, as Railway reportedly returns
    LogSeverity severity = LogSeverity::kAlways;
};

/// The message of a field error for an unknown or deleted deployment id; one of these three
/// (Railway's wording is not documented).
inline constexpr std::string_view kUnknownDeploymentMessages[] = {"Deployment not found", "Not Authorized",
                                                                  "Problem processing request"};

/// How a document with more root fields than ErrorConfig::max_root_fields is refused (Railway
/// documents no limit on aliases, a document's size or its complexity; these are the plausible
/// answers).
enum class RootFieldRefusal {
    kComplexity,       ///< HTTP 400, GRAPHQL_VALIDATION_FAILED: "Query is too complex: …"
    kPayloadTooLarge,  ///< HTTP 413 with a plain-text body (a proxy's body-size limit)
    kNoPath,           ///< HTTP 200, data null, "Problem processing request" without a path
    kServerError,      ///< HTTP 503 from the proxy, as if the backend gave up on the document
    kTimeout,          ///< no answer for FaultConfig::hang_ms, then the connection is reset
};

/// What a connection asked for more than ErrorConfig::max_page_size items (`first`) gets
/// (Railway documents no limit on `first`; both are plausible).
enum class LargePage {
    kClamp,   ///< at most max_page_size items, with hasNextPage
    kRefuse,  ///< a field error, "Problem processing request" (BAD_USER_INPUT)
};

/// The order `deployments` lists in (Railway does not document it: FACTS §3).
enum class DeploymentOrder {
    kNewestFirst,  ///< newest createdAt first (what the docs' `first: 1` for "latest" implies)
    kOldestFirst,  ///< oldest first
};

/// What moves a deployment's `updatedAt` (Railway does not document it).
enum class UpdatedAtFollows {
    kStatus,  ///< its status changes only (as `statusUpdatedAt`)
    kLogs,    ///< its status changes and its log lines: a build's output moves it
};

/// How GraphQL errors look.
struct ErrorConfig {
    std::string unknown_deployment = "Deployment not found";  ///< one of kUnknownDeploymentMessages
    graphql::SiblingErrors sibling_errors = graphql::SiblingErrors::kFirst;
    bool paths = true;        ///< field errors carry `path` (false: every error comes without one)
    int max_root_fields = 0;  ///< more root fields (aliases) in one document are refused; 0: no limit
    RootFieldRefusal too_many_root_fields = RootFieldRefusal::kComplexity;
    int max_page_size = 0;  ///< the most items `environment.serviceInstances(first:)` returns; 0: no limit
    LargePage large_page = LargePage::kClamp;
    DeploymentOrder deployment_order = DeploymentOrder::kNewestFirst;  ///< of `deployments`
    UpdatedAtFollows updated_at = UpdatedAtFollows::kStatus;           ///< a deployment's `updatedAt`
};

/// Railway project webhooks: where status changes are POSTed. Disabled while `url` is empty.
struct WebhookConfig {
    std::string url;     ///< http:// or https://
    std::string secret;  ///< sent in `secret_header` when not empty
    std::string secret_header = "X-Webhook-Secret";
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

/// Everything the simulator is configured with. The fields that POST /_sim/config may change at
/// run time are those ApplyRuntimeSettings reads.
struct SimConfig {
    std::uint64_t seed = 1;
    double time_scale = 1.0;
    std::string account_token = "sim-account-token";      ///< Bearer; personal: `me` answers
    std::string workspace_token = "sim-workspace-token";  ///< Bearer; one workspace: `me` fails
    std::string project_token = "sim-project-token";      ///< Project-Access-Token
    /// The one environment the project token may see (empty → the simulator's environment).
    std::string project_token_environment_id;
    Durations durations;
    RateLimitConfig rate_limit;
    FaultConfig faults;
    LogConfig logs;
    ErrorConfig errors;
    WebhookConfig webhook;
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
/// Applies {rps?, rph?, edgeRps?, headerWindow?, resetFormat?, policyHeader?, cost?}.
util::Result<RateLimitConfig> ApplyRateLimit(const nlohmann::json& j, RateLimitConfig base);
/// The keys ApplyRuntimeSettings accepts (POST /_sim/config).
inline constexpr std::string_view kRuntimeKeys[] = {
    "faults",     "rateLimit",     "timeScale",           "incident",    "logs", "errors",
    "webhookUrl", "webhookSecret", "webhookSecretHeader", "slowHealthMs"};
/// Applies the settings POST /_sim/config may change (kRuntimeKeys) from `j` onto `base`; other
/// keys are ignored here (the caller rejects them). Errors (kInvalidArgument) name the key.
util::Result<SimConfig> ApplyRuntimeSettings(const nlohmann::json& j, SimConfig base);
/// The run-time settings as JSON, in the shape ApplyRuntimeSettings reads (the webhook secret is
/// masked).
nlohmann::json RuntimeSettingsJson(const SimConfig& config);
/// Parses a whole scenario (docs/SIMULATOR.md) on top of the defaults.
util::Result<SimConfig> ParseScenario(std::string_view json_text);
/// Reads and parses a scenario file; errors name the file.
util::Result<SimConfig> LoadScenarioFile(const std::string& path);

}  // namespace railwatch::sim
