#include "core/progress.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace railwatch::core {
namespace {

using std::chrono::minutes;

const Timestamp kT0 = Timestamp{} + Seconds(1'767'225'600);  // 2026-01-01T00:00:00Z

ProgressInput Input(DeploymentStatus status, std::optional<Timestamp> since = kT0) {
    ProgressInput in;
    in.deployment_id = "dep-1";
    in.status = status;
    in.status_since = since;
    return in;
}

struct TableRow {
    DeploymentStatus status;
    double percent;
    const char* phase;
};

void PrintTo(const TableRow& r, std::ostream* os) {
    *os << ToString(r.status);
}

class ProgressTable : public ::testing::TestWithParam<TableRow> {};

TEST_P(ProgressTable, EveryStatusHasItsDocumentedPercentAndPhase) {
    const TableRow& row = GetParam();
    const Progress p = ComputeProgress(Input(row.status), kT0);
    EXPECT_DOUBLE_EQ(p.percent, row.percent);
    EXPECT_EQ(p.phase, row.phase);
    EXPECT_FALSE(p.step_aware);
}

INSTANTIATE_TEST_SUITE_P(
    Progress, ProgressTable,
    ::testing::Values(
        TableRow{DeploymentStatus::kNeedsApproval, 0, "awaiting approval"},
        TableRow{DeploymentStatus::kWaiting, 2, "waiting for CI"}, TableRow{DeploymentStatus::kQueued, 5, "queued"},
        TableRow{DeploymentStatus::kInitializing, 10, "initializing"},
        TableRow{DeploymentStatus::kBuilding, 40, "building"}, TableRow{DeploymentStatus::kDeploying, 70, "deploying"},
        TableRow{DeploymentStatus::kSuccess, 100, "active"}, TableRow{DeploymentStatus::kSleeping, 100, "sleeping"},
        TableRow{DeploymentStatus::kFailed, 0, "failed"}, TableRow{DeploymentStatus::kCrashed, 0, "crashed"},
        TableRow{DeploymentStatus::kSkipped, 0, "skipped"}, TableRow{DeploymentStatus::kRemoving, 0, "removing"},
        TableRow{DeploymentStatus::kRemoved, 0, "removed"}, TableRow{DeploymentStatus::kUnknown, 0, "unknown"}),
    [](const auto& info) {
        return std::string(info.param.status == DeploymentStatus::kUnknown ? "Unknown" : ToString(info.param.status));
    });

TEST(Progress, DeployingCreepsUpToPlusThirtyOverFiveMinutesCappedAt95) {
    const ProgressInput in = Input(DeploymentStatus::kDeploying);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0).percent, 70.0);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0 + minutes(1)).percent, 76.0);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0 + Seconds(150)).percent, 85.0);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0 + minutes(5)).percent, 95.0);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0 + minutes(60)).percent, 95.0);
}

TEST(Progress, CreepIsMeasuredFromWhenDeployingBeganNotFromCreation) {
    // The instance was created 20 minutes ago (long build); DEPLOYING began just now. The seed
    // would show 95 at once; we show 70.
    const Timestamp deploying_began = kT0 + minutes(20);
    const ProgressInput in = Input(DeploymentStatus::kDeploying, deploying_began);
    EXPECT_DOUBLE_EQ(ComputeProgress(in, deploying_began).percent, 70.0);
    EXPECT_LT(ComputeProgress(in, deploying_began + Seconds(10)).percent, 72.0);
}

TEST(Progress, UnknownStartOrAStartInTheFutureMeansNoCreep) {
    EXPECT_DOUBLE_EQ(ComputeProgress(Input(DeploymentStatus::kDeploying, std::nullopt), kT0).percent, 70.0);
    EXPECT_DOUBLE_EQ(ComputeProgress(Input(DeploymentStatus::kDeploying, kT0 + minutes(3)), kT0).percent, 70.0);
}

TEST(Progress, NeverDecreasesWithinOneDeployment) {
    // A sequence of observations where the raw value would drop: DEPLOYING crept to 95, then the
    // status is seen as BUILDING again (out-of-order answer) and INITIALIZING.
    const DeploymentStatus sequence[] = {
        DeploymentStatus::kQueued,    DeploymentStatus::kInitializing, DeploymentStatus::kBuilding,
        DeploymentStatus::kDeploying, DeploymentStatus::kBuilding,     DeploymentStatus::kInitializing,
        DeploymentStatus::kWaiting,   DeploymentStatus::kRemoving,     DeploymentStatus::kUnknown,
        DeploymentStatus::kDeploying, DeploymentStatus::kSuccess,      DeploymentStatus::kRemoved};
    std::optional<PreviousProgress> previous;
    double last = -1.0;
    Timestamp now = kT0;
    for (DeploymentStatus status : sequence) {
        ProgressInput in = Input(status, kT0);
        in.previous = previous;
        now += minutes(2);
        const Progress p = ComputeProgress(in, now);
        EXPECT_GE(p.percent, last) << ToString(status);
        last = p.percent;
        previous = PreviousProgress{"dep-1", p.percent};
    }
    EXPECT_DOUBLE_EQ(last, 100.0);
}

TEST(Progress, ANewDeploymentIdStartsOver) {
    ProgressInput in = Input(DeploymentStatus::kInitializing);
    in.previous = PreviousProgress{"dep-0", 95.0};
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0).percent, 10.0);
    in.previous = PreviousProgress{"dep-1", 95.0};
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0).percent, 95.0);
}

TEST(Progress, AFailureVerdictReportsZeroAsTheSeedDoes) {
    ProgressInput in = Input(DeploymentStatus::kFailed);
    in.previous = PreviousProgress{"dep-1", 80.0};
    const Progress p = ComputeProgress(in, kT0);
    EXPECT_DOUBLE_EQ(p.percent, 0.0);
    EXPECT_EQ(p.phase, "failed");
    EXPECT_FALSE(p.eta);
}

TEST(Progress, RemovedKeepsThePreviousValue) {
    ProgressInput in = Input(DeploymentStatus::kRemoved);
    in.previous = PreviousProgress{"dep-1", 100.0};
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0).percent, 100.0);
}

TEST(Progress, InProgressNeverShows100) {
    ProgressInput in = Input(DeploymentStatus::kDeploying);
    in.steps = {{DeploymentEventStep::kHealthcheck, kT0, kT0 + Seconds(5), ""},
                {DeploymentEventStep::kDrainInstances, kT0 + Seconds(5), kT0 + Seconds(9), ""}};
    EXPECT_DOUBLE_EQ(ComputeProgress(in, kT0 + minutes(10)).percent, 99.0);
}

// ---- Step-aware progress

TEST(Progress, StepsFillTheirBands) {
    ProgressInput in = Input(DeploymentStatus::kBuilding);
    in.steps = {{DeploymentEventStep::kSnapshotCode, kT0, kT0 + Seconds(4), ""},
                {DeploymentEventStep::kBuildImage, kT0 + Seconds(5), std::nullopt, ""}};
    in.typical.steps[DeploymentEventStep::kBuildImage] = Seconds(100);
    const StepBand band = BandOf(DeploymentEventStep::kBuildImage);
    const Progress p = ComputeProgress(in, kT0 + Seconds(55));  // half of the typical build
    EXPECT_TRUE(p.step_aware);
    EXPECT_DOUBLE_EQ(p.percent, band.start + 0.5 * (band.end - band.start));
    EXPECT_EQ(p.phase, "building image");
}

TEST(Progress, ARunningStepFillsAtMostNinetyPercentOfItsBand) {
    ProgressInput in = Input(DeploymentStatus::kBuilding);
    in.steps = {{DeploymentEventStep::kBuildImage, kT0, std::nullopt, ""}};
    const StepBand band = BandOf(DeploymentEventStep::kBuildImage);
    const Progress p = ComputeProgress(in, kT0 + minutes(30));  // far beyond the expected 120 s
    EXPECT_DOUBLE_EQ(p.percent, band.start + 0.9 * (band.end - band.start));
}

TEST(Progress, BandsAreOrderedContiguousAndWithinTheBar) {
    double previous_end = 10.0;
    for (DeploymentEventStep step : kAllDeploymentEventSteps) {
        const StepBand band = BandOf(step);
        EXPECT_DOUBLE_EQ(band.start, previous_end) << ToString(step);
        EXPECT_LT(band.start, band.end);
        EXPECT_GT(band.expected, Duration::zero());
        previous_end = band.end;
    }
    EXPECT_LE(previous_end, 99.0);
    // The status table's values start bands: BUILDING 40 = BUILD_IMAGE, DEPLOYING 70 = PRE_DEPLOY.
    EXPECT_DOUBLE_EQ(BandOf(DeploymentEventStep::kBuildImage).start, 40.0);
    EXPECT_DOUBLE_EQ(BandOf(DeploymentEventStep::kPreDeployCommand).start, 70.0);
}

TEST(Progress, StepsNeverPullTheStatusValueDown) {
    ProgressInput in = Input(DeploymentStatus::kDeploying, kT0);
    in.steps = {{DeploymentEventStep::kSnapshotCode, kT0, std::nullopt, ""}};  // stale events
    const Progress p = ComputeProgress(in, kT0 + minutes(1));
    EXPECT_DOUBLE_EQ(p.percent, 76.0);
    EXPECT_FALSE(p.step_aware);
}

// ---- ETA

TEST(Progress, EtaFromTypicalStepDurations) {
    ProgressInput in = Input(DeploymentStatus::kBuilding);
    in.steps = {{DeploymentEventStep::kSnapshotCode, kT0, kT0 + Seconds(5), ""},
                {DeploymentEventStep::kBuildImage, kT0 + Seconds(5), std::nullopt, ""}};
    in.typical.steps = {{DeploymentEventStep::kSnapshotCode, Seconds(5)},
                        {DeploymentEventStep::kBuildImage, Seconds(90)},
                        {DeploymentEventStep::kPublishImage, Seconds(10)},
                        {DeploymentEventStep::kCreateContainer, Seconds(8)},
                        {DeploymentEventStep::kHealthcheck, Seconds(20)}};
    const Progress p = ComputeProgress(in, kT0 + Seconds(35));  // 30 s into the build
    ASSERT_TRUE(p.eta);
    EXPECT_EQ(*p.eta, Seconds(60 + 10 + 8 + 20));
}

TEST(Progress, EtaNeverGoesNegativeWhenAStepOverruns) {
    ProgressInput in = Input(DeploymentStatus::kDeploying);
    in.steps = {{DeploymentEventStep::kHealthcheck, kT0, std::nullopt, ""}};
    in.typical.steps = {{DeploymentEventStep::kHealthcheck, Seconds(20)}};
    const Progress p = ComputeProgress(in, kT0 + minutes(4));
    ASSERT_TRUE(p.eta);
    EXPECT_EQ(*p.eta, Duration::zero());
}

TEST(Progress, EtaFromTypicalPhaseDurationsWhenNoSteps) {
    ProgressInput in = Input(DeploymentStatus::kBuilding, kT0);
    in.typical.phases = {{DeploymentStatus::kInitializing, Seconds(10)},
                         {DeploymentStatus::kBuilding, Seconds(120)},
                         {DeploymentStatus::kDeploying, Seconds(40)}};
    const Progress p = ComputeProgress(in, kT0 + Seconds(20));
    ASSERT_TRUE(p.eta);
    EXPECT_EQ(*p.eta, Seconds(100 + 40));

    ProgressInput queued = Input(DeploymentStatus::kQueued, kT0);
    queued.typical = in.typical;
    EXPECT_EQ(ComputeProgress(queued, kT0).eta, Seconds(170));
}

TEST(Progress, NoEtaWithoutHistoryOrWhileAwaitingApproval) {
    EXPECT_FALSE(ComputeProgress(Input(DeploymentStatus::kBuilding), kT0).eta);
    ProgressInput partial = Input(DeploymentStatus::kBuilding);
    partial.typical.phases = {{DeploymentStatus::kBuilding, Seconds(60)}};  // DEPLOYING unknown
    EXPECT_FALSE(ComputeProgress(partial, kT0).eta);
    ProgressInput approval = Input(DeploymentStatus::kNeedsApproval);
    approval.typical.phases = {{DeploymentStatus::kInitializing, Seconds(10)},
                               {DeploymentStatus::kBuilding, Seconds(120)},
                               {DeploymentStatus::kDeploying, Seconds(40)}};
    EXPECT_FALSE(ComputeProgress(approval, kT0).eta);
    EXPECT_EQ(ComputeProgress(Input(DeploymentStatus::kSuccess), kT0).eta, Duration::zero());
}

}  // namespace
}  // namespace railwatch::core

namespace railwatch::core {
namespace {

using S = DeploymentStatus;

// "NAME:state" per row, and per row with substeps "NAME:state[SUB:state …]": a list to compare.
std::vector<std::string> Shape(const std::vector<StepRow>& rows) {
    std::vector<std::string> out;
    for (const StepRow& row : rows) {
        std::string text = row.name + ":" + std::string(ToString(row.state));
        if (!row.substeps.empty()) {
            text += "[";
            for (const StepRow& sub : row.substeps)
                text += sub.name + ":" + std::string(ToString(sub.state)) + (&sub == &row.substeps.back() ? "" : " ");
            text += "]";
        }
        out.push_back(text);
    }
    return out;
}

std::vector<StatusEntry> Seen(std::initializer_list<S> statuses) {
    std::vector<StatusEntry> out;
    int n = 0;
    for (const S status : statuses)
        out.push_back(StatusEntry{status, kT0 + Seconds(10 * n++)});
    return out;
}

// A building deployment: the rows seen with their times, BUILDING active with Railway's steps
// under it (in their lifecycle order), the rest to come; medians from the service's history.
TEST(DeploymentSteps, ABuildingDeploymentShowsWhatItPassedWhereItIsAndWhatIsToCome) {
    const std::vector<DeploymentStep> steps = {
        {DeploymentEventStep::kBuildImage, kT0 + Seconds(25), std::nullopt, ""},
        {DeploymentEventStep::kSnapshotCode, kT0 + Seconds(20), kT0 + Seconds(25), ""},
    };
    HistoricalDurations typical;
    typical.phases[S::kBuilding] = Seconds(72);
    typical.steps[DeploymentEventStep::kBuildImage] = Seconds(61);
    const auto rows = DeploymentSteps(Seen({S::kQueued, S::kInitializing, S::kBuilding}), steps, typical);
    EXPECT_EQ(Shape(rows), (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done",
                                                     "BUILDING:active[SNAPSHOT_CODE:done BUILD_IMAGE:active]",
                                                     "DEPLOYING:pending", "SUCCESS:pending"}));
    EXPECT_EQ(rows[0].label, "Queued");
    EXPECT_EQ(rows[0].started_at, kT0);
    EXPECT_EQ(rows[0].completed_at, kT0 + Seconds(10));
    EXPECT_EQ(rows[2].started_at, kT0 + Seconds(20));
    EXPECT_EQ(rows[2].completed_at, std::nullopt);
    EXPECT_EQ(rows[2].median, Seconds(72));
    EXPECT_EQ(rows[2].substeps[1].label, "building image");
    EXPECT_EQ(rows[2].substeps[1].median, Seconds(61));
    EXPECT_EQ(rows[3].median, std::nullopt);
}

TEST(DeploymentSteps, AFailureMarksTheRowItEndedAndSkipsTheRest) {
    const std::vector<DeploymentStep> steps = {
        {DeploymentEventStep::kBuildImage, kT0 + Seconds(25), std::nullopt, ""},  // never completed
    };
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kQueued, S::kInitializing, S::kBuilding, S::kFailed}), steps, {})),
              (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:failed[BUILD_IMAGE:failed]",
                                        "DEPLOYING:skipped", "FAILED:failed"}));
    // The healthcheck failed (its error) while deploying.
    const std::vector<DeploymentStep> healthcheck = {
        {DeploymentEventStep::kHealthcheck, kT0 + Seconds(45), kT0 + Seconds(48), "service unavailable"},
    };
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kBuilding, S::kDeploying, S::kFailed}), healthcheck, {})),
              (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:done",
                                        "DEPLOYING:failed[HEALTHCHECK:failed]", "FAILED:failed"}));
}

// Seen first while deploying (railwatch started watching late): the rows before are done, without
// times. A crash after success fails the outcome, not the deploy; repeats are passed over.
TEST(DeploymentSteps, RowsBeforeTheFirstSeenAreDoneAndACrashAfterSuccessIsItsOwnRow) {
    const auto rows = DeploymentSteps(Seen({S::kDeploying, S::kDeploying, S::kSuccess, S::kCrashed}),
                                      std::vector<DeploymentStep>{}, {});
    EXPECT_EQ(Shape(rows), (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:done",
                                                     "DEPLOYING:done", "SUCCESS:done", "CRASHED:failed"}));
    EXPECT_EQ(rows[0].started_at, std::nullopt);
    EXPECT_EQ(rows[3].completed_at, kT0 + Seconds(20));  // when SUCCESS was seen (the repeat passed over)
    EXPECT_EQ(rows[4].label, "Online");
}

// An instance added for a deployment already running (the usual way to start watching a service):
// it was built and deployed, though railwatch saw none of it. A failure seen alone says nothing of
// where it failed.
TEST(DeploymentSteps, ARunningDeploymentSeenFirstPassedEveryRowBeforeIt) {
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kSuccess}), std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:done", "DEPLOYING:done",
                                        "SUCCESS:done"}));
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kSleeping}), std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:done", "DEPLOYING:done",
                                        "SLEEPING:done"}));
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kFailed}), std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:unknown", "INITIALIZING:unknown", "BUILDING:unknown",
                                        "DEPLOYING:unknown", "FAILED:failed"}));
}

// WAITING (for CI) shows where it happened; a deployment skipped there ran nothing else.
TEST(DeploymentSteps, WaitingForCiIsARowAndASkipEndsThere) {
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kWaiting, S::kSkipped}), std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:skipped", "WAITING:failed", "INITIALIZING:skipped", "BUILDING:skipped",
                                        "DEPLOYING:skipped", "SKIPPED:failed"}));
    EXPECT_EQ(Shape(DeploymentSteps(Seen({S::kQueued}), std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:active", "INITIALIZING:pending", "BUILDING:pending",
                                        "DEPLOYING:pending", "SUCCESS:pending"}));
    EXPECT_EQ(Shape(DeploymentSteps(std::vector<StatusEntry>{}, std::vector<DeploymentStep>{}, {})),
              (std::vector<std::string>{"QUEUED:pending", "INITIALIZING:pending", "BUILDING:pending",
                                        "DEPLOYING:pending", "SUCCESS:pending"}));
}

}  // namespace
}  // namespace railwatch::core
