#include "core/deployment_status.hpp"

namespace railwatch::core {
namespace {

struct StatusName {
    DeploymentStatus status;
    std::string_view name;
};

constexpr std::array<StatusName, 13> kStatusNames = {{
    {DeploymentStatus::kQueued, "QUEUED"},
    {DeploymentStatus::kWaiting, "WAITING"},
    {DeploymentStatus::kNeedsApproval, "NEEDS_APPROVAL"},
    {DeploymentStatus::kInitializing, "INITIALIZING"},
    {DeploymentStatus::kBuilding, "BUILDING"},
    {DeploymentStatus::kDeploying, "DEPLOYING"},
    {DeploymentStatus::kSuccess, "SUCCESS"},
    {DeploymentStatus::kFailed, "FAILED"},
    {DeploymentStatus::kCrashed, "CRASHED"},
    {DeploymentStatus::kSleeping, "SLEEPING"},
    {DeploymentStatus::kSkipped, "SKIPPED"},
    {DeploymentStatus::kRemoving, "REMOVING"},
    {DeploymentStatus::kRemoved, "REMOVED"},
}};

}  // namespace

std::string_view ToString(DeploymentStatus status) {
    for (const auto& entry : kStatusNames) {
        if (entry.status == status) return entry.name;
    }
    return "UNKNOWN";
}

std::optional<DeploymentStatus> ParseDeploymentStatus(std::string_view text) {
    for (const auto& entry : kStatusNames) {
        if (entry.name == text) return entry.status;
    }
    return std::nullopt;
}

RailwayStatus RailwayStatus::Parse(std::string_view text) {
    return RailwayStatus{ParseDeploymentStatus(text).value_or(DeploymentStatus::kUnknown), std::string(text)};
}

RailwayStatus RailwayStatus::Of(DeploymentStatus status) {
    return RailwayStatus{status, std::string(ToString(status))};
}

StatusGroup GroupOf(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kQueued:
        case DeploymentStatus::kWaiting:
        case DeploymentStatus::kNeedsApproval:
            return StatusGroup::kPending;
        case DeploymentStatus::kInitializing:
        case DeploymentStatus::kBuilding:
        case DeploymentStatus::kDeploying:
            return StatusGroup::kInProgress;
        case DeploymentStatus::kSuccess:
        case DeploymentStatus::kSleeping:
            return StatusGroup::kSucceeded;
        case DeploymentStatus::kFailed:
        case DeploymentStatus::kCrashed:
            return StatusGroup::kFailed;
        case DeploymentStatus::kSkipped:
        case DeploymentStatus::kRemoving:
        case DeploymentStatus::kRemoved:
            return StatusGroup::kInactive;
        case DeploymentStatus::kUnknown:
            return StatusGroup::kUnknown;
    }
    return StatusGroup::kUnknown;
}

std::string_view ToString(StatusGroup group) {
    switch (group) {
        case StatusGroup::kPending:
            return "pending";
        case StatusGroup::kInProgress:
            return "in_progress";
        case StatusGroup::kSucceeded:
            return "succeeded";
        case StatusGroup::kFailed:
            return "failed";
        case StatusGroup::kInactive:
            return "inactive";
        case StatusGroup::kUnknown:
            return "unknown";
    }
    return "unknown";
}

bool IsInProgress(DeploymentStatus status) {
    const StatusGroup group = GroupOf(status);
    return group == StatusGroup::kPending || group == StatusGroup::kInProgress;
}

bool IsSucceeded(DeploymentStatus status) {
    return GroupOf(status) == StatusGroup::kSucceeded;
}

bool IsFailed(DeploymentStatus status) {
    return GroupOf(status) == StatusGroup::kFailed;
}

bool IsStable(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kSuccess:
        case DeploymentStatus::kSleeping:
        case DeploymentStatus::kFailed:
        case DeploymentStatus::kCrashed:
        case DeploymentStatus::kSkipped:
        case DeploymentStatus::kRemoved:
            return true;
        default:
            return false;
    }
}

Outcome OutcomeOf(DeploymentStatus status) {
    switch (GroupOf(status)) {
        case StatusGroup::kSucceeded:
            return Outcome::kSucceeded;
        case StatusGroup::kFailed:
            return Outcome::kFailed;
        case StatusGroup::kInactive:
            // SKIPPED and REMOVED will never serve; REMOVING is on its way to REMOVED.
            return IsStable(status) ? Outcome::kFailed : Outcome::kUndecided;
        case StatusGroup::kPending:
        case StatusGroup::kInProgress:
        case StatusGroup::kUnknown:
            return Outcome::kUndecided;
    }
    return Outcome::kUndecided;
}

std::string_view ToString(Outcome outcome) {
    switch (outcome) {
        case Outcome::kUndecided:
            return "undecided";
        case Outcome::kSucceeded:
            return "succeeded";
        case Outcome::kFailed:
            return "failed";
    }
    return "undecided";
}

bool ReachedDeploy(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kDeploying:
        case DeploymentStatus::kSuccess:
        case DeploymentStatus::kCrashed:
        case DeploymentStatus::kSleeping:
            return true;
        default:
            return false;
    }
}

bool LogsMayGrow(DeploymentStatus status) {
    return status != DeploymentStatus::kFailed && GroupOf(status) != StatusGroup::kInactive;
}

bool LogShowsProgress(DeploymentStatus status) {
    return status == DeploymentStatus::kBuilding || status == DeploymentStatus::kDeploying;
}

std::string_view StatusLabel(DeploymentStatus status, bool deployment_stopped) {
    switch (status) {
        case DeploymentStatus::kQueued:
            return "Queued";
        case DeploymentStatus::kWaiting:
            return "Waiting for CI";
        case DeploymentStatus::kNeedsApproval:
            return "Awaiting approval";
        case DeploymentStatus::kInitializing:
            return "Initializing";
        case DeploymentStatus::kBuilding:
            return "Building";
        case DeploymentStatus::kDeploying:
            return "Deploying";
        case DeploymentStatus::kSuccess:
            return deployment_stopped ? "Completed" : "Online";
        case DeploymentStatus::kFailed:
            return "Failed";
        case DeploymentStatus::kCrashed:
            return "Crashed";
        case DeploymentStatus::kSleeping:
            return "Sleeping";
        case DeploymentStatus::kSkipped:
            return "Skipped";
        case DeploymentStatus::kRemoving:
            return "Removing";
        case DeploymentStatus::kRemoved:
            return "Removed";
        case DeploymentStatus::kUnknown:
            break;
    }
    return "Unknown";
}

std::string StatusLabel(const RailwayStatus& status, bool deployment_stopped) {
    if (status.value == DeploymentStatus::kUnknown && !status.raw.empty()) return status.raw;
    return std::string(StatusLabel(status.value, deployment_stopped));
}

std::string_view ToString(InstanceStatus status) {
    switch (status) {
        case InstanceStatus::kInitializing:
            return "INITIALIZING";
        case InstanceStatus::kDeploying:
            return "DEPLOYING";
        case InstanceStatus::kRunning:
            return "RUNNING";
        case InstanceStatus::kFailed:
            return "FAILED";
        case InstanceStatus::kDeleted:
            return "DELETED";
    }
    return "INITIALIZING";
}

std::optional<InstanceStatus> ParseInstanceStatus(std::string_view text) {
    for (auto status : {InstanceStatus::kInitializing, InstanceStatus::kDeploying, InstanceStatus::kRunning,
                        InstanceStatus::kFailed, InstanceStatus::kDeleted}) {
        if (ToString(status) == text) return status;
    }
    return std::nullopt;
}

std::optional<InstanceStatus> ToInstanceStatus(DeploymentStatus status) {
    switch (status) {
        case DeploymentStatus::kQueued:
        case DeploymentStatus::kWaiting:
        case DeploymentStatus::kNeedsApproval:
        case DeploymentStatus::kInitializing:
            return InstanceStatus::kInitializing;
        case DeploymentStatus::kBuilding:
        case DeploymentStatus::kDeploying:
            return InstanceStatus::kDeploying;
        case DeploymentStatus::kSuccess:
        case DeploymentStatus::kSleeping:
            return InstanceStatus::kRunning;
        case DeploymentStatus::kFailed:
        case DeploymentStatus::kCrashed:
        case DeploymentStatus::kSkipped:
            return InstanceStatus::kFailed;
        case DeploymentStatus::kRemoving:
        case DeploymentStatus::kRemoved:
            return InstanceStatus::kDeleted;
        case DeploymentStatus::kUnknown:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace railwatch::core
