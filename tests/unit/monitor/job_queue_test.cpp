#include "monitor/job_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace railwatch::monitor {
namespace {

using core::Seconds;
using core::Timestamp;

Timestamp T(int s) {
    return Timestamp{} + Seconds(s);
}

Job J(JobKind kind, const std::string& instance, int not_before_s = 0) {
    return Job(kind, instance, "dep-" + instance, T(not_before_s));
}

// The instance ids of every job taken at `now`, in the order taken (none busy).
std::vector<std::string> Drain(JobQueue& q, Timestamp now) {
    std::vector<std::string> out;
    while (auto job = q.TakeDue(now, {}))
        out.push_back(job->instance_id);
    return out;
}

TEST(JobQueue, TheMostUrgentKindFirstThenTheJobQueuedFirst) {
    JobQueue q;
    q.Push(J(JobKind::kCollectLogs, "logs"));
    q.Push(J(JobKind::kDiscover, "discover"));
    q.Push(J(JobKind::kClassify, "classify-1"));
    q.Push(J(JobKind::kReadEnvironment, "env:e"));
    q.Push(J(JobKind::kRedeploy, "redeploy"));
    q.Push(J(JobKind::kClassify, "classify-2"));
    EXPECT_EQ(q.size(), 6u);
    EXPECT_EQ(Drain(q, T(0)),
              (std::vector<std::string>{"redeploy", "classify-1", "classify-2", "discover", "env:e", "logs"}));
    EXPECT_EQ(q.size(), 0u);
}

// Among due jobs of one kind the order is the queuing order, not the due time: a job queued
// for later (a backoff) does not pass one queued before it once both are due.
TEST(JobQueue, AJobWaitsForItsTimeAndKeepsItsPlaceInTheQueuingOrder) {
    JobQueue q;
    q.Push(J(JobKind::kClassify, "first", 10));
    q.Push(J(JobKind::kClassify, "second", 0));
    q.Push(J(JobKind::kRedeploy, "backoff", 30));
    EXPECT_EQ(Drain(q, T(5)), (std::vector<std::string>{"second"}));
    q.Push(J(JobKind::kClassify, "third", 0));
    EXPECT_EQ(Drain(q, T(10)), (std::vector<std::string>{"first", "third"}));
    EXPECT_FALSE(q.TakeDue(T(29), {}));
    EXPECT_EQ(Drain(q, T(30)), (std::vector<std::string>{"backoff"}));
}

TEST(JobQueue, JobsOfBusyInstancesArePassedOverAndWait) {
    JobQueue q;
    q.Push(J(JobKind::kRedeploy, "a"));
    q.Push(J(JobKind::kClassify, "a"));
    q.Push(J(JobKind::kClassify, "b"));
    const std::set<std::string> a_busy = {"a"};
    auto job = q.TakeDue(T(0), a_busy);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->instance_id, "b");
    EXPECT_FALSE(q.TakeDue(T(0), a_busy));
    EXPECT_TRUE(q.HasJobOf("a"));
    EXPECT_FALSE(q.HasJobOf("b"));
    // Once "a" is free its redeploy comes before its classification.
    job = q.TakeDue(T(0), {});
    ASSERT_TRUE(job);
    EXPECT_EQ(job->kind, JobKind::kRedeploy);
    EXPECT_TRUE(q.HasJobOf("a"));
    job = q.TakeDue(T(0), {});
    ASSERT_TRUE(job);
    EXPECT_EQ(job->kind, JobKind::kClassify);
    EXPECT_FALSE(q.HasJobOf("a"));
    EXPECT_EQ(q.size(), 0u);
}

TEST(JobQueue, NextDueIsTheEarliestTimeOfAJobOfAnInstanceNotBusy) {
    JobQueue q;
    EXPECT_FALSE(q.NextDue({}));
    q.Push(J(JobKind::kCollectLogs, "a", 50));
    q.Push(J(JobKind::kClassify, "b", 20));
    q.Push(J(JobKind::kRedeploy, "c", 40));
    EXPECT_EQ(q.NextDue({}), T(20));
    EXPECT_EQ(q.NextDue({"b"}), T(40));
    EXPECT_EQ(q.NextDue({"b", "c"}), T(50));
    EXPECT_FALSE(q.NextDue({"a", "b", "c"}));
    // Found due by a take that ran none of them (all busy): their own times, now past.
    EXPECT_FALSE(q.TakeDue(T(45), {"a", "b", "c"}));
    EXPECT_EQ(q.NextDue({"a"}), T(20));  // b's time, already past
    EXPECT_EQ(q.NextDue({"b", "c"}), T(50));
    EXPECT_EQ(q.size(), 3u);
}

// A job the budget cannot pay for goes back in its place and holds its kind: the others of the
// kind are not taken before the hold ends (they could not be paid either), other kinds are.
TEST(JobQueue, ADeferredJobHoldsItsKindAndKeepsItsPlace) {
    JobQueue q;
    q.Push(J(JobKind::kClassify, "a"));
    q.Push(J(JobKind::kClassify, "b"));
    q.Push(J(JobKind::kDiscover, "c"));
    auto job = q.TakeDue(T(0), {});
    ASSERT_TRUE(job);
    EXPECT_EQ(job->instance_id, "a");
    q.Defer(std::move(*job), T(30));
    EXPECT_EQ(q.size(), 3u);
    EXPECT_TRUE(q.HasJobOf("a"));
    // "b" waits with "a"; the discovery does not.
    EXPECT_EQ(Drain(q, T(10)), (std::vector<std::string>{"c"}));
    EXPECT_EQ(q.NextDue({}), T(30));
    EXPECT_EQ(q.NextDue({"a", "b"}), std::nullopt);
    q.Push(J(JobKind::kClassify, "d", 20));
    EXPECT_EQ(q.NextDue({}), T(30));
    EXPECT_FALSE(q.TakeDue(T(29), {}));
    // At the hold's end "a" is first again, ahead of those queued after it.
    EXPECT_EQ(Drain(q, T(30)), (std::vector<std::string>{"a", "b", "d"}));
}

// A wave of failures behind a spent budget: many jobs queued, each taken once and queued again
// for later; every take finds the due job among the waiting ones.
// A worker that answers several jobs of a kind with one request takes those due, in queuing
// order, passing over busy instances, jobs not due yet and other kinds; none while the kind is held.
TEST(JobQueue, TakeDueOfTakesUpToMaxOfOneKindInQueuingOrder) {
    JobQueue q;
    q.Push(J(JobKind::kConfirmStall, "a"));
    q.Push(J(JobKind::kClassify, "x"));
    q.Push(J(JobKind::kConfirmStall, "busy"));
    q.Push(J(JobKind::kConfirmStall, "later", 10));
    q.Push(J(JobKind::kConfirmStall, "b"));
    q.Push(J(JobKind::kConfirmStall, "c"));
    const std::set<std::string> busy = {"busy"};
    const auto ids = [](const std::vector<Job>& jobs) {
        std::vector<std::string> out;
        for (const Job& job : jobs)
            out.push_back(job.instance_id);
        return out;
    };
    std::vector<Job> taken = q.TakeDueOf(JobKind::kConfirmStall, T(0), busy, 2);
    EXPECT_EQ(ids(taken), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(q.size(), 4u);
    EXPECT_FALSE(q.HasJobOf("a"));
    q.Defer(taken[1], T(20));  // b: unpaid
    EXPECT_TRUE(q.TakeDueOf(JobKind::kConfirmStall, T(10), {}, 10).empty()) << "held until 20";
    EXPECT_EQ(ids(q.TakeDueOf(JobKind::kConfirmStall, T(20), {}, 10)),
              (std::vector<std::string>{"busy", "later", "b", "c"}));
    EXPECT_EQ(Drain(q, T(20)), (std::vector<std::string>{"x"}));
    EXPECT_EQ(q.size(), 0u);
}

TEST(JobQueue, ManyJobsQueuedAgainForLaterAreEachTakenOncePerTurn) {
    JobQueue q;
    constexpr int kJobs = 20000;
    for (int n = 0; n < kJobs; ++n)
        q.Push(J(JobKind::kClassify, "i" + std::to_string(n)));
    int taken = 0;
    while (auto job = q.TakeDue(T(0), {})) {
        EXPECT_EQ(job->instance_id, "i" + std::to_string(taken));
        job->not_before = T(60);
        q.Push(std::move(*job));
        ++taken;
    }
    EXPECT_EQ(taken, kJobs);
    EXPECT_EQ(q.size(), static_cast<std::size_t>(kJobs));
    EXPECT_EQ(q.NextDue({}), T(60));
    EXPECT_EQ(Drain(q, T(60)).size(), static_cast<std::size_t>(kJobs));
    EXPECT_FALSE(q.HasJobOf("i0"));
}

}  // namespace
}  // namespace railwatch::monitor
