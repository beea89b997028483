#pragma once

#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "railway/types.hpp"
#include "util/result.hpp"

/// Mapping Railway's GraphQL JSON to railwatch's plain values. Each function takes the value of
/// one root field (or of one node) and fails with kParse, naming the field, when the JSON lacks
/// what the document asked for. Pure; thread-safe.
namespace railwatch::railway {

/// One `Deployment` with the status selection (documents::kDeploymentStatusFragment), read in
/// place from a status answer (the hot path: ReadStatusBatch).
util::Result<Deployment> ParseDeployment(simdjson::dom::element node);
/// The poll's selection (documents::kDeploymentPollFragment) of one deployment: no text kept but
/// the status.
util::Result<PolledStatus> ParsePolledStatus(simdjson::dom::element node);
/// A `deployments` connection (`edges[].node`), newest first by createdAt (Railway does not
/// document its order).
util::Result<std::vector<Deployment>> ParseDeploymentList(simdjson::dom::element connection);

/// One `Log`: severity falls back to the `level` attribute (quotes stripped). Read in place
/// (simdjson): log answers are the largest railwatch reads.
util::Result<LogLine> ParseLogLine(simdjson::dom::element node);
/// A `[Log!]!` list, in Railway's order.
util::Result<std::vector<LogLine>> ParseLogLines(simdjson::dom::element list);

/// A `deploymentEvents` connection, in Railway's order.
util::Result<std::vector<DeploymentEvent>> ParseDeploymentEvents(simdjson::dom::element connection);
/// `serviceInstance` (health settings; domains: service domains, then custom ones).
util::Result<ServiceInstanceInfo> ParseServiceInstance(const nlohmann::json& node);
/// `platformStatus`.
util::Result<PlatformStatus> ParsePlatformStatus(const nlohmann::json& node);
/// `workspace { plan customer { … usageLimit } }`.
util::Result<WorkspaceUsage> ParseWorkspaceUsage(const nlohmann::json& node);

/// `me { id email name }` → an account token's TokenInfo.
util::Result<TokenInfo> ParseMe(const nlohmann::json& node);
/// `apiToken { workspaces { id name } }` → a workspace token's TokenInfo.
util::Result<TokenInfo> ParseApiToken(const nlohmann::json& node);
/// `projectToken { projectId environmentId }` → a project token's TokenInfo.
util::Result<TokenInfo> ParseProjectToken(const nlohmann::json& node);

/// One page of `environment { serviceInstances }`.
struct ServiceInstancePage {
    std::vector<ServiceLatestDeployment> services;
    bool has_next_page = false;
    std::string end_cursor;
};
/// The value of `environment` from documents::kEnvironmentLatestDeployments, read in place.
util::Result<ServiceInstancePage> ParseEnvironmentLatestDeployments(simdjson::dom::element environment);

/// The value of `serviceInstance` from documents::kServiceLatestDeployment: its latest deployment
/// (nullopt: none yet).
util::Result<std::optional<Deployment>> ParseServiceLatestDeployment(simdjson::dom::element service_instance);

/// One page of `deployments` from documents::kEnvironmentDeployments, in Railway's order.
struct DeploymentPage {
    std::vector<ListedDeployment> deployments;
    bool has_next_page = false;
    std::string end_cursor;
};
/// The value of `deployments` from documents::kEnvironmentDeployments, read in place.
util::Result<DeploymentPage> ParseEnvironmentDeployments(simdjson::dom::element connection);

}  // namespace railwatch::railway
