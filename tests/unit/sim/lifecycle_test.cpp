#include "sim/lifecycle.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "util/clock.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using core::DeploymentStatus;
using namespace std::chrono_literals;

const core::Timestamp kStart = util::FakeClock::DefaultStart();

std::string JoinMessages(const std::vector<LogLine>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l.message + "\n";
    return out;
}

TEST(Lifecycle, EveryKindEndsInItsDocumentedStatus) {
    const Durations d;
    for (Kind kind : kAllKinds) {
        const auto timeline = PlanTimeline(kind, DefaultReason(kind), kStart, d, 60.0, 7);
        ASSERT_FALSE(timeline.empty());
        EXPECT_EQ(timeline.back().status, EndStatus(kind)) << ToString(kind);
        EXPECT_EQ(StatusAt(timeline, kStart + 24h), EndStatus(kind)) << ToString(kind);
        for (std::size_t i = 1; i < timeline.size(); ++i)
            EXPECT_LT(timeline[i - 1].at, timeline[i].at) << ToString(kind);
    }
}

std::vector<DeploymentStatus> Statuses(const std::vector<TimelineEntry>& timeline) {
    std::vector<DeploymentStatus> statuses;
    statuses.reserve(timeline.size());
    for (const auto& e : timeline)
        statuses.push_back(e.status);
    return statuses;
}

TEST(Lifecycle, SuccessStartsInitializingGoesThroughEveryPhaseAndTakesFiveMinutesScaledBySixty) {
    Durations never_queued;
    never_queued.queued_fraction = 0;
    const auto timeline = PlanTimeline(Kind::kSuccess, Reason::kNone, kStart, never_queued, 60.0, 1);
    EXPECT_EQ(Statuses(timeline),
              (std::vector<DeploymentStatus>{DeploymentStatus::kInitializing, DeploymentStatus::kBuilding,
                                             DeploymentStatus::kDeploying, DeploymentStatus::kSuccess}));
    EXPECT_EQ(timeline.front().at, kStart);
    const auto total = timeline.back().at - kStart;
    EXPECT_GT(total, 4s);  // 295 s / 60 ≈ 4.9 s, ± 20 % jitter
    EXPECT_LT(total, 6s);
}

TEST(Lifecycle, EveryKindStartsInitializingAndSomeWaitInTheQueueBeforeBuilding) {
    for (Kind kind : kAllKinds) {
        EXPECT_EQ(PlanTimeline(kind, DefaultReason(kind), kStart, Durations{}, 60.0, 3).front().status,
                  DeploymentStatus::kInitializing)
            << ToString(kind);
    }
    Durations always_queued;
    always_queued.queued_fraction = 1;
    EXPECT_EQ(Statuses(PlanTimeline(Kind::kBuildFailed, Reason::kOom, kStart, always_queued, 60.0, 1)),
              (std::vector<DeploymentStatus>{DeploymentStatus::kInitializing, DeploymentStatus::kQueued,
                                             DeploymentStatus::kBuilding, DeploymentStatus::kFailed}));
    EXPECT_EQ(Statuses(PlanTimeline(Kind::kWaitingSkipped, Reason::kNone, kStart, always_queued, 60.0, 1)),
              (std::vector<DeploymentStatus>{DeploymentStatus::kInitializing, DeploymentStatus::kWaiting,
                                             DeploymentStatus::kSkipped}));
    EXPECT_EQ(Statuses(PlanTimeline(Kind::kNeedsApproval, Reason::kNone, kStart, always_queued, 60.0, 1)),
              (std::vector<DeploymentStatus>{DeploymentStatus::kInitializing, DeploymentStatus::kNeedsApproval}));
    // With the default share, some of many deployments are queued and most are not.
    int queued = 0;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto t = PlanTimeline(Kind::kSuccess, Reason::kNone, kStart, Durations{}, 60.0, seed);
        queued += t[1].status == DeploymentStatus::kQueued ? 1 : 0;
    }
    EXPECT_GT(queued, 20);
    EXPECT_LT(queued, 100);
}

TEST(Lifecycle, IsDeterministicInTheSeed) {
    const auto a = PlanTimeline(Kind::kCrashLoop, Reason::kOom, kStart, Durations{}, 10.0, 42);
    const auto b = PlanTimeline(Kind::kCrashLoop, Reason::kOom, kStart, Durations{}, 10.0, 42);
    const auto c = PlanTimeline(Kind::kCrashLoop, Reason::kOom, kStart, Durations{}, 10.0, 43);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        EXPECT_EQ(a[i].at, b[i].at);
    EXPECT_NE(a.back().at, c.back().at);
    // Crash loop: restarts + 1 crashes, ends CRASHED.
    EXPECT_EQ(std::count_if(a.begin(), a.end(), [](const auto& e) { return e.status == DeploymentStatus::kCrashed; }),
              Durations{}.crash_loop_restarts + 1);
}

TEST(Lifecycle, FailureReasonsLeaveRealisticLogLines) {
    struct Case {
        Kind kind;
        Reason reason;
        bool build;
        std::string expected;
    };
    const Case cases[] = {
        {Kind::kBuildFailed, Reason::kNpmElifecycle, true, "npm ERR! code ELIFECYCLE"},
        {Kind::kBuildFailed, Reason::kOom, true, "JavaScript heap out of memory"},
        {Kind::kDeployFailed, Reason::kHealthcheck, true, "Healthcheck failed!"},
        {Kind::kDeployFailed, Reason::kMissingEnv, false, "Missing required environment variable: DATABASE_URL"},
        {Kind::kCrashAfterSuccess, Reason::kOom, false, "FATAL ERROR: Reached heap limit"},
        {Kind::kCrashAfterSuccess, Reason::kEtimedout, false, "Error: connect ETIMEDOUT"},
        {Kind::kCrashLoop, Reason::kMissingEnv, false, "Missing required environment variable"},
        {Kind::kDeployFailed, Reason::kPythonSettings, false, "1 validation error for Settings"},
        {Kind::kBuildFailed, Reason::kPythonSettings, true, "manage.py collectstatic"},
    };
    for (const auto& c : cases) {
        LifecycleFacts facts{"d1f0c3a2-0000-4000-8000-000000000001",
                             "api",
                             c.kind,
                             c.reason,
                             99,
                             PlanTimeline(c.kind, c.reason, kStart, Durations{}, 60.0, 99)};
        const auto lines = c.build ? BuildLogLines(facts, kStart + 1h) : DeployLogLines(facts, kStart + 1h);
        EXPECT_NE(JoinMessages(lines).find(c.expected), std::string::npos)
            << ToString(c.kind) << "/" << ToString(c.reason) << ":\n"
            << JoinMessages(lines);
        for (std::size_t i = 1; i < lines.size(); ++i)
            EXPECT_LT(lines[i - 1].timestamp, lines[i].timestamp);
    }
}

TEST(Lifecycle, LogsAndEventsOnlyShowWhatHappenedByNow) {
    LifecycleFacts facts{"abcdef01-0000-4000-8000-000000000001",
                         "api",
                         Kind::kSuccess,
                         Reason::kNone,
                         5,
                         PlanTimeline(Kind::kSuccess, Reason::kNone, kStart, Durations{}, 1.0, 5)};
    const auto& t = facts.timeline;
    const auto building = static_cast<std::size_t>(
        std::find_if(t.begin(), t.end(),
                     [](const TimelineEntry& e) { return e.status == DeploymentStatus::kBuilding; }) -
        t.begin());
    ASSERT_LT(building + 1, t.size());
    EXPECT_TRUE(BuildLogLines(facts, t[building].at - 1ns).empty());
    const auto mid_build = t[building].at + (t[building + 1].at - t[building].at) / 2;
    const auto some = BuildLogLines(facts, mid_build);
    const auto all = BuildLogLines(facts, t.back().at + 1h);
    EXPECT_FALSE(some.empty());
    EXPECT_LT(some.size(), all.size());
    EXPECT_NE(JoinMessages(all).find("[1/1] Healthcheck succeeded!"), std::string::npos);
    // Nanosecond timestamps, as Railway's.
    const std::string ts = util::FormatRfc3339(all.front().timestamp, util::TimePrecision::kNanos);
    EXPECT_EQ(ts.size(), std::string("2026-01-01T00:00:00.000000000Z").size());

    const auto events_mid = EventSteps(facts, mid_build);
    ASSERT_EQ(events_mid.size(), 2u);
    EXPECT_EQ(events_mid[0].step, "SNAPSHOT_CODE");
    EXPECT_TRUE(events_mid[0].completed_at.has_value());
    EXPECT_EQ(events_mid[1].step, "BUILD_IMAGE");
    EXPECT_FALSE(events_mid[1].completed_at.has_value());
    const auto events_done = EventSteps(facts, t.back().at + 1h);
    std::vector<std::string> steps;
    steps.reserve(events_done.size());
    for (const auto& e : events_done)
        steps.push_back(e.step);
    EXPECT_EQ(steps, (std::vector<std::string>{"SNAPSHOT_CODE", "BUILD_IMAGE", "PUBLISH_IMAGE", "CREATE_CONTAINER",
                                               "HEALTHCHECK", "DRAIN_INSTANCES"}));
    EXPECT_TRUE(events_done[1].duration_ms.has_value());
}

TEST(Lifecycle, FailedHealthcheckEventCarriesTheError) {
    LifecycleFacts facts{"abcdef01-0000-4000-8000-000000000002",
                         "api",
                         Kind::kDeployFailed,
                         Reason::kHealthcheck,
                         5,
                         PlanTimeline(Kind::kDeployFailed, Reason::kHealthcheck, kStart, Durations{}, 1.0, 5)};
    const auto events = EventSteps(facts, facts.timeline.back().at + 1s);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().step, "HEALTHCHECK");
    EXPECT_EQ(events.back().error.value_or(""), "1/1 replicas never became healthy!");
}

TEST(Lifecycle, ParsesKindAndReasonNames) {
    for (Kind k : kAllKinds)
        EXPECT_EQ(ParseKind(ToString(k)), k);
    for (Reason r : kAllReasons)
        EXPECT_EQ(ParseReason(ToString(r)), r);
    EXPECT_FALSE(ParseKind("exploded"));
    EXPECT_FALSE(ParseReason(""));
}

}  // namespace
}  // namespace railwatch::sim
