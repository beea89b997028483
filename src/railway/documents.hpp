#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

/// Every GraphQL document railwatch sends to Railway, in one place. Each is checked against
/// Railway's schema by the `schema.client_documents` test (tests/integration/client), so a field
/// that does not exist fails the build's tests, not production.
namespace railwatch::railway::documents {

/// The fields of a status check (`fragment DeploymentStatusFields on Deployment`).
extern const std::string_view kDeploymentStatusFragment;

/// `DeploymentStatuses` with `count` aliases `d0 … d{count-1}`, each `deployment(id: $idN)`.
/// `count` must be ≥ 1. Variables: `id0 … id{count-1}` (String!).
std::string DeploymentStatusBatch(std::size_t count);

/// The fields of a poll (`fragment DeploymentPollFields on Deployment`): only what the monitor's
/// check decides on (status and its times), no text that would be parsed and dropped.
extern const std::string_view kDeploymentPollFragment;

/// `DeploymentPoll`: DeploymentStatusBatch's shape with the poll's fields.
std::string DeploymentPollBatch(std::size_t count);

/// The alias of the `index`-th deployment in a batch ("d0", "d1", ...), also the suffix of its
/// variable ("id0", ...).
std::string Alias(std::size_t index);

/// Newest deployments of an environment (of one service when serviceId is given).
/// Variables: environmentId, serviceId (optional), first.
extern const std::string_view kDeploymentList;
/// Every service of an environment with its latest deployment, in one request (a page of
/// `serviceInstances`). Variables: environmentId, after (optional page cursor).
extern const std::string_view kEnvironmentLatestDeployments;
/// What a redeploy must check first. Variable: id.
extern const std::string_view kDeploymentCanRedeploy;
/// Steps of a deployment. Variables: id, first.
extern const std::string_view kDeploymentEvents;
/// Deploy (runtime) logs. Variables: deploymentId, limit, startDate and endDate (optional).
extern const std::string_view kDeploymentLogs;
/// Build logs. Variables: deploymentId, limit, startDate and endDate (optional).
extern const std::string_view kBuildLogs;
/// A phase change's reads in one request: the steps (alias `events`, as kDeploymentEvents) and
/// the first page of new build logs (`build`) and deploy logs (`deploy`) from a start date (as
/// kBuildLogs / kDeploymentLogs without an end). Variables: id, first, limit, buildStart and
/// deployStart (optional). kPhaseChangeBuild: the same without the deploy logs.
extern const std::string_view kPhaseChange;
extern const std::string_view kPhaseChangeBuild;
/// Health-related settings of a service instance. Variables: serviceId, environmentId.
extern const std::string_view kServiceInstance;
/// Mutations. Variable: id.
extern const std::string_view kDeploymentRedeploy;
extern const std::string_view kDeploymentRestart;
extern const std::string_view kDeploymentCancel;
/// Token validation: `me` for account tokens, `apiToken` for workspace tokens (which `me`
/// refuses), `projectToken` for project tokens.
extern const std::string_view kMe;
extern const std::string_view kApiToken;
extern const std::string_view kProjectToken;
/// Railway-wide incidents.
extern const std::string_view kPlatformStatus;
/// Workspace plan and usage limit. Variable: workspaceId.
extern const std::string_view kWorkspaceUsage;

/// A document with a name, for the schema check.
struct NamedDocument {
    std::string name;
    std::string query;
};

/// Every document the client can emit, with the status and poll batches at each size in
/// `batch_sizes`.
std::vector<NamedDocument> AllDocuments(const std::vector<std::size_t>& batch_sizes);

}  // namespace railwatch::railway::documents
