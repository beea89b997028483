#include "monitor/watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "core/deployment_status.hpp"
#include "core/progress.hpp"
#include "monitor/duration.hpp"

namespace railwatch::monitor {
namespace {

using railway::ApiError;
using railway::ApiResult;
using railway::Deployment;
using util::SteadyTime;

// The moments the limits are measured from.
struct Marks {
    SteadyTime start;
    SteadyTime last_answered;  // the last status check that returned the deployment (start before one)
    SteadyTime last_change;    // when the status last changed; meaningful once `seen`
    bool seen = false;         // a status has been seen
};

enum class Limit { kNone, kTimeout, kSilence, kStall };

SteadyTime DeadlineOf(Limit limit, const Marks& marks, const WatchOptions& options) {
    switch (limit) {
        case Limit::kTimeout:
            return marks.start + options.timeout;
        case Limit::kSilence:
            return marks.last_answered + options.stall;
        case Limit::kStall:
            return marks.seen ? marks.last_change + options.stall : SteadyTime::max();
        case Limit::kNone:
            break;
    }
    return SteadyTime::max();
}

// The limit reached at `now`: the one whose deadline came first (several can have passed when the
// clock jumped, e.g. a FakeClock); on a tie, timeout before silence before stall.
Limit Reached(const Marks& marks, const WatchOptions& options, SteadyTime now) {
    Limit reached = Limit::kNone;
    SteadyTime earliest = SteadyTime::max();
    for (Limit limit : {Limit::kTimeout, Limit::kSilence, Limit::kStall}) {
        const SteadyTime deadline = DeadlineOf(limit, marks, options);
        if (deadline <= now && deadline < earliest) {
            reached = limit;
            earliest = deadline;
        }
    }
    return reached;
}

SteadyTime NextLimit(const Marks& marks, const WatchOptions& options) {
    return std::min({DeadlineOf(Limit::kTimeout, marks, options), DeadlineOf(Limit::kSilence, marks, options),
                     DeadlineOf(Limit::kStall, marks, options)});
}

// Durations outside what ParseDuration accepts would make deadlines overflow; callers other than
// the CLI get the same bounds.
WatchOptions Bounded(WatchOptions options) {
    const core::Duration shortest = core::Millis(1);
    options.timeout = std::clamp(options.timeout, shortest, kMaxDuration);
    options.stall = std::clamp(options.stall, shortest, kMaxDuration);
    options.interval = std::clamp(options.interval, shortest, kMaxDuration);
    return options;
}

bool IsTransient(const ApiError& error) {
    return error.retryable || error.code == util::ErrorCode::kTimeout;
}

std::string LabelOf(const std::optional<Deployment>& d) {
    return d ? core::StatusLabel(d->status, d->deployment_stopped) : std::string("not known yet");
}

}  // namespace

std::string_view ToString(WatchResult result) {
    switch (result) {
        case WatchResult::kSucceeded:
            return "succeeded";
        case WatchResult::kFailed:
            return "failed";
        case WatchResult::kTimedOut:
            return "timed_out";
        case WatchResult::kStalled:
            return "stalled";
        case WatchResult::kApiError:
            return "api_error";
        case WatchResult::kInterrupted:
            return "interrupted";
    }
    return "api_error";
}

int ExitCodeOf(WatchResult result) {
    switch (result) {
        case WatchResult::kSucceeded:
            return kWatchExitSucceeded;
        case WatchResult::kFailed:
            return kWatchExitFailed;
        case WatchResult::kTimedOut:
        case WatchResult::kStalled:
            return kWatchExitTimedOut;
        case WatchResult::kApiError:
            return kWatchExitApiError;
        case WatchResult::kInterrupted:
            return kWatchExitInterrupted;
    }
    return kWatchExitApiError;
}

DeploymentWatch::DeploymentWatch(railway::RailwayApi& api, const util::Clock& clock, util::Wakeup& wakeup)
    : api_(api), clock_(clock), wakeup_(wakeup) {}

DeploymentWatch::~DeploymentWatch() {
    if (call_thread_.joinable()) call_thread_.join();
}

template <typename T>
DeploymentWatch::CallEnd DeploymentWatch::Await(std::function<T()> call, SteadyTime deadline,
                                                std::optional<T>& answer) {
    struct Pending {
        std::mutex mutex;
        bool done = false;  // guarded by mutex, as are value and error
        std::optional<T> value;
        std::exception_ptr error;
    };
    if (wakeup_.Stopped()) return CallEnd::kStopped;
    // Every earlier call was answered before this one is made (a watch that gave up makes no more
    // calls), so this join returns at once.
    if (call_thread_.joinable()) call_thread_.join();
    auto pending = std::make_shared<Pending>();
    call_thread_ = std::thread([pending, call = std::move(call), &wakeup = wakeup_] {
        std::optional<T> value;
        std::exception_ptr error;
        try {
            value.emplace(call());
        } catch (...) {
            // Handed to the watch's thread: an exception must not end the process from here.
            error = std::current_exception();
        }
        {
            std::lock_guard lock(pending->mutex);
            pending->value = std::move(value);
            pending->error = std::move(error);  // no reference stays on this thread
            pending->done = true;
        }
        wakeup.Notify();
    });

    for (;;) {
        const util::WakeReason reason = clock_.WaitUntil(deadline, wakeup_);
        bool done = false;
        {
            std::lock_guard lock(pending->mutex);
            done = pending->done;
        }
        if (reason == util::WakeReason::kStopped) {
            if (!done) api_.Stop();
            return CallEnd::kStopped;
        }
        // An answer that came after the deadline is not used: with a real clock the watch would
        // have given up before it arrived.
        if (clock_.Steady() >= deadline) {
            if (!done) api_.Stop();
            return CallEnd::kDeadline;
        }
        if (done) {
            std::exception_ptr error;
            {
                std::lock_guard lock(pending->mutex);
                // Taken out, so the exception's last reference goes on this thread: libstdc++
                // counts exception references inside the library, where ThreadSanitizer does not
                // see the ordering, and reported a free on the call's thread as a race.
                error = std::exchange(pending->error, nullptr);
                if (!error) answer = std::move(pending->value);
            }
            if (error) std::rethrow_exception(error);
            return CallEnd::kAnswered;
        }
        // Notified by someone else while the call runs: keep waiting for it.
    }
}

WatchOutcome DeploymentWatch::Run(const WatchOptions& given, const WatchSink& sink) {
    const WatchOptions options = Bounded(given);
    const std::string& id = options.deployment_id;
    Marks marks;
    marks.start = marks.last_answered = marks.last_change = clock_.Steady();
    std::optional<Deployment> last;
    std::optional<ApiError> last_error;  // the latest transient error, for the message if it persists
    std::optional<double> last_percent;
    bool reached_deploy = false;

    const auto warn = [&](std::string_view text) {
        if (sink.on_warning) sink.on_warning(text);
    };
    const auto finish = [&](WatchResult result, std::string message, core::Duration elapsed) {
        WatchOutcome out;
        out.result = result;
        out.exit_code = ExitCodeOf(result);
        out.message = std::move(message);
        out.last = last;
        out.elapsed = elapsed;
        return out;
    };
    const auto interrupted = [&] {
        const core::Duration elapsed = clock_.Steady() - marks.start;
        return finish(WatchResult::kInterrupted,
                      fmt::format("interrupted after {}: deployment {} was {} when the watch was stopped",
                                  FormatDuration(elapsed), id, LabelOf(last)),
                      elapsed);
    };
    // The outcome of a limit, reported at the limit's deadline.
    const auto give_up = [&](Limit limit, bool call_in_flight) {
        const core::Duration elapsed = DeadlineOf(limit, marks, options) - marks.start;
        const std::string in_flight = call_in_flight ? " (a status check was still waiting for Railway's answer)" : "";
        switch (limit) {
            case Limit::kTimeout:
                return finish(WatchResult::kTimedOut,
                              fmt::format("timed out after {}: deployment {} is still {}{}; raise --timeout if this "
                                          "deployment needs longer",
                                          FormatDuration(elapsed), id, LabelOf(last), in_flight),
                              elapsed);
            case Limit::kSilence: {
                WatchOutcome out =
                    finish(WatchResult::kApiError,
                           fmt::format("Railway has not answered a status check of deployment {} for {} (--stall){}; "
                                       "check Railway's status page and this machine's network",
                                       id, FormatDuration(options.stall),
                                       last_error ? "; last error: " + last_error->message : in_flight),
                           elapsed);
                out.error = last_error;
                return out;
            }
            case Limit::kStall:
            case Limit::kNone:
                break;
        }
        return finish(WatchResult::kStalled,
                      fmt::format("stalled: deployment {} has been {} for {} without a change (--stall){}; check it "
                                  "in Railway's dashboard",
                                  id, LabelOf(last), FormatDuration(options.stall), in_flight),
                      elapsed);
    };

    for (;;) {
        std::optional<ApiResult<Deployment>> answer;
        const CallEnd end = Await<ApiResult<Deployment>>([this, &id] { return api_.GetDeployment(id); },
                                                         NextLimit(marks, options), answer);
        if (end == CallEnd::kStopped) return interrupted();
        if (end == CallEnd::kDeadline) return give_up(Reached(marks, options, clock_.Steady()), true);

        const SteadyTime now = clock_.Steady();
        if (!*answer) {
            ApiError& error = answer->error();
            if (!IsTransient(error)) {
                // Token, unknown id, bad document: asking again will not help.
                WatchOutcome out = finish(WatchResult::kApiError, error.message, now - marks.start);
                out.error = std::move(error);
                return out;
            }
            warn(error.message + " (will keep trying)");
            last_error = std::move(error);
        } else {
            Deployment& d = **answer;
            marks.last_answered = now;
            const bool changed = !last || last->status.raw != d.status.raw;
            if (changed) marks.last_change = now;
            marks.seen = true;
            reached_deploy = reached_deploy || core::ReachedDeploy(d.status.value);
            const core::Outcome verdict = core::OutcomeOf(d.status.value);

            const core::Timestamp update_at = clock_.Now();
            WatchUpdate update;
            update.changed = changed;
            update.phase = core::StatusLabel(d.status, d.deployment_stopped);
            // Core's progress rules (docs/STATUSES.md), with the creep measured from when this
            // status was first seen. On failure a CI log is more useful showing how far the
            // deployment got than the table's 0, so the last percent is kept.
            core::ProgressInput progress_in;
            progress_in.deployment_id = d.id;
            progress_in.status = d.status.value;
            progress_in.status_since = update_at - (now - marks.last_change);
            if (last_percent) progress_in.previous = core::PreviousProgress{d.id, *last_percent};
            const core::Progress progress = core::ComputeProgress(progress_in, update_at);
            const double percent = verdict == core::Outcome::kFailed && last_percent ? *last_percent : progress.percent;
            last_percent = percent;
            update.progress = static_cast<int>(percent);
            update.elapsed = now - marks.start;
            update.at = update_at;
            update.deployment = d;

            WatchOutcome failed;
            if (verdict == core::Outcome::kFailed) {
                // The logs of the stage that failed first (deploy logs once it got that far), the
                // other kind when those are empty. Read before the update is shown, so that the
                // update is the last thing the sink hears of a finished watch.
                const std::array<core::LogKind, 2> kinds =
                    reached_deploy ? std::array{core::LogKind::kDeploy, core::LogKind::kBuild}
                                   : std::array{core::LogKind::kBuild, core::LogKind::kDeploy};
                for (core::LogKind kind : kinds) {
                    std::optional<ApiResult<std::vector<railway::LogLine>>> lines;
                    railway::LogCursor cursor;
                    const CallEnd logs_end = Await<ApiResult<std::vector<railway::LogLine>>>(
                        [this, kind, &d, &cursor] { return api_.GetNewLogs(kind, d.id, cursor, 500); },
                        NextLimit(marks, options), lines);
                    // The verdict is known; the logs only explain it, so a stop or a deadline
                    // here ends the reading, not the verdict.
                    if (logs_end != CallEnd::kAnswered) {
                        warn(logs_end == CallEnd::kStopped ? "did not read the logs: the watch was stopped"
                                                           : "did not read the logs: the --timeout came first");
                        break;
                    }
                    if (!*lines) {
                        warn("could not read the logs: " + lines->error().message);
                        break;
                    }
                    if ((*lines)->empty()) continue;
                    const std::vector<railway::LogLine>& all = **lines;
                    const std::size_t keep = std::min(all.size(), options.log_lines_on_failure);
                    failed.logs.assign(all.end() - static_cast<std::ptrdiff_t>(keep), all.end());
                    failed.logs_kind = std::string(core::ToString(kind));
                    core::FailureEvidence evidence;
                    evidence.status = d.status.value;
                    for (const auto& line : all)
                        evidence.log_lines.push_back(line.message);
                    failed.cause = core::ClassifyDeploymentFailure(evidence);
                    failed.next_step = core::FailureNextStep(failed.cause->error_class, failed.cause->reason,
                                                             failed.cause->evidence, evidence.log_lines);
                    break;
                }
            }

            if (sink.on_update) sink.on_update(update);
            last = d;
            const core::Duration elapsed = now - marks.start;
            if (verdict == core::Outcome::kSucceeded) {
                return finish(WatchResult::kSucceeded,
                              fmt::format("deployment {} is {} ({}) after {}", d.id, update.phase, d.status.raw,
                                          FormatDuration(elapsed)),
                              elapsed);
            }
            if (verdict == core::Outcome::kFailed) {
                WatchOutcome out = finish(WatchResult::kFailed,
                                          fmt::format("deployment {} ended {} ({}) after {}", d.id, update.phase,
                                                      d.status.raw, FormatDuration(elapsed)),
                                          elapsed);
                out.logs = std::move(failed.logs);
                out.logs_kind = std::move(failed.logs_kind);
                out.cause = std::move(failed.cause);
                out.next_step = std::move(failed.next_step);
                if (out.cause && out.cause->error_class != core::ErrorClass::kUnknown) {
                    out.message += fmt::format("; likely cause: {} ({})", out.cause->reason,
                                               core::ToString(out.cause->error_class));
                }
                return out;
            }
        }

        if (const Limit limit = Reached(marks, options, now); limit != Limit::kNone) return give_up(limit, false);
        // Until the next check, but never past the next limit.
        const SteadyTime next = std::min(now + options.interval, NextLimit(marks, options));
        if (clock_.WaitUntil(next, wakeup_) == util::WakeReason::kStopped) return interrupted();
        if (const Limit limit = Reached(marks, options, clock_.Steady()); limit != Limit::kNone) {
            return give_up(limit, false);
        }
    }
}

}  // namespace railwatch::monitor
