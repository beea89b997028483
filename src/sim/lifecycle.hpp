#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"

/// Deployment lifecycles of the simulator: the kinds and failure reasons of the control API,
/// the status timeline a kind goes through, and the log lines and deployment-event steps it
/// leaves behind. Everything here is a pure function of its inputs (a seed included), so the
/// same scenario gives the same deployments every time.
namespace railwatch::sim {

/// The lifecycle shapes (interface.md, "The simulator").
enum class Kind {
    kSuccess,            ///< INITIALIZING → (QUEUED) → BUILDING → DEPLOYING → SUCCESS
    kBuildFailed,        ///< … BUILDING → FAILED
    kDeployFailed,       ///< … DEPLOYING → FAILED (healthcheck timeout by default)
    kCrashAfterSuccess,  ///< … SUCCESS → CRASHED
    kCrashLoop,          ///< … SUCCESS → CRASHED → SUCCESS → … → CRASHED (restart policy exhausted)
    kStuckInitializing,  ///< INITIALIZING, forever
    kStuckDeploying,     ///< … DEPLOYING, forever
    kNeedsApproval,      ///< INITIALIZING → NEEDS_APPROVAL until deploymentApprove
    kWaitingSkipped,     ///< INITIALIZING → WAITING (for CI) → SKIPPED
    kRemoved,            ///< … SUCCESS → REMOVING → REMOVED
    kSleeping,           ///< … SUCCESS → SLEEPING (serverless)
};

/// Why a failing kind fails; decides its log lines and event errors.
enum class Reason {
    kNone,
    kMissingEnv,      ///< configuration: a required environment variable is missing
    kOom,             ///< resource: out of memory
    kHealthcheck,     ///< timeout: the healthcheck never passed
    kEtimedout,       ///< network: connect ETIMEDOUT
    kNpmElifecycle,   ///< configuration/build: `npm run build` failed
    kPythonSettings,  ///< configuration: pydantic rejected a Python service's settings (a variable missing)
};

inline constexpr Kind kAllKinds[] = {
    Kind::kSuccess,        Kind::kBuildFailed,       Kind::kDeployFailed,   Kind::kCrashAfterSuccess,
    Kind::kCrashLoop,      Kind::kStuckInitializing, Kind::kStuckDeploying, Kind::kNeedsApproval,
    Kind::kWaitingSkipped, Kind::kRemoved,           Kind::kSleeping,
};
inline constexpr Reason kAllReasons[] = {Reason::kMissingEnv, Reason::kOom,           Reason::kHealthcheck,
                                         Reason::kEtimedout,  Reason::kNpmElifecycle, Reason::kPythonSettings};

std::string_view ToString(Kind kind);
std::optional<Kind> ParseKind(std::string_view text);
std::string_view ToString(Reason reason);  ///< "" for kNone
std::optional<Reason> ParseReason(std::string_view text);

/// The reason a kind gets when none is given (kNone for kinds that do not fail).
Reason DefaultReason(Kind kind);
/// True for kinds that fail (build_failed, deploy_failed, crash_after_success, crash_loop).
bool KindFails(Kind kind);
/// The status a kind ends in when left alone (stuck kinds end where they stick).
core::DeploymentStatus EndStatus(Kind kind);

/// How long each phase takes, in Railway seconds (divided by the time scale to get real time).
/// The defaults make a successful deploy take 5 minutes.
struct Durations {
    double queued_fraction = 0.25;  ///< share of deployments that wait in QUEUED for a build slot (seeded)
    double queued_s = 5;
    double waiting_s = 30;  ///< WAITING for CI before SKIPPED
    double initializing_s = 15;
    double building_s = 200;
    double deploying_s = 80;
    double healthcheck_timeout_s = 120;  ///< deploy_failed/healthcheck: DEPLOYING lasts this long
    double crash_after_s = 90;           ///< SUCCESS → CRASHED for crash_after_success
    double crash_loop_uptime_s = 20;     ///< each SUCCESS period of a crash loop
    double restart_delay_s = 10;         ///< CRASHED → SUCCESS again in a crash loop
    int crash_loop_restarts = 3;         ///< restarts before a crash loop stays CRASHED
    double sleep_after_s = 60;           ///< SUCCESS → SLEEPING
    double remove_after_s = 60;          ///< SUCCESS → REMOVING
    double removing_s = 10;              ///< REMOVING → REMOVED
    double jitter = 0.2;                 ///< each duration varies by ± this fraction (seeded)
};

/// One planned status change.
struct TimelineEntry {
    core::DeploymentStatus status = core::DeploymentStatus::kInitializing;
    core::Timestamp at;
};

/// The planned status timeline of a new deployment: entries in time order, the first at
/// `created`. `time_scale` > 0 (60 → a 5-minute deploy takes 5 s). Deterministic in `seed`.
std::vector<TimelineEntry> PlanTimeline(Kind kind, Reason reason, core::Timestamp created, const Durations& durations,
                                        double time_scale, std::uint64_t seed);

/// The timeline continuing from NEEDS_APPROVAL once approved at `approved`: like a new successful
/// deployment (INITIALIZING … SUCCESS).
std::vector<TimelineEntry> PlanAfterApproval(core::Timestamp approved, const Durations& durations, double time_scale,
                                             std::uint64_t seed);

/// One log line. Its time has nanoseconds, as Railway's do.
struct LogLine {
    core::Timestamp timestamp;
    std::string severity;  ///< "info" or "error" (stdout / stderr)
    std::string message;
};

/// What a deployment's logs and events are generated from.
struct LifecycleFacts {
    std::string deployment_id;
    std::string service_name;
    Kind kind = Kind::kSuccess;
    Reason reason = Reason::kNone;
    std::uint64_t seed = 0;
    std::vector<TimelineEntry> timeline;  ///< the full (planned) timeline
};

/// Build log lines (build output, then healthcheck output, as Railway shows them) with
/// timestamps up to and including `now`, oldest first.
std::vector<LogLine> BuildLogLines(const LifecycleFacts& facts, core::Timestamp now);
/// Deploy (runtime) log lines with timestamps up to `now`, oldest first.
std::vector<LogLine> DeployLogLines(const LifecycleFacts& facts, core::Timestamp now);

/// One deploymentEvents step.
struct EventStep {
    std::string id;
    std::string step;  ///< DeploymentEventStep value
    core::Timestamp created_at;
    std::optional<core::Timestamp> completed_at;  ///< nullopt while running at `now`
    std::optional<int> attempt;
    std::optional<int> max_attempts;
    std::optional<long long> duration_ms;
    std::optional<std::string> error;
};

/// The steps started by `now`, oldest first.
std::vector<EventStep> EventSteps(const LifecycleFacts& facts, core::Timestamp now);

/// The status at `now` according to a timeline (the first entry's status before it starts;
/// INITIALIZING for an empty timeline).
core::DeploymentStatus StatusAt(const std::vector<TimelineEntry>& timeline, core::Timestamp now);
/// Index of the entry in force at `now` (0 before the first entry).
std::size_t EntryAt(const std::vector<TimelineEntry>& timeline, core::Timestamp now);

}  // namespace railwatch::sim
