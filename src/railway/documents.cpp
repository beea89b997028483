#include "railway/documents.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "railway/railway_api.hpp"

namespace railwatch::railway::documents {

// One spelling of the status-check selection, shared by every document that reads a deployment.
#define RW_DEPLOYMENT_STATUS_FRAGMENT                                                                              \
    "fragment DeploymentStatusFields on Deployment { id status statusUpdatedAt createdAt updatedAt url staticUrl " \
    "deploymentStopped canRedeploy instances { status } serviceId environmentId projectId }"

const std::string_view kDeploymentStatusFragment = RW_DEPLOYMENT_STATUS_FRAGMENT;

std::string Alias(std::size_t index) {
    return fmt::format("d{}", index);
}

const std::string_view kDeploymentPollFragment =
    "fragment DeploymentPollFields on Deployment { status statusUpdatedAt createdAt updatedAt deploymentStopped }";

namespace {

// `query <operation>($id0: String!, …) { d0: deployment(id: $id0) { ...<fields> } … } <fragment>`
AliasBatchParts AliasBatch(std::string_view operation, std::string_view fields, std::string_view fragment,
                           std::size_t max) {
    if (max == 0) max = 1;
    AliasBatchParts parts;
    parts.head = fmt::format("query {}(", operation);
    parts.variables.reserve(max * 18);
    parts.fields.reserve(max * (32 + fields.size()));
    for (std::size_t i = 0; i < max; ++i) {
        fmt::format_to(std::back_inserter(parts.variables), "{}$id{}: String!", i == 0 ? "" : ", ", i);
        parts.variables_end.push_back(parts.variables.size());
        fmt::format_to(std::back_inserter(parts.fields), " d{0}: deployment(id: $id{0}) {{ ...{1} }}", i, fields);
        parts.fields_end.push_back(parts.fields.size());
    }
    parts.middle = ") {";
    parts.tail = " } ";
    parts.tail += fragment;
    return parts;
}

}  // namespace

std::size_t AliasBatchParts::Size(std::size_t count) const {
    return head.size() + variables_end.at(count - 1) + middle.size() + fields_end.at(count - 1) + tail.size();
}

void AliasBatchParts::AppendDocument(std::string& out, std::size_t count) const {
    out.reserve(out.size() + Size(count));
    out += head;
    out.append(variables, 0, variables_end.at(count - 1));
    out += middle;
    out.append(fields, 0, fields_end.at(count - 1));
    out += tail;
}

std::string AliasBatchParts::Document(std::size_t count) const {
    std::string text;
    AppendDocument(text, count);
    return text;
}

AliasBatchParts DeploymentStatusBatchParts(std::size_t max) {
    return AliasBatch("DeploymentStatuses", "DeploymentStatusFields", kDeploymentStatusFragment, max);
}

AliasBatchParts DeploymentPollBatchParts(std::size_t max) {
    return AliasBatch("DeploymentPoll", "DeploymentPollFields", kDeploymentPollFragment, max);
}

std::string DeploymentStatusBatch(std::size_t count) {
    count = std::max<std::size_t>(count, 1);
    return DeploymentStatusBatchParts(count).Document(count);
}

std::string DeploymentPollBatch(std::size_t count) {
    count = std::max<std::size_t>(count, 1);
    return DeploymentPollBatchParts(count).Document(count);
}

const std::string_view kDeploymentList =
    "query Deployments($environmentId: String!, $serviceId: String, $first: Int) { "
    "deployments(input: { environmentId: $environmentId, serviceId: $serviceId }, first: $first) { "
    "edges { node { ...DeploymentStatusFields } } } } " RW_DEPLOYMENT_STATUS_FRAGMENT;

const std::string_view kEnvironmentLatestDeployments =
    "query EnvironmentLatestDeployments($environmentId: String!, $first: Int, $after: String) { "
    "environment(id: $environmentId) { serviceInstances(first: $first, after: $after) { "
    "edges { node { serviceId latestDeployment { id } healthcheckPath "
    "domains { serviceDomains { domain } customDomains { domain } } } } "
    "pageInfo { hasNextPage endCursor } } } }";

const std::string_view kServiceLatestDeployment =
    "query ServiceLatestDeployment($serviceId: String!, $environmentId: String!) { "
    "serviceInstance(serviceId: $serviceId, environmentId: $environmentId) { "
    "latestDeployment { ...DeploymentStatusFields } } } " RW_DEPLOYMENT_STATUS_FRAGMENT;

const std::string_view kEnvironmentDeployments =
    "query EnvironmentDeployments($environmentId: String!, $first: Int, $after: String) { "
    "deployments(input: { environmentId: $environmentId }, first: $first, after: $after) { "
    "edges { node { id serviceId createdAt } } pageInfo { hasNextPage endCursor } } }";

const std::string_view kDeploymentCanRedeploy =
    "query DeploymentCanRedeploy($id: String!) { deployment(id: $id) { id status canRedeploy } }";

// One spelling of the steps' selection, and of the log lines'.
#define RW_EVENT_FIELDS                                                                                         \
    "{ edges { node { step createdAt completedAt payload { attempt maxAttempts durationMs error reason detail " \
    "skipped } } } }"
#define RW_LOG_FIELDS "{ timestamp message severity attributes { key value } }"

const std::string_view kDeploymentEvents =
    "query DeploymentEvents($id: String!, $first: Int) { deploymentEvents(id: $id, first: $first) " RW_EVENT_FIELDS
    " }";

// One spelling of the log arguments, shared by build and deploy logs.
#define RW_LOG_QUERY(operation, field)                                                                            \
    "query " operation "($deploymentId: String!, $limit: Int, $startDate: DateTime, $endDate: DateTime) { " field \
    "(deploymentId: $deploymentId, limit: $limit, startDate: $startDate, endDate: $endDate) " RW_LOG_FIELDS " }"

const std::string_view kDeploymentLogs = RW_LOG_QUERY("DeploymentLogs", "deploymentLogs");
const std::string_view kBuildLogs = RW_LOG_QUERY("BuildLogs", "buildLogs");

const std::string_view kPhaseChange =
    "query PhaseChange($id: String!, $first: Int, $limit: Int, $buildStart: DateTime, $deployStart: DateTime) { "
    "events: deploymentEvents(id: $id, first: $first) " RW_EVENT_FIELDS
    " build: buildLogs(deploymentId: $id, limit: $limit, startDate: $buildStart) " RW_LOG_FIELDS
    " deploy: deploymentLogs(deploymentId: $id, limit: $limit, startDate: $deployStart) " RW_LOG_FIELDS " }";
const std::string_view kPhaseChangeBuild =
    "query PhaseChangeBuild($id: String!, $first: Int, $limit: Int, $buildStart: DateTime) { "
    "events: deploymentEvents(id: $id, first: $first) " RW_EVENT_FIELDS
    " build: buildLogs(deploymentId: $id, limit: $limit, startDate: $buildStart) " RW_LOG_FIELDS " }";

std::string LogsSinceAlias(std::size_t index) {
    return fmt::format("l{}", index);
}

std::string LogsSinceBatch(const std::vector<bool>& build_kinds) {
    std::string variables = "$limit: Int";
    std::string fields;
    for (std::size_t k = 0; k < build_kinds.size(); ++k) {
        variables += fmt::format(", $id{0}: String!, $since{0}: DateTime", k);
        fields += fmt::format(" {}: {}(deploymentId: $id{}, limit: $limit, startDate: $since{}) {}", LogsSinceAlias(k),
                              build_kinds[k] ? "buildLogs" : "deploymentLogs", k, k, RW_LOG_FIELDS);
    }
    return fmt::format("query LogsSince({}) {{{} }}", variables, fields);
}

PhaseChangeAliases PhaseChangeAliasesOf(std::size_t index) {
    return {fmt::format("e{}", index), fmt::format("b{}", index), fmt::format("d{}", index)};
}

std::string PhaseChangeBatch(const std::vector<bool>& deploy_kinds) {
    std::string variables = "$first: Int, $limit: Int";
    std::string fields;
    for (std::size_t k = 0; k < deploy_kinds.size(); ++k) {
        const PhaseChangeAliases alias = PhaseChangeAliasesOf(k);
        variables += fmt::format(", $id{0}: String!, $bs{0}: DateTime", k);
        fields += fmt::format(" {}: deploymentEvents(id: $id{}, first: $first) {}", alias.events, k, RW_EVENT_FIELDS);
        fields += fmt::format(" {}: buildLogs(deploymentId: $id{}, limit: $limit, startDate: $bs{}) {}", alias.build, k,
                              k, RW_LOG_FIELDS);
        if (deploy_kinds[k]) {
            variables += fmt::format(", $ds{}: DateTime", k);
            fields += fmt::format(" {}: deploymentLogs(deploymentId: $id{}, limit: $limit, startDate: $ds{}) {}",
                                  alias.deploy, k, k, RW_LOG_FIELDS);
        }
    }
    return fmt::format("query PhaseChanges({}) {{{} }}", variables, fields);
}

const std::string_view kServiceInstance =
    "query ServiceInstance($serviceId: String!, $environmentId: String!) { "
    "serviceInstance(serviceId: $serviceId, environmentId: $environmentId) { id serviceName healthcheckPath "
    "healthcheckTimeout numReplicas restartPolicyType restartPolicyMaxRetries "
    "domains { serviceDomains { domain } customDomains { domain } } } }";

const std::string_view kDeploymentRedeploy =
    "mutation DeploymentRedeploy($id: String!) { deploymentRedeploy(id: $id) { id status } }";
const std::string_view kDeploymentRestart = "mutation DeploymentRestart($id: String!) { deploymentRestart(id: $id) }";
const std::string_view kDeploymentCancel = "mutation DeploymentCancel($id: String!) { deploymentCancel(id: $id) }";

const std::string_view kMe = "query Me { me { id email name } }";
const std::string_view kApiToken = "query ApiToken { apiToken { workspaces { id name } } }";
const std::string_view kProjectToken = "query ProjectToken { projectToken { projectId environmentId } }";
const std::string_view kPlatformStatus =
    "query PlatformStatus { platformStatus { isStable incident { status message } maintenance { status message } } }";
const std::string_view kWorkspaceUsage =
    "query WorkspaceUsage($workspaceId: String!) { workspace(workspaceId: $workspaceId) { id plan "
    "customer { currentUsage state usageLimit { softLimit hardLimit isOverLimit } } } }";

std::vector<NamedDocument> AllDocuments(const std::vector<std::size_t>& batch_sizes) {
    std::vector<NamedDocument> all;
    for (std::size_t n : batch_sizes) {
        all.push_back({fmt::format("DeploymentStatuses[{}]", n), DeploymentStatusBatch(n)});
        all.push_back({fmt::format("DeploymentPoll[{}]", n), DeploymentPollBatch(n)});
        std::vector<bool> kinds(std::max<std::size_t>(n, 1));
        for (std::size_t k = 0; k < kinds.size(); ++k)
            kinds[k] = k % 2 == 0;
        all.push_back({fmt::format("LogsSince[{}]", kinds.size()), LogsSinceBatch(kinds)});
        std::vector<bool> deploys(std::clamp<std::size_t>(n, 1, kMaxPhaseChangesPerRequest));
        for (std::size_t k = 0; k < deploys.size(); ++k)
            deploys[k] = k % 2 == 0;
        std::string name = fmt::format("PhaseChanges[{}]", deploys.size());
        if (std::none_of(all.begin(), all.end(), [&](const NamedDocument& d) { return d.name == name; }))
            all.push_back({std::move(name), PhaseChangeBatch(deploys)});
    }
    const std::pair<const char*, std::string_view> fixed[] = {
        {"Deployments", kDeploymentList},
        {"EnvironmentLatestDeployments", kEnvironmentLatestDeployments},
        {"EnvironmentDeployments", kEnvironmentDeployments},
        {"ServiceLatestDeployment", kServiceLatestDeployment},
        {"DeploymentCanRedeploy", kDeploymentCanRedeploy},
        {"DeploymentEvents", kDeploymentEvents},
        {"DeploymentLogs", kDeploymentLogs},
        {"BuildLogs", kBuildLogs},
        {"PhaseChange", kPhaseChange},
        {"PhaseChangeBuild", kPhaseChangeBuild},
        {"ServiceInstance", kServiceInstance},
        {"DeploymentRedeploy", kDeploymentRedeploy},
        {"DeploymentRestart", kDeploymentRestart},
        {"DeploymentCancel", kDeploymentCancel},
        {"Me", kMe},
        {"ApiToken", kApiToken},
        {"ProjectToken", kProjectToken},
        {"PlatformStatus", kPlatformStatus},
        {"WorkspaceUsage", kWorkspaceUsage},
    };
    for (const auto& [name, text] : fixed)
        all.push_back({name, std::string(text)});
    return all;
}

}  // namespace railwatch::railway::documents
