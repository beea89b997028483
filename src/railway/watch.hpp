#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify.hpp"
#include "core/time.hpp"
#include "railway/client.hpp"
#include "util/result.hpp"

/// `railwatch watch`: follow one deployment until it succeeds, fails, stalls or times out, using
/// nothing but the Railway client. The loop lives here (testable with a FakeClock); the CLI file
/// only renders.
namespace railwatch::railway {

/// Parses "90s", "10m", "1h30m", "250ms" (units ms, s, m, h; several parts add up). Zero, negative,
/// unit-less or malformed text is an error (kInvalidArgument) that quotes the input.
util::Result<core::Duration> ParseDuration(std::string_view text);

/// "1h02m03s", "4m05s", "12s" (rounded down to whole seconds).
std::string FormatDuration(core::Duration d);

/// Human label of a status ("Building", "Waiting for CI", "Online"); the raw text when unknown.
std::string PhaseLabel(const core::RailwayStatus& status, bool deployment_stopped = false);

struct WatchOptions {
    std::string deployment_id;
    core::Duration timeout = core::Seconds(30 * 60);
    core::Duration stall = core::Seconds(10 * 60);
    core::Duration interval = core::Seconds(5);
    std::size_t log_lines_on_failure = 20;
};

/// One observation, passed to the sink after every status check.
struct WatchUpdate {
    Deployment deployment;
    bool changed = false;  ///< the status differs from the previous check (always true the first time)
    int progress = 0;
    std::string phase;
    core::Duration elapsed{0};
    core::Timestamp at;
};

enum class WatchResult { kSucceeded, kFailed, kTimedOut, kStalled, kApiError };

/// How a watch ended. `exit_code`: 0 succeeded, 1 failed, 2 timed out or stalled, 3 API error.
struct WatchOutcome {
    WatchResult result = WatchResult::kApiError;
    int exit_code = 3;
    std::string message;  ///< one sentence for a person: what happened and what to do
    std::optional<Deployment> last;
    std::optional<ApiError> error;
    std::vector<LogLine> logs;                  ///< the last build or deploy log lines, on failure
    std::string logs_kind;                      ///< "build" or "deploy"
    std::optional<core::Classification> cause;  ///< the core's reading of the logs, on failure
    core::Duration elapsed{0};
};

/// Called after each check; also receives transient-error notices (as text) between checks.
struct WatchSink {
    std::function<void(const WatchUpdate&)> on_update;
    std::function<void(std::string_view warning)> on_warning;
};

/// Polls the deployment every `interval` until a final state. SUCCESS and SLEEPING succeed;
/// FAILED, CRASHED, REMOVED and SKIPPED fail at once (with the last log lines); anything else
/// keeps waiting. No status change for `stall`, or `timeout` in all, ends it (exit 2). Token, id
/// or document errors end it at once (exit 3); transient API trouble is retried by the client and
/// then tolerated until the stall limit, after which it is reported (exit 3).
/// Waits between checks go through `clock` on `wakeup`; a notification cuts the current wait
/// short (the next check comes at once).
WatchOutcome WatchDeployment(RailwayClient& client, const util::Clock& clock, util::Wakeup& wakeup,
                             const WatchOptions& options, const WatchSink& sink);

}  // namespace railwatch::railway
