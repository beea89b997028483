#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// What railwatch reads from Railway, as plain values (parsed from GraphQL answers by
/// railway/response.hpp). Field names follow Railway's schema.
namespace railwatch::railway {

/// `Deployment.instances[]`: one replica's status, kept as Railway spelled it.
struct DeploymentInstance {
    std::string status;  ///< DeploymentInstanceStatus (RUNNING, CRASHED, EXITED, ...), raw
};

/// The status-check selection of one deployment.
struct Deployment {
    std::string id;
    core::RailwayStatus status;  ///< unknown values kept raw
    std::optional<core::Timestamp> status_updated_at;
    std::optional<core::Timestamp> created_at;
    std::optional<core::Timestamp> updated_at;
    std::optional<std::string> url;
    std::optional<std::string> static_url;
    bool deployment_stopped = false;
    bool can_redeploy = false;
    std::vector<DeploymentInstance> instances;
    std::optional<std::string> service_id;  ///< nullable in the schema
    std::string environment_id;
    std::string project_id;
};

/// What a poll reads of one deployment (RailwayApi::PollStatuses): its status and the times the
/// check decides on. Its id is the one asked for; nothing else is read.
struct PolledStatus {
    core::RailwayStatus status;  ///< unknown values kept raw
    std::optional<core::Timestamp> status_updated_at;
    std::optional<core::Timestamp> created_at;
    std::optional<core::Timestamp> updated_at;
    bool deployment_stopped = false;
};

/// `Log.attributes[]`: one field Railway parsed from a structured (JSON) log line. Values are
/// kept as Railway sent them (they look JSON-encoded: a string value keeps its quotes).
struct LogAttribute {
    std::string key;
    std::string value;

    bool operator==(const LogAttribute&) const = default;
};

/// One build or deploy log line. `timestamp_raw` keeps Railway's RFC 3339 text (nanoseconds) so
/// it can be sent back as `startDate` unchanged.
struct LogLine {
    core::Timestamp timestamp;
    std::string timestamp_raw;
    std::string message;
    /// "info", "error", ...: Railway's `severity`, or when it sent none the `level` attribute
    /// (quotes stripped); empty when neither is there.
    std::string severity;
    std::vector<LogAttribute> attributes;
};

/// Where an incremental log fetch stopped: the newest timestamp returned and the messages
/// returned at it (lines sharing a timestamp are told apart by message). Only ever moves past
/// lines that were returned to the caller.
struct LogCursor {
    std::optional<core::Timestamp> last;
    std::string last_raw;  ///< Railway's text for `last`, sent back as startDate
    std::vector<std::string> messages_at_last;
    /// Set by a first fetch (empty cursor) that could not reach the oldest lines within its page
    /// bound: the lines returned are the newest ones, and older lines were not returned.
    bool older_lines_omitted = false;
};

/// `deploymentEvents` node: one step of a deployment (BUILD_IMAGE, HEALTHCHECK, ...).
struct DeploymentEvent {
    std::string step;
    std::optional<core::Timestamp> created_at;
    std::optional<core::Timestamp> completed_at;
    std::optional<int> attempt;
    std::optional<int> max_attempts;
    std::optional<long long> duration_ms;
    std::string error;
    std::string reason;
    std::string detail;
    bool skipped = false;
};

/// `serviceInstance` settings that matter for health.
struct ServiceInstanceInfo {
    std::string id;
    std::string service_name;
    std::optional<std::string> healthcheck_path;
    std::optional<int> healthcheck_timeout_s;
    std::optional<int> num_replicas;
    std::string restart_policy_type;  ///< ALWAYS, NEVER, ON_FAILURE
    int restart_policy_max_retries = 0;
    std::vector<std::string> domains;  ///< service domains then custom domains
};

/// What kind of token Railway accepted, as found by RailwayApi::ValidateToken.
enum class TokenScope {
    kAccount,    ///< a personal account token: `me` answers
    kWorkspace,  ///< a workspace token: `me` refuses it, `apiToken` lists its workspace(s)
    kProject,    ///< a project token (Project-Access-Token): `projectToken` answers
};

/// A workspace a token may act on (`apiToken.workspaces[]`).
struct TokenWorkspace {
    std::string id;
    std::string name;
};

/// Who a token belongs to, from `me` (account token), `apiToken` (workspace token) or
/// `projectToken` (project token).
struct TokenInfo {
    TokenScope scope = TokenScope::kAccount;
    std::string user_id;  ///< account tokens
    std::string user_email;
    std::string user_name;
    std::vector<TokenWorkspace> workspaces;  ///< workspace tokens
    std::string project_id;                  ///< project tokens
    std::string environment_id;
};

/// `environment.serviceInstances[]`: a service of an environment and its newest deployment.
/// One service of an environment, the id of its latest deployment and its probe target: what the
/// discovery of new deployments compares and the prober probes (RailwayApi::ReadEnvironmentServices);
/// nothing more is read, so that an environment of many services stays cheap to read.
struct ServiceLatestDeployment {
    std::string service_id;
    std::optional<std::string> latest_id;  ///< nullopt when the service has never deployed
    /// Where the service's health is probed, read with it (ServiceInstanceInfo says the same): its
    /// first domain that is not empty (service domains, then custom ones; nullopt: none) and its
    /// healthcheck path.
    std::optional<std::string> first_domain{};
    std::optional<std::string> healthcheck_path{};
};

/// One deployment as an environment's list of deployments names it: what discovery needs to tell
/// a new deployment of a watched service (RailwayApi::ListDeploymentsSince).
struct ListedDeployment {
    std::string id;
    std::string service_id;  ///< empty when Railway names none (the field is nullable)
    core::Timestamp created_at{};
};

/// The deployments of an environment created after a time, as RailwayApi::ListDeploymentsSince
/// read them.
struct DeploymentsSince {
    std::vector<ListedDeployment> deployments;  ///< created after `since`, newest first
    /// The newest creation time of the answer (nullopt: the environment has none), the next
    /// read's `since`.
    std::optional<core::Timestamp> newest;
    /// Every deployment created after `since` is in `deployments`: the list was read until one
    /// created at or before it, or its end. False when the pages allowed were all newer, when the
    /// answer was not newest first, or when its first deployment was already older than `since`
    /// (the newest deleted since: nothing tells what else changed).
    bool complete = false;
    /// The answer was newest first (no creation time rose along a page read). Railway does not
    /// document the order (FACTS §3); a list in another order cannot be cut at `since`, and
    /// `deployments` is then empty.
    bool newest_first = true;
};

/// `platformStatus`: Railway-wide incidents and maintenance.
struct PlatformStatus {
    bool is_stable = true;
    std::string incident_message;  ///< empty when there is no incident
    std::string incident_status;
    std::string maintenance_message;
    std::string maintenance_status;
};

/// A workspace's usage limit (`workspace.customer.usageLimit`), for quota checks.
struct WorkspaceUsage {
    std::string workspace_id;
    std::string plan;  ///< FREE, HOBBY, PRO
    double current_usage_dollars = 0;
    std::optional<int> soft_limit_dollars;
    std::optional<int> hard_limit_dollars;
    bool is_over_limit = false;
    std::string customer_state;  ///< ACTIVE, PAST_DUE, UNPAID, ...
};

}  // namespace railwatch::railway
