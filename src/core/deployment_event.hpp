#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

/// Railway's `DeploymentEventStep` (the real steps of a deployment, from `deploymentEvents`) and
/// one step as railwatch sees it: when it started, when it completed, and its error if any.
/// Used by progress (step-aware percent and ETA) and classification (which step failed).
/// Pure data, no I/O.
namespace railwatch::core {

/// The 10 values of Railway's `DeploymentEventStep`, in the order a deployment goes through them.
enum class DeploymentEventStep {
    kSnapshotCode,
    kWaitForDependencies,
    kBuildImage,
    kPublishImage,
    kPreDeployCommand,
    kMigrateVolumes,
    kCreateContainer,
    kConfigureNetwork,
    kHealthcheck,
    kDrainInstances,
};

/// Every step in lifecycle order.
inline constexpr std::array<DeploymentEventStep, 10> kAllDeploymentEventSteps = {
    DeploymentEventStep::kSnapshotCode,     DeploymentEventStep::kWaitForDependencies,
    DeploymentEventStep::kBuildImage,       DeploymentEventStep::kPublishImage,
    DeploymentEventStep::kPreDeployCommand, DeploymentEventStep::kMigrateVolumes,
    DeploymentEventStep::kCreateContainer,  DeploymentEventStep::kConfigureNetwork,
    DeploymentEventStep::kHealthcheck,      DeploymentEventStep::kDrainInstances,
};

/// Railway's spelling ("BUILD_IMAGE", ...).
std::string_view ToString(DeploymentEventStep step);
/// Parses Railway's spelling (case-sensitive, like the schema); nullopt for anything else.
std::optional<DeploymentEventStep> ParseDeploymentEventStep(std::string_view text);
/// A short label for people: "building image", "healthcheck", ...
std::string_view Label(DeploymentEventStep step);
/// Position in kAllDeploymentEventSteps (0..9).
int StepIndex(DeploymentEventStep step);

/// One `DeploymentEvent` reduced to what decisions need.
struct DeploymentStep {
    DeploymentEventStep step = DeploymentEventStep::kSnapshotCode;
    Timestamp created_at{};                 ///< when the step started
    std::optional<Timestamp> completed_at;  ///< when it finished (successfully or not)
    std::string error;                      ///< payload.error (or payload.reason), empty if none

    friend bool operator==(const DeploymentStep&, const DeploymentStep&) = default;
};

}  // namespace railwatch::core
