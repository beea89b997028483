#include "railway/documents.hpp"

#include <fmt/format.h>

namespace railwatch::railway::documents {

// One spelling of the status-check selection, shared by every document that reads a deployment.
#define RW_DEPLOYMENT_STATUS_FRAGMENT                                                                              \
    "fragment DeploymentStatusFields on Deployment { id status statusUpdatedAt createdAt updatedAt url staticUrl " \
    "deploymentStopped canRedeploy instances { status } serviceId environmentId projectId }"

const std::string_view kDeploymentStatusFragment = RW_DEPLOYMENT_STATUS_FRAGMENT;

std::string Alias(std::size_t index) {
    return fmt::format("d{}", index);
}

std::string DeploymentStatusBatch(std::size_t count) {
    if (count == 0) count = 1;
    std::string text = "query DeploymentStatuses(";
    text.reserve(64 + count * 72 + kDeploymentStatusFragment.size());
    for (std::size_t i = 0; i < count; ++i) {
        fmt::format_to(std::back_inserter(text), "{}$id{}: String!", i == 0 ? "" : ", ", i);
    }
    text += ") {";
    for (std::size_t i = 0; i < count; ++i) {
        fmt::format_to(std::back_inserter(text), " d{0}: deployment(id: $id{0}) {{ ...DeploymentStatusFields }}", i);
    }
    text += " } ";
    text += kDeploymentStatusFragment;
    return text;
}

const std::string_view kLatestDeployment =
    "query LatestDeployment($serviceId: String!, $environmentId: String!) { "
    "deployments(input: { serviceId: $serviceId, environmentId: $environmentId }, first: 1) { "
    "edges { node { ...DeploymentStatusFields } } } } " RW_DEPLOYMENT_STATUS_FRAGMENT;

const std::string_view kDeploymentEvents =
    "query DeploymentEvents($id: String!, $first: Int) { deploymentEvents(id: $id, first: $first) { "
    "edges { node { step createdAt completedAt payload { attempt maxAttempts durationMs error reason detail "
    "skipped } } } } }";

const std::string_view kDeploymentLogs =
    "query DeploymentLogs($deploymentId: String!, $limit: Int, $startDate: DateTime) { "
    "deploymentLogs(deploymentId: $deploymentId, limit: $limit, startDate: $startDate) { timestamp message "
    "severity } }";

const std::string_view kBuildLogs =
    "query BuildLogs($deploymentId: String!, $limit: Int, $startDate: DateTime) { "
    "buildLogs(deploymentId: $deploymentId, limit: $limit, startDate: $startDate) { timestamp message severity } }";

const std::string_view kServiceInstance =
    "query ServiceInstance($serviceId: String!, $environmentId: String!) { "
    "serviceInstance(serviceId: $serviceId, environmentId: $environmentId) { id serviceName healthcheckPath "
    "healthcheckTimeout numReplicas restartPolicyType restartPolicyMaxRetries "
    "domains { serviceDomains { domain } customDomains { domain } } } }";

const std::string_view kDeploymentRedeploy =
    "mutation DeploymentRedeploy($id: String!) { deploymentRedeploy(id: $id) { id status } }";
const std::string_view kDeploymentRestart = "mutation DeploymentRestart($id: String!) { deploymentRestart(id: $id) }";
const std::string_view kDeploymentCancel = "mutation DeploymentCancel($id: String!) { deploymentCancel(id: $id) }";

const std::string_view kMe = "query Me { me { id email } }";
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
    }
    const std::pair<const char*, std::string_view> fixed[] = {
        {"LatestDeployment", kLatestDeployment},
        {"DeploymentEvents", kDeploymentEvents},
        {"DeploymentLogs", kDeploymentLogs},
        {"BuildLogs", kBuildLogs},
        {"ServiceInstance", kServiceInstance},
        {"DeploymentRedeploy", kDeploymentRedeploy},
        {"DeploymentRestart", kDeploymentRestart},
        {"DeploymentCancel", kDeploymentCancel},
        {"Me", kMe},
        {"ProjectToken", kProjectToken},
        {"PlatformStatus", kPlatformStatus},
        {"WorkspaceUsage", kWorkspaceUsage},
    };
    for (const auto& [name, text] : fixed)
        all.push_back({name, std::string(text)});
    return all;
}

}  // namespace railwatch::railway::documents
