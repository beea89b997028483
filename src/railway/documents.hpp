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

/// An alias batch's document in pieces, so that the document for any count up to the one they
/// were made for is a few copies: `head`, the first `count` pieces of `variables` (a variable's
/// piece ends at `variables_end[K]`), `middle`, the first `count` pieces of `fields`, `tail`.
struct AliasBatchParts {
    std::string head;
    std::string variables;
    std::vector<std::size_t> variables_end;
    std::string middle;
    std::string fields;
    std::vector<std::size_t> fields_end;
    std::string tail;

    /// The document with `count` aliases (1 ≤ count ≤ variables_end.size()).
    std::string Document(std::size_t count) const;
    /// The same, appended to `out`.
    void AppendDocument(std::string& out, std::size_t count) const;
    /// The size of Document(count).
    std::size_t Size(std::size_t count) const;
};
/// DeploymentStatusBatch's and DeploymentPollBatch's documents for up to `max` aliases (≥ 1).
AliasBatchParts DeploymentStatusBatchParts(std::size_t max);
AliasBatchParts DeploymentPollBatchParts(std::size_t max);

/// The alias of the `index`-th deployment in a batch ("d0", "d1", ...), also the suffix of its
/// variable ("id0", ...).
std::string Alias(std::size_t index);

/// Newest deployments of an environment (of one service when serviceId is given).
/// Variables: environmentId, serviceId (optional), first.
extern const std::string_view kDeploymentList;
/// Every service of an environment with its latest deployment, a page of `serviceInstances` per
/// request. Variables: environmentId, first (optional page size), after (optional page cursor).
extern const std::string_view kEnvironmentLatestDeployments;
/// A service's latest deployment in an environment as Railway names it
/// (`serviceInstance.latestDeployment`, whatever order `deployments` lists in). Variables:
/// serviceId, environmentId.
extern const std::string_view kServiceLatestDeployment;
/// The deployments of an environment, a page per request, with only what discovery compares (id,
/// serviceId, createdAt). Variables: environmentId, first, after (optional page cursor).
extern const std::string_view kEnvironmentDeployments;
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
/// `LogsSince` with one alias `lK` per kind of `kinds` (≥ 1): `buildLogs` (true) or
/// `deploymentLogs` (false) of deployment `$idK` from `$sinceK` (optional), at most `$limit` lines
/// each. Variables: id0 … (String!), since0 … (DateTime), limit (Int).
std::string LogsSinceBatch(const std::vector<bool>& build_kinds);
/// The alias of the `index`-th part of a LogsSinceBatch ("l0", "l1", ...).
std::string LogsSinceAlias(std::size_t index);
/// `PhaseChanges`: kPhaseChange for several deployments, one per element of `deploy_kinds` (≥ 1),
/// aliased `eK` (`deploymentEvents` of `$idK`, `$first` of them), `bK` (`buildLogs` from
/// `$bsK`) and, where the element is true, `dK` (`deploymentLogs` from `$dsK`), at most `$limit`
/// lines each. Variables: first, limit (Int), id0 … (String!), bs0 …, ds0 … (DateTime).
std::string PhaseChangeBatch(const std::vector<bool>& deploy_kinds);
/// The aliases of the `index`-th part of a PhaseChangeBatch: its steps, build and deploy logs.
struct PhaseChangeAliases {
    std::string events;
    std::string build;
    std::string deploy;
};
PhaseChangeAliases PhaseChangeAliasesOf(std::size_t index);
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
/// `batch_sizes` (and a LogsSinceBatch of each size, its kinds alternating, and a PhaseChangeBatch
/// of each size up to kMaxPhaseChangesPerRequest, deploy logs on every other deployment).
std::vector<NamedDocument> AllDocuments(const std::vector<std::size_t>& batch_sizes);

}  // namespace railwatch::railway::documents
