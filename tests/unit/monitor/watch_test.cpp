// The watch loop against FakeRailwayApi and a FakeClock in kBlock mode: the watch runs on a thread
// of its own and time moves only when the test moves it, so every elapsed time below is exact.
#include "monitor/watch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/deployment_status.hpp"
#include "fakes/fake_railway_api.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::monitor {
namespace {

using fakes::FakeRailwayApi;
using railway::ApiResult;
using railway::Deployment;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using util::FakeClock;

using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kId = "dep-1";

Deployment Dep(std::string_view status, bool stopped = false) {
    Deployment d;
    d.id = kId;
    d.status = core::RailwayStatus::Parse(status);
    d.deployment_stopped = stopped;
    return d;
}

std::vector<ApiResult<Deployment>> Statuses(std::initializer_list<std::string_view> statuses) {
    std::vector<ApiResult<Deployment>> out;
    for (auto s : statuses)
        out.emplace_back(Dep(s));
    return out;
}

railway::LogLine Line(int second, std::string message) {
    railway::LogLine line;
    line.timestamp = FakeClock::DefaultStart() + seconds(second);
    line.timestamp_raw = util::FormatRfc3339(line.timestamp, util::TimePrecision::kNanos);
    line.message = std::move(message);
    return line;
}

railway::ApiError Transient() {
    core::ApiFailure failure;
    failure.http_status = 503;
    return FakeRailwayApi::MakeError(util::ErrorCode::kUnavailable, "Railway answered HTTP 503", failure);
}

railway::ApiError NotAuthorized() {
    core::ApiFailure failure;
    failure.http_status = 200;
    core::GraphqlErrorFacts error;
    error.message = "Not Authorized";
    error.code = "INTERNAL_SERVER_ERROR";
    failure.graphql_errors = {error};
    return FakeRailwayApi::MakeError(util::ErrorCode::kUnauthenticated,
                                     "Railway refused the token (Not Authorized); check RAILWAY_API_TOKEN", failure);
}

class WatchLoop : public ::testing::Test {
  protected:
    WatchLoop() {
        options_.deployment_id = kId;
        options_.timeout = minutes(30);
        options_.stall = minutes(10);
        options_.interval = seconds(5);
    }

    ~WatchLoop() override {
        // A test that failed half-way must not leave a thread blocked forever.
        wakeup_.Stop();
        release_.Stop();
        Join();
    }

    // Starts the watch on a thread of its own; its sink records and counts reports (updates and
    // warnings). At its end the thread stays blocked on the clock until Join(), so that
    // AwaitWaiters() sees the end as well.
    void Start() {
        watch_.emplace(api_, clock_, wakeup_);
        WatchSink sink;
        sink.on_update = [this](const WatchUpdate& update) {
            std::lock_guard lock(mutex_);
            updates_.push_back(update);
            ++reports_;
            changed_.notify_all();
        };
        sink.on_warning = [this](std::string_view warning) {
            std::lock_guard lock(mutex_);
            warnings_.emplace_back(warning);
            ++reports_;
            changed_.notify_all();
        };
        runner_ = std::thread([this, sink] {
            WatchOutcome outcome = watch_->Run(options_, sink);
            {
                std::lock_guard lock(mutex_);
                outcome_ = std::move(outcome);
            }
            changed_.notify_all();
            clock_.WaitUntil(util::SteadyTime::max(), parked_);
        });
    }

    // Blocks until the sink heard `n` reports (or the watch ended). After a report the watch's
    // next clock wait is the one before its next check: no API call comes first.
    void AwaitReports(int n) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return outcome_ || reports_ >= n; });
    }

    // The outcome, once Run() returned (the watch object still exists).
    WatchOutcome AwaitOutcome() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return outcome_.has_value(); });
        return *outcome_;
    }

    // Ends the runner thread and destroys the watch (which waits for a call it gave up on).
    void Join() {
        parked_.Stop();
        if (runner_.joinable()) runner_.join();
        watch_.reset();
    }

    // Runs the watch to its end while this thread plays the clock: each time the watch has
    // reported a check and settled into its wait for the next one, the clock moves to the end of
    // that wait. Time moves only while the watch is blocked there, so the run is deterministic.
    WatchOutcome RunToEnd() {
        Start();
        for (int step = 0; step < 10'000; ++step) {
            AwaitReports(seen_ + 1);
            if (!clock_.AwaitWaiters(1)) {
                ADD_FAILURE() << "the watch did not wait after a report";
                break;
            }
            std::lock_guard lock(mutex_);
            seen_ = reports_;
            if (outcome_) break;
            clock_.Advance(clock_.Waits().back());
        }
        WatchOutcome outcome = AwaitOutcome();
        Join();
        return outcome;
    }

    // Moves the clock past the waits after the first `n` checks (each answered at once).
    void PassChecks(int n) {
        for (int i = 1; i <= n; ++i) {
            AwaitReports(i);
            ASSERT_TRUE(clock_.AwaitWaiters(1));
            clock_.Advance(clock_.Waits().back());
        }
    }

    core::Duration Elapsed() const { return clock_.Steady() - start_; }

    FakeClock clock_{FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock};
    const util::SteadyTime start_ = clock_.Steady();
    FakeRailwayApi api_;
    util::Wakeup wakeup_;
    util::Wakeup release_;  // for hooks that simulate a call that hangs
    WatchOptions options_;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<WatchUpdate> updates_;     // guarded by mutex_
    std::vector<std::string> warnings_;    // guarded by mutex_
    int reports_ = 0;                      // guarded by mutex_
    std::optional<WatchOutcome> outcome_;  // guarded by mutex_
    int seen_ = 0;

  private:
    util::Wakeup parked_;
    std::optional<DeploymentWatch> watch_;
    std::thread runner_;
};

TEST_F(WatchLoop, SucceedsWhenTheDeploymentReachesSuccess) {
    api_.ScriptDeployment(kId, Statuses({"QUEUED", "BUILDING", "BUILDING", "DEPLOYING", "SUCCESS"}));
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kSucceeded);
    EXPECT_EQ(out.exit_code, 0);
    EXPECT_EQ(out.elapsed, seconds(20));  // five checks, 5 s apart
    EXPECT_THAT(out.message, HasSubstr("Online (SUCCESS) after 20s"));
    ASSERT_EQ(updates_.size(), 5u);
    std::vector<std::string> phases;
    std::vector<int> progress;
    std::vector<bool> changed;
    for (const auto& u : updates_) {
        phases.push_back(u.phase);
        progress.push_back(u.progress);
        changed.push_back(u.changed);
    }
    EXPECT_THAT(phases, ElementsAre("Queued", "Building", "Building", "Deploying", "Online"));
    EXPECT_THAT(progress, ElementsAre(5, 40, 40, 70, 100));
    EXPECT_THAT(changed, ElementsAre(true, true, false, true, true));
    EXPECT_EQ(updates_.back().elapsed, seconds(20));
    EXPECT_EQ(updates_.back().at, FakeClock::DefaultStart() + seconds(20));
    EXPECT_EQ(api_.CallCount("GetDeployments"), 5);
    EXPECT_EQ(api_.CallCount("GetNewLogs"), 0);
    // Every wait between checks is the interval.
    for (auto wait : clock_.Waits()) {
        if (wait != core::Duration::zero() && wait < minutes(1)) {
            EXPECT_EQ(wait, seconds(5));
        }
    }
}

TEST_F(WatchLoop, SleepingCountsAsSuccessAndAStoppedSuccessIsCompleted) {
    api_.ScriptDeployment(kId, Statuses({"DEPLOYING", "SLEEPING"}));
    EXPECT_EQ(RunToEnd().exit_code, 0);
    EXPECT_EQ(updates_.back().phase, "Sleeping");

    FakeRailwayApi stopped_api;
    stopped_api.ScriptDeployment(kId, {Dep("SUCCESS", /*stopped=*/true)});
    util::Wakeup wakeup;
    DeploymentWatch watch(stopped_api, clock_, wakeup);
    WatchSink sink;
    std::string phase;
    sink.on_update = [&](const WatchUpdate& u) { phase = u.phase; };
    const WatchOutcome out = watch.Run(options_, sink);  // answers at once: no wait to drive
    EXPECT_EQ(out.exit_code, 0);
    EXPECT_EQ(phase, "Completed");
}

struct FailureCase {
    const char* name;
    std::vector<std::string_view> statuses;
    const char* logs_kind;         // the stage whose logs explain it
    core::ErrorClass error_class;  // the core's reading of those logs
    const char* next_step;         // the start of what to do about it
};

constexpr const char* kSetDatabaseUrl = "Set DATABASE_URL in the service's variables on Railway, then redeploy.";
constexpr const char* kRaiseMemory = "Raise the service's memory limit, or cap Node's heap below it";

class WatchFailure : public WatchLoop, public ::testing::WithParamInterface<FailureCase> {};

TEST_P(WatchFailure, FailsAtOnceWithTheLastLinesOfTheStageThatFailedAndTheirClass) {
    const FailureCase& c = GetParam();
    std::vector<ApiResult<Deployment>> script;
    for (auto s : c.statuses)
        script.emplace_back(Dep(s));
    api_.ScriptDeployment(kId, script);
    std::vector<railway::LogLine> build;
    build.reserve(31);
    for (int i = 0; i < 30; ++i)
        build.push_back(Line(i, "build step " + std::to_string(i)));
    build.push_back(Line(40, "Error: Missing environment variable DATABASE_URL"));
    api_.AddLogs(core::LogKind::kBuild, kId, build);
    api_.AddLogs(core::LogKind::kDeploy, kId,
                 {Line(50, "listening on :8080"), Line(51, "FATAL ERROR: JavaScript heap out of memory")});
    options_.log_lines_on_failure = 5;

    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kFailed);
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_EQ(out.elapsed, seconds(5) * static_cast<int>(c.statuses.size() - 1));  // no wait after the verdict
    EXPECT_EQ(api_.CallCount("GetDeployments"), static_cast<int>(c.statuses.size()));
    EXPECT_EQ(out.logs_kind, c.logs_kind);
    ASSERT_TRUE(out.cause);
    EXPECT_EQ(out.cause->error_class, c.error_class);
    EXPECT_THAT(out.message, HasSubstr(std::string("likely cause: ") + out.cause->reason));
    EXPECT_THAT(out.next_step, ::testing::StartsWith(c.next_step));
    const std::string last_status(c.statuses.back());
    EXPECT_THAT(out.message,
                HasSubstr(core::StatusLabel(core::RailwayStatus::Parse(last_status)) + " (" + last_status + ")"));
    if (std::string(c.logs_kind) == "build") {
        ASSERT_EQ(out.logs.size(), 5u);  // the last five lines only
        EXPECT_EQ(out.logs.back().message, "Error: Missing environment variable DATABASE_URL");
        EXPECT_EQ(out.logs.front().message, "build step 26");
    } else {
        ASSERT_EQ(out.logs.size(), 2u);
        EXPECT_EQ(out.logs.back().message, "FATAL ERROR: JavaScript heap out of memory");
    }
    // The update for the final status is the last thing the sink heard.
    ASSERT_FALSE(updates_.empty());
    EXPECT_EQ(updates_.back().deployment.status.raw, last_status);
    EXPECT_TRUE(warnings_.empty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryFailureStatus, WatchFailure,
    ::testing::Values(
        FailureCase{
            "FailedWhileBuilding", {"BUILDING", "FAILED"}, "build", core::ErrorClass::kConfiguration, kSetDatabaseUrl},
        FailureCase{
            "CrashedAfterDeploying", {"DEPLOYING", "CRASHED"}, "deploy", core::ErrorClass::kResource, kRaiseMemory},
        FailureCase{"FailedAfterDeploying",
                    {"BUILDING", "DEPLOYING", "FAILED"},
                    "deploy",
                    core::ErrorClass::kResource,
                    kRaiseMemory},
        FailureCase{"Removed", {"REMOVED"}, "build", core::ErrorClass::kConfiguration, kSetDatabaseUrl},
        FailureCase{"SkippedAfterWaitingForCi",
                    {"WAITING", "SKIPPED"},
                    "build",
                    core::ErrorClass::kConfiguration,
                    kSetDatabaseUrl}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(WatchLoop, FailureLogsFallBackToTheOtherKindWhenTheFirstIsEmpty) {
    api_.ScriptDeployment(kId, Statuses({"BUILDING", "FAILED"}));
    api_.AddLogs(core::LogKind::kDeploy, kId, {Line(1, "Error: Missing environment variable PORT")});
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_EQ(out.logs_kind, "deploy");
    ASSERT_EQ(out.logs.size(), 1u);
    EXPECT_THAT(api_.Calls(), ElementsAre("GetDeployments(dep-1)", "GetDeployments(dep-1)", "GetNewLogs(build,dep-1)",
                                          "GetNewLogs(deploy,dep-1)"));
}

TEST_F(WatchLoop, AFailureWhoseLogsCannotBeReadIsStillAFailure) {
    api_.ScriptDeployment(kId, Statuses({"CRASHED"}));
    api_.SetCallHook([&](const std::string& call) {
        if (call == "GetNewLogs") api_.FailEverything(Transient());
    });
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_TRUE(out.logs.empty());
    EXPECT_FALSE(out.cause);
    ASSERT_EQ(warnings_.size(), 1u);
    EXPECT_THAT(warnings_[0], HasSubstr("could not read the logs: Railway answered HTTP 503"));
}

TEST_F(WatchLoop, FailedKeepsTheLastProgressInsteadOfZero) {
    api_.ScriptDeployment(kId, Statuses({"BUILDING", "DEPLOYING", "FAILED"}));
    RunToEnd();
    ASSERT_EQ(updates_.size(), 3u);
    EXPECT_EQ(updates_[2].progress, updates_[1].progress);
    EXPECT_GE(updates_[2].progress, 70);
}

TEST_F(WatchLoop, RemovingKeepsWaitingUntilRemoved) {
    api_.ScriptDeployment(kId, Statuses({"REMOVING", "REMOVING", "REMOVING", "REMOVED"}));
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kFailed);
    EXPECT_EQ(api_.CallCount("GetDeployments"), 4);
    EXPECT_EQ(out.elapsed, seconds(15));
    EXPECT_EQ(updates_.front().phase, "Removing");
}

TEST_F(WatchLoop, AnUnknownStatusKeepsWaitingAndShowsRailwaysText) {
    api_.ScriptDeployment(kId, Statuses({"HIBERNATING", "SUCCESS"}));
    EXPECT_EQ(RunToEnd().exit_code, 0);
    EXPECT_EQ(updates_.front().phase, "HIBERNATING");
}

TEST_F(WatchLoop, StallsWhenTheStatusDoesNotChangeForTheStallLimit) {
    options_.stall = seconds(60);
    api_.ScriptDeployment(kId, Statuses({"QUEUED", "BUILDING"}));  // BUILDING from 5 s on
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kStalled);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.elapsed, seconds(65));  // BUILDING first seen at 5 s, + 60 s
    EXPECT_EQ(Elapsed(), seconds(65));
    EXPECT_THAT(out.message, HasSubstr("stalled: deployment dep-1 has been Building for 1m00s without a change"));
    EXPECT_EQ(api_.CallCount("GetDeployments"), 13);  // 0, 5, ..., 60 s
    ASSERT_TRUE(out.last);
    EXPECT_EQ(out.last->status.raw, "BUILDING");
}

TEST_F(WatchLoop, TimesOutAtTheTimeoutWhenTheStatusKeepsChanging) {
    options_.timeout = seconds(32);
    std::vector<ApiResult<Deployment>> flapping;
    flapping.reserve(100);
    for (int i = 0; i < 100; ++i)
        flapping.emplace_back(Dep(i % 2 == 0 ? "BUILDING" : "DEPLOYING"));
    api_.ScriptDeployment(kId, flapping);
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kTimedOut);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.elapsed, seconds(32));
    EXPECT_EQ(Elapsed(), seconds(32));  // the last wait was cut short at the timeout
    EXPECT_THAT(out.message, HasSubstr("timed out after 32s: deployment dep-1 is still Building"));
    EXPECT_EQ(api_.CallCount("GetDeployments"), 7);  // 0, 5, ..., 30 s
}

TEST_F(WatchLoop, TransientErrorsAreToleratedAndWarnedAbout) {
    api_.ScriptDeployment(kId, {Dep("BUILDING"), tl::unexpected(Transient()), tl::unexpected(Transient()),
                                Dep("DEPLOYING"), Dep("SUCCESS")});
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.exit_code, 0);
    ASSERT_EQ(warnings_.size(), 2u);
    EXPECT_THAT(warnings_[0], HasSubstr("Railway answered HTTP 503 (will keep trying)"));
    EXPECT_EQ(updates_.size(), 3u);
}

TEST_F(WatchLoop, TransientErrorsEndTheWatchOnceNothingWasAnsweredForTheStallLimit) {
    options_.stall = seconds(60);
    std::vector<ApiResult<Deployment>> script = {Dep("BUILDING")};
    script.emplace_back(tl::unexpected(Transient()));  // repeats from here on
    api_.ScriptDeployment(kId, script);
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kApiError);
    EXPECT_EQ(out.exit_code, 3);
    EXPECT_EQ(out.elapsed, seconds(60));  // the last answer came at 0 s
    EXPECT_THAT(out.message, HasSubstr("Railway has not answered a status check of deployment dep-1 for 1m00s"));
    EXPECT_THAT(out.message, HasSubstr("last error: Railway answered HTTP 503"));
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, util::ErrorCode::kUnavailable);
    EXPECT_EQ(warnings_.size(), 11u);  // 5, 10, ..., 55 s: the watch ends at 60 s without checking again
}

TEST_F(WatchLoop, ADeploymentRailwayDoesNotKnowEndsAtOnceWithItsMessage) {
    const WatchOutcome out = RunToEnd();  // no deployment in the fake: "not found"
    EXPECT_EQ(out.result, WatchResult::kApiError);
    EXPECT_EQ(out.exit_code, 3);
    EXPECT_THAT(out.message, HasSubstr("deployment dep-1 not found"));
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, util::ErrorCode::kNotFound);
    EXPECT_EQ(api_.CallCount("GetDeployments"), 1);
    EXPECT_EQ(out.elapsed, core::Duration::zero());
}

TEST_F(WatchLoop, AnAuthenticationErrorEndsAtOnceEvenAfterAnswers) {
    api_.ScriptDeployment(kId, {Dep("BUILDING"), tl::unexpected(NotAuthorized())});
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kApiError);
    EXPECT_EQ(out.exit_code, 3);
    EXPECT_THAT(out.message, HasSubstr("RAILWAY_API_TOKEN"));
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->error_class, core::ErrorClass::kAuthentication);
    EXPECT_EQ(api_.CallCount("GetDeployments"), 2);
    ASSERT_TRUE(out.last);
    EXPECT_EQ(out.last->status.raw, "BUILDING");
}

TEST_F(WatchLoop, StoppingTheWakeupEndsAWaitBetweenChecksAtOnce) {
    api_.ScriptDeployment(kId, Statuses({"BUILDING"}));
    Start();
    AwaitReports(1);
    ASSERT_TRUE(clock_.AwaitWaiters(1));  // waiting for the next check
    wakeup_.Stop();
    const WatchOutcome out = AwaitOutcome();
    EXPECT_EQ(out.result, WatchResult::kInterrupted);
    EXPECT_EQ(out.exit_code, 130);
    EXPECT_EQ(out.elapsed, core::Duration::zero());  // no time passed
    EXPECT_THAT(out.message, HasSubstr("interrupted after 0s: deployment dep-1 was Building"));
    EXPECT_EQ(api_.CallCount("GetDeployments"), 1);
}

TEST_F(WatchLoop, StoppingTheWakeupEndsAHangingCallAtOnceAndStopsTheApi) {
    api_.ScriptDeployment(kId, Statuses({"BUILDING"}));
    std::atomic<bool> call_returned{false};
    api_.SetCallHook([&](const std::string&) {
        clock_.WaitUntil(util::SteadyTime::max(), release_);  // a call that never answers by itself
        call_returned = true;
    });
    Start();
    ASSERT_TRUE(clock_.AwaitWaiters(2));  // the watch waits for the call; the call hangs
    wakeup_.Stop();
    const WatchOutcome out = AwaitOutcome();
    EXPECT_EQ(out.result, WatchResult::kInterrupted);
    EXPECT_THAT(out.message, HasSubstr("was not known yet"));
    EXPECT_FALSE(call_returned);  // the watch did not wait for it
    release_.Stop();
    Join();  // waits for the call
    EXPECT_TRUE(call_returned);
    api_.SetCallHook(nullptr);
    EXPECT_EQ(api_.GetDeployment(kId).error().code, util::ErrorCode::kCancelled);  // the watch stopped the API
}

TEST_F(WatchLoop, AHangingCallEndsAtTheTimeoutNotWhenItReturns) {
    options_.timeout = minutes(30);
    options_.stall = minutes(60);
    api_.ScriptDeployment(kId, Statuses({"BUILDING"}));
    std::atomic<bool> call_returned{false};
    std::atomic<int> calls{0};
    api_.SetCallHook([&](const std::string&) {
        if (++calls < 3) return;
        // The third check takes two hours (say, retries against a Railway that does not answer).
        clock_.WaitUntil(clock_.Steady() + std::chrono::hours(2), release_);
        call_returned = true;
    });
    Start();
    PassChecks(2);
    ASSERT_TRUE(clock_.AwaitWaiters(2));        // the watch waits for the third call, which hangs
    clock_.Advance(minutes(30) - seconds(10));  // exactly to the timeout
    const WatchOutcome out = AwaitOutcome();
    EXPECT_EQ(out.result, WatchResult::kTimedOut);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.elapsed, minutes(30));
    EXPECT_EQ(Elapsed(), minutes(30));  // the clock never had to move past the deadline
    EXPECT_FALSE(call_returned);        // the outcome came while the call was still running
    EXPECT_THAT(out.message, HasSubstr("timed out after 30m00s: deployment dep-1 is still Building"));
    EXPECT_THAT(out.message, HasSubstr("still waiting for Railway's answer"));
    release_.Stop();
    Join();
    EXPECT_TRUE(call_returned);
}

TEST_F(WatchLoop, ACallThatRunsPastTheTimeoutIsReportedAtTheTimeout) {
    // The hook moves the clock an hour on in one step, as a call that took an hour would.
    options_.timeout = minutes(30);
    options_.stall = minutes(90);
    api_.ScriptDeployment(kId, Statuses({"BUILDING", "SUCCESS"}));
    std::atomic<int> calls{0};
    api_.SetCallHook([&](const std::string&) {
        if (++calls == 2) clock_.Advance(std::chrono::hours(1));
    });
    const WatchOutcome out = RunToEnd();
    EXPECT_EQ(out.result, WatchResult::kTimedOut);  // the late SUCCESS came after the deadline
    EXPECT_EQ(out.elapsed, minutes(30));
    EXPECT_THAT(out.message, HasSubstr("timed out after 30m00s"));
}

TEST_F(WatchLoop, AHangingFirstCallEndsAsAnApiErrorAtTheStallLimit) {
    api_.ScriptDeployment(kId, Statuses({"BUILDING"}));
    api_.SetCallHook([&](const std::string&) { clock_.WaitUntil(util::SteadyTime::max(), release_); });
    Start();
    ASSERT_TRUE(clock_.AwaitWaiters(2));
    clock_.Advance(minutes(10));
    const WatchOutcome out = AwaitOutcome();
    EXPECT_EQ(out.result, WatchResult::kApiError);
    EXPECT_EQ(out.exit_code, 3);
    EXPECT_EQ(out.elapsed, minutes(10));
    EXPECT_THAT(out.message, HasSubstr("Railway has not answered a status check of deployment dep-1 for 10m00s"));
}

TEST_F(WatchLoop, AHangingCallAfterAnAnswerEndsAsAStallAtTheStallLimit) {
    options_.stall = minutes(1);
    api_.ScriptDeployment(kId, Statuses({"BUILDING"}));
    std::atomic<int> calls{0};
    api_.SetCallHook([&](const std::string&) {
        if (++calls == 3) clock_.WaitUntil(util::SteadyTime::max(), release_);
    });
    Start();
    PassChecks(2);
    ASSERT_TRUE(clock_.AwaitWaiters(2));
    clock_.Advance(seconds(50));  // BUILDING since 0 s: the stall limit is at 60 s
    const WatchOutcome out = AwaitOutcome();
    EXPECT_EQ(out.result, WatchResult::kStalled);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.elapsed, minutes(1));
    EXPECT_THAT(out.message, HasSubstr("still waiting for Railway's answer"));
}

TEST_F(WatchLoop, AnExceptionFromTheApiReachesTheCaller) {
    api_.SetCallHook([](const std::string&) { throw std::runtime_error("boom from the API"); });
    DeploymentWatch watch(api_, clock_, wakeup_);
    EXPECT_THROW(
        {
            try {
                watch.Run(options_, WatchSink{});
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "boom from the API");
                throw;
            }
        },
        std::runtime_error);
}

TEST(WatchResults, HaveTheDocumentedExitCodesAndNames) {
    EXPECT_EQ(ExitCodeOf(WatchResult::kSucceeded), 0);
    EXPECT_EQ(ExitCodeOf(WatchResult::kFailed), 1);
    EXPECT_EQ(ExitCodeOf(WatchResult::kTimedOut), 2);
    EXPECT_EQ(ExitCodeOf(WatchResult::kStalled), 2);
    EXPECT_EQ(ExitCodeOf(WatchResult::kApiError), 3);
    EXPECT_EQ(ExitCodeOf(WatchResult::kInterrupted), 130);
    EXPECT_EQ(ToString(WatchResult::kTimedOut), "timed_out");
    EXPECT_EQ(ToString(WatchResult::kApiError), "api_error");
    EXPECT_EQ(ToString(WatchResult::kInterrupted), "interrupted");
}

}  // namespace
}  // namespace railwatch::monitor
