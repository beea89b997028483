#include "monitor/kept_schedule.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace railwatch::monitor {
namespace {

using core::Timestamp;
using ::testing::ElementsAre;

Timestamp At(int seconds) {
    return Timestamp(core::Seconds(seconds));
}

// Adds `id` due at `seconds` and queues it.
Kept& Keep(KeptSchedule& schedule, const std::string& id, int seconds) {
    Kept& kept = *schedule.Add(id).first;
    kept.due = At(seconds);
    schedule.Schedule(kept);
    return kept;
}

// Takes everything due by `seconds`, earliest first.
std::vector<std::string> TakeUntil(KeptSchedule& schedule, int seconds) {
    std::vector<std::string> ids;
    while (Kept* kept = schedule.TakeEarliest(At(seconds)))
        ids.push_back(kept->id);
    return ids;
}

TEST(KeptSchedule, TakesEarliestDueFirstUpToTheBound) {
    KeptSchedule schedule;
    Keep(schedule, "c", 30);
    Keep(schedule, "a", 10);
    Keep(schedule, "b", 20);
    EXPECT_EQ(schedule.Earliest(), At(10));
    EXPECT_THAT(TakeUntil(schedule, 20), ElementsAre("a", "b"));
    EXPECT_EQ(schedule.Earliest(), At(30));
    EXPECT_EQ(schedule.size(), 3u);  // taken ones stay kept (in flight)
    EXPECT_NE(schedule.Find("a"), nullptr);
}

TEST(KeptSchedule, EqualDueTimesComeInTheOrderFirstKept) {
    KeptSchedule schedule;
    Keep(schedule, "z", 5);
    Keep(schedule, "m", 5);
    Keep(schedule, "a", 5);
    EXPECT_THAT(TakeUntil(schedule, 5), ElementsAre("z", "m", "a"));
}

TEST(KeptSchedule, ARescheduledEntryComesOnceAtItsNewTime) {
    KeptSchedule schedule;
    Kept& a = Keep(schedule, "a", 10);
    Keep(schedule, "b", 20);
    a.due = At(30);
    schedule.Schedule(a);  // its item at 10 is stale now
    EXPECT_EQ(schedule.Earliest(), At(20));
    EXPECT_THAT(TakeUntil(schedule, 100), ElementsAre("b", "a"));
    EXPECT_EQ(schedule.Earliest(), std::nullopt);
}

TEST(KeptSchedule, UnscheduledAndForgottenEntriesAreNotTaken) {
    KeptSchedule schedule;
    Kept& a = Keep(schedule, "a", 10);
    Kept& b = Keep(schedule, "b", 11);
    Keep(schedule, "c", 12);
    schedule.Unschedule(a);
    schedule.Forget(b);
    EXPECT_EQ(schedule.Find("b"), nullptr);
    EXPECT_EQ(schedule.size(), 2u);
    EXPECT_THAT(TakeUntil(schedule, 100), ElementsAre("c"));
    // A forgotten slot is reused; the old item of its earlier occupant does not come back.
    Kept& d = *schedule.Add("d").first;
    EXPECT_EQ(&d, &b);
    EXPECT_EQ(d.id, "d");
    EXPECT_FALSE(d.in_flight);
    EXPECT_EQ(schedule.Earliest(), std::nullopt);
    d.due = At(50);
    schedule.Schedule(d);
    EXPECT_THAT(TakeUntil(schedule, 100), ElementsAre("d"));
}

TEST(KeptSchedule, AddReturnsTheEntryKeptAlready) {
    KeptSchedule schedule;
    Kept& a = Keep(schedule, "a", 10);
    const auto [again, added] = schedule.Add("a");
    EXPECT_FALSE(added);
    EXPECT_EQ(again, &a);
}

TEST(KeptSchedule, LatestGivesTheLatestQueuedFirst) {
    KeptSchedule schedule;
    for (int k = 0; k < 10; ++k)
        Keep(schedule, "i" + std::to_string(k), k);
    ASSERT_NE(schedule.TakeEarliest(At(100)), nullptr);  // i0 in flight: not queued
    std::vector<std::string> ids;
    for (const Kept* kept : schedule.Latest(3))
        ids.push_back(kept->id);
    EXPECT_THAT(ids, ElementsAre("i9", "i8", "i7"));
    EXPECT_EQ(schedule.Latest(100).size(), 9u);
}

TEST(KeptSchedule, StaleItemsAreDroppedWhenTheyOutnumberLiveOnes) {
    KeptSchedule schedule;
    Kept& a = Keep(schedule, "a", 1);
    for (int k = 0; k < 1000; ++k) {
        a.due = At(k);
        schedule.Schedule(a);
    }
    EXPECT_LE(schedule.QueuedForTest(), 2u * 1 + 64 + 1);
    EXPECT_THAT(TakeUntil(schedule, 5000), ElementsAre("a"));
}

TEST(KeptSchedule, ForEachMayForgetTheEntryItIsGiven) {
    KeptSchedule schedule;
    Keep(schedule, "a", 1);
    Keep(schedule, "b", 2).in_flight = true;
    Keep(schedule, "c", 3);
    schedule.ForEach([&](Kept& kept) {
        if (!kept.in_flight) schedule.Forget(kept);
    });
    EXPECT_EQ(schedule.size(), 1u);
    EXPECT_NE(schedule.Find("b"), nullptr);
    schedule.Clear();
    EXPECT_EQ(schedule.size(), 0u);
    EXPECT_EQ(schedule.Earliest(), std::nullopt);
}

}  // namespace
}  // namespace railwatch::monitor
