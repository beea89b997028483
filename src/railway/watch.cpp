#include "railway/watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/progress.hpp"

namespace railwatch::railway {
namespace {

using core::DeploymentStatus;

bool IsFinalFailure(DeploymentStatus s) {
    return s == DeploymentStatus::kFailed || s == DeploymentStatus::kCrashed || s == DeploymentStatus::kRemoved ||
           s == DeploymentStatus::kSkipped;
}

bool ReachedDeploy(DeploymentStatus s) {
    return s == DeploymentStatus::kDeploying || s == DeploymentStatus::kSuccess || s == DeploymentStatus::kCrashed ||
           s == DeploymentStatus::kSleeping;
}

}  // namespace

util::Result<core::Duration> ParseDuration(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("invalid duration \"{}\": {}; use e.g. 90s, 10m, 1h30m or 500ms", text, why));
    };
    if (text.empty()) return bad("it is empty");
    core::Duration total{0};
    std::string_view rest = text;
    while (!rest.empty()) {
        long long value = 0;
        auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
        if (ec != std::errc() || ptr == rest.data()) return bad("expected a number");
        rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
        if (value < 0) return bad("it is negative");
        if (value > 1'000'000'000LL) return bad("it is too large");
        core::Duration unit{0};
        if (rest.starts_with("ms")) {
            unit = core::Millis(1);
            rest.remove_prefix(2);
        } else if (rest.starts_with("s")) {
            unit = core::Seconds(1);
            rest.remove_prefix(1);
        } else if (rest.starts_with("m")) {
            unit = core::Seconds(60);
            rest.remove_prefix(1);
        } else if (rest.starts_with("h")) {
            unit = core::Seconds(3600);
            rest.remove_prefix(1);
        } else {
            return bad(rest.empty() ? "a unit is missing" : "unknown unit");
        }
        total += unit * value;
    }
    if (total <= core::Duration{0}) return bad("it must be longer than zero");
    return total;
}

std::string FormatDuration(core::Duration d) {
    long long s = std::max<long long>(0, core::ToSeconds(d));
    const long long h = s / 3600;
    const long long m = (s % 3600) / 60;
    s %= 60;
    if (h > 0) return fmt::format("{}h{:02}m{:02}s", h, m, s);
    if (m > 0) return fmt::format("{}m{:02}s", m, s);
    return fmt::format("{}s", s);
}

std::string PhaseLabel(const core::RailwayStatus& status, bool deployment_stopped) {
    switch (status.value) {
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
    return status.raw.empty() ? "Unknown" : status.raw;
}

WatchOutcome WatchDeployment(RailwayClient& client, const util::Clock& clock, util::Wakeup& wakeup,
                             const WatchOptions& options, const WatchSink& sink) {
    const auto start = clock.Steady();
    auto last_change = start;
    auto last_answer = start;
    std::optional<Deployment> last;
    std::optional<double> last_percent;
    bool reached_deploy = false;
    WatchOutcome out;

    for (;;) {
        auto answer = client.GetDeployment(options.deployment_id);
        const auto now = clock.Steady();
        out.elapsed = now - start;
        if (!answer) {
            ApiError& error = answer.error();
            const bool transient = error.retryable || error.code == util::ErrorCode::kTimeout;
            if (!transient || now - last_answer >= options.stall || now - start >= options.timeout) {
                out.result = WatchResult::kApiError;
                out.exit_code = 3;
                out.message = error.message;
                out.error = std::move(error);
                out.last = last;
                return out;
            }
            if (sink.on_warning) sink.on_warning(error.message + " (will keep trying)");
        } else {
            last_answer = now;
            Deployment& d = *answer;
            const bool changed = !last || last->status.raw != d.status.raw;
            if (changed) last_change = now;
            reached_deploy = reached_deploy || ReachedDeploy(d.status.value);
            const core::Timestamp update_at = clock.Now();
            WatchUpdate update;
            update.changed = changed;
            update.phase = PhaseLabel(d.status, d.deployment_stopped);
            // Core's progress rules (docs/STATUSES.md), with the creep measured from when this
            // status was first seen. On failure a CI log is more useful showing how far the
            // deployment got than the table's 0, so the last percent is kept.
            core::ProgressInput progress_in;
            progress_in.deployment_id = d.id;
            progress_in.status = d.status.value;
            progress_in.status_since = update_at - (now - last_change);
            if (last_percent) progress_in.previous = core::PreviousProgress{d.id, *last_percent};
            const core::Progress progress = core::ComputeProgress(progress_in, update_at);
            const bool failed = core::IsFailed(d.status.value) || d.status.value == DeploymentStatus::kSkipped;
            const double percent = failed && last_percent ? *last_percent : progress.percent;
            last_percent = percent;
            update.progress = static_cast<int>(percent);
            update.elapsed = now - start;
            update.at = update_at;
            update.deployment = d;
            if (sink.on_update) sink.on_update(update);
            last = d;

            if (core::IsSucceeded(d.status.value)) {
                out.result = WatchResult::kSucceeded;
                out.exit_code = 0;
                out.message = fmt::format("deployment {} is {} ({}) after {}", d.id, update.phase, d.status.raw,
                                          FormatDuration(out.elapsed));
                out.last = last;
                return out;
            }
            if (IsFinalFailure(d.status.value)) {
                out.result = WatchResult::kFailed;
                out.exit_code = 1;
                out.last = last;
                // Logs of the stage that failed: build logs unless it got as far as deploying.
                std::vector<LogKind> kinds = reached_deploy ? std::vector<LogKind>{LogKind::kDeploy, LogKind::kBuild}
                                                            : std::vector<LogKind>{LogKind::kBuild, LogKind::kDeploy};
                for (LogKind kind : kinds) {
                    LogCursor cursor;
                    auto lines = client.GetNewLogs(kind, d.id, cursor, 500);
                    if (!lines) {
                        if (sink.on_warning) sink.on_warning("could not read the logs: " + lines.error().message);
                        break;
                    }
                    if (lines->empty()) continue;
                    const std::size_t keep = std::min(lines->size(), options.log_lines_on_failure);
                    out.logs.assign(lines->end() - static_cast<long>(keep), lines->end());
                    out.logs_kind = kind == LogKind::kBuild ? "build" : "deploy";
                    core::FailureEvidence evidence;
                    evidence.status = d.status.value;
                    for (const auto& line : *lines)
                        evidence.log_lines.push_back(line.message);
                    out.cause = core::ClassifyDeploymentFailure(evidence);
                    break;
                }
                out.message = fmt::format("deployment {} ended {} ({}) after {}", d.id, update.phase, d.status.raw,
                                          FormatDuration(out.elapsed));
                if (out.cause && out.cause->error_class != core::ErrorClass::kUnknown) {
                    out.message += fmt::format("; likely cause: {} ({})", out.cause->reason,
                                               core::ToString(out.cause->error_class));
                }
                return out;
            }
        }

        if (now - start >= options.timeout) {
            out.result = WatchResult::kTimedOut;
            out.exit_code = 2;
            out.last = last;
            out.message = fmt::format(
                "timed out after {}: deployment {} is still {}; raise --timeout if this deployment needs longer",
                FormatDuration(out.elapsed), options.deployment_id,
                last ? PhaseLabel(last->status, last->deployment_stopped) : "unknown");
            return out;
        }
        if (last && now - last_change >= options.stall) {
            out.result = WatchResult::kStalled;
            out.exit_code = 2;
            out.last = last;
            out.message = fmt::format(
                "stalled: deployment {} has been {} for {} without a change (--stall {}); check it in Railway's "
                "dashboard",
                options.deployment_id, PhaseLabel(last->status, last->deployment_stopped),
                FormatDuration(now - last_change), FormatDuration(options.stall));
            return out;
        }
        // Sleep until the next check, but never past the timeout or the stall limit.
        core::Duration wait = options.interval;
        wait = std::min(wait, options.timeout - (now - start));
        if (last) wait = std::min(wait, options.stall - (now - last_change));
        clock.WaitUntil(now + std::max(wait, core::Duration(core::Millis(1))), wakeup);
    }
}

}  // namespace railwatch::railway
