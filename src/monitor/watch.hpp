#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/classify.hpp"
#include "core/time.hpp"
#include "railway/railway_api.hpp"
#include "util/clock.hpp"

/// `railwatch watch`: follow one deployment until it succeeds, fails, stalls or times out, using
/// nothing but the RailwayApi. The loop lives here (tested with FakeRailwayApi and FakeClock); the
/// CLI only renders. Behaviour and exit codes: docs/WATCH.md.
namespace railwatch::monitor {

/// Exit codes of `railwatch watch` (README.md, docs/WATCH.md).
inline constexpr int kWatchExitSucceeded = 0;
inline constexpr int kWatchExitFailed = 1;
inline constexpr int kWatchExitTimedOut = 2;  ///< timeout or stall, as `kubectl rollout status`
inline constexpr int kWatchExitApiError = 3;
inline constexpr int kWatchExitInterrupted = 130;  ///< 128 + SIGINT: what a shell reports for Ctrl-C

struct WatchOptions {
    std::string deployment_id;
    core::Duration timeout = std::chrono::minutes(30);  ///< for the whole watch
    core::Duration stall = std::chrono::minutes(10);    ///< no status change (or no answer) for this long
    core::Duration interval = core::Seconds(5);         ///< between status checks
    std::size_t log_lines_on_failure = 20;
};

/// One observation, passed to the sink after every status check that got an answer.
struct WatchUpdate {
    railway::Deployment deployment;
    bool changed = false;  ///< the status differs from the previous check (always true the first time)
    int progress = 0;
    std::string phase;  ///< core::StatusLabel of the status
    core::Duration elapsed{0};
    core::Timestamp at;
};

enum class WatchResult { kSucceeded, kFailed, kTimedOut, kStalled, kApiError, kInterrupted };

/// "succeeded", "failed", "timed_out", "stalled", "api_error", "interrupted" (the JSON spelling).
std::string_view ToString(WatchResult result);
/// The exit code of a result: 0, 1, 2 (timed out or stalled), 3, 130.
int ExitCodeOf(WatchResult result);

/// How a watch ended.
struct WatchOutcome {
    WatchResult result = WatchResult::kApiError;
    int exit_code = kWatchExitApiError;  ///< ExitCodeOf(result)
    std::string message;                 ///< one sentence for a person: what happened and what to do
    std::optional<railway::Deployment> last;
    std::optional<railway::ApiError> error;     ///< the API error that ended it (kApiError)
    std::vector<railway::LogLine> logs;         ///< the last build or deploy log lines, on failure
    std::string logs_kind;                      ///< "build" or "deploy"
    std::optional<core::Classification> cause;  ///< the core's reading of those logs, on failure
    std::string next_step;                      ///< with `cause`: what to do about it (core::FailureNextStep)
    /// How long the watch took. A timeout or a stall is reported at its deadline (the moment the
    /// watch gave up), even when the clock was read later.
    core::Duration elapsed{0};
};

/// Called on the thread that runs the watch. `on_update` after each answered status check;
/// `on_warning` for trouble the watch rides out (a transient API error, logs it could not read).
struct WatchSink {
    std::function<void(const WatchUpdate&)> on_update;
    std::function<void(std::string_view warning)> on_warning;
};

/// Follows one deployment: polls it every `interval` until a final state. The verdict on a status
/// is core's (core::OutcomeOf): SUCCESS and SLEEPING succeed; FAILED, CRASHED, REMOVED and SKIPPED
/// fail at once, with the last log lines of the stage that failed and the core's classification of
/// them; anything else (REMOVING, unknown values included) keeps waiting.
///
/// Limits, judged in this order whenever the clock reaches one:
/// - `timeout` since the start → kTimedOut (exit 2);
/// - no answer at all for `stall` (transient API errors are tolerated until then) → kApiError (3);
/// - no status change for `stall` → kStalled (exit 2).
/// Token, unknown-id or document errors end the watch at once (kApiError, exit 3).
///
/// A limit is kept even while an API call hangs: each call runs on a helper thread and the watch
/// waits on the clock with the next limit as its deadline. When a limit (or a stop) comes first,
/// the watch calls `api.Stop()` (so the call ends soon, with kCancelled) and returns at once; the
/// destructor then waits for that call to end. Because of that Stop(), give a watch an API object
/// of its own.
///
/// Stopping `wakeup` (e.g. on Ctrl-C) ends the watch promptly with kInterrupted (exit 130), during
/// a wait or a call. The watch also Notify()s `wakeup` itself when a call ends; a Notify() from
/// elsewhere makes the next check come at once.
///
/// Thread-safety: Run() is called once, from one thread; `wakeup` may be stopped from any thread.
/// `api`, `clock` and `wakeup` must outlive this object. Run() rethrows on its own thread an
/// exception that escaped an API call (the RailwayApi contract says none does).
class DeploymentWatch {
  public:
    DeploymentWatch(railway::RailwayApi& api, const util::Clock& clock, util::Wakeup& wakeup);
    /// Waits for an API call the watch gave up on to end (the API was stopped, so it ends soon).
    ~DeploymentWatch();
    DeploymentWatch(const DeploymentWatch&) = delete;
    DeploymentWatch& operator=(const DeploymentWatch&) = delete;

    /// Runs the watch to its end (see the class comment); called exactly once.
    WatchOutcome Run(const WatchOptions& options, const WatchSink& sink);

  private:
    enum class CallEnd { kAnswered, kDeadline, kStopped };

    // Runs `call` on the helper thread and waits for its answer until `deadline`; on kDeadline and
    // kStopped the API has been stopped and `answer` is left empty.
    template <typename T>
    CallEnd Await(std::function<T()> call, util::SteadyTime deadline, std::optional<T>& answer);

    railway::RailwayApi& api_;
    const util::Clock& clock_;
    util::Wakeup& wakeup_;
    std::thread call_thread_;  // the latest call; joined before the next one and on destruction
};

}  // namespace railwatch::monitor
