#include "core/deployment_event.hpp"

namespace railwatch::core {
namespace {

struct StepName {
    DeploymentEventStep step;
    std::string_view name;
    std::string_view label;
};

constexpr std::array<StepName, 10> kStepNames = {{
    {DeploymentEventStep::kSnapshotCode, "SNAPSHOT_CODE", "snapshotting code"},
    {DeploymentEventStep::kWaitForDependencies, "WAIT_FOR_DEPENDENCIES", "waiting for dependencies"},
    {DeploymentEventStep::kBuildImage, "BUILD_IMAGE", "building image"},
    {DeploymentEventStep::kPublishImage, "PUBLISH_IMAGE", "publishing image"},
    {DeploymentEventStep::kPreDeployCommand, "PRE_DEPLOY_COMMAND", "running pre-deploy command"},
    {DeploymentEventStep::kMigrateVolumes, "MIGRATE_VOLUMES", "migrating volumes"},
    {DeploymentEventStep::kCreateContainer, "CREATE_CONTAINER", "creating container"},
    {DeploymentEventStep::kConfigureNetwork, "CONFIGURE_NETWORK", "configuring network"},
    {DeploymentEventStep::kHealthcheck, "HEALTHCHECK", "healthcheck"},
    {DeploymentEventStep::kDrainInstances, "DRAIN_INSTANCES", "draining old instances"},
}};

}  // namespace

std::string_view ToString(DeploymentEventStep step) {
    return kStepNames[static_cast<std::size_t>(StepIndex(step))].name;
}

std::string_view Label(DeploymentEventStep step) {
    return kStepNames[static_cast<std::size_t>(StepIndex(step))].label;
}

int StepIndex(DeploymentEventStep step) {
    for (std::size_t i = 0; i < kStepNames.size(); ++i) {
        if (kStepNames[i].step == step) return static_cast<int>(i);
    }
    return 0;
}

std::optional<DeploymentEventStep> ParseDeploymentEventStep(std::string_view text) {
    for (const auto& entry : kStepNames) {
        if (entry.name == text) return entry.step;
    }
    return std::nullopt;
}

}  // namespace railwatch::core
