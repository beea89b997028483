#include "monitor/kept_schedule.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
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
    for (int k = 0; k < 5000; ++k) {
        a.due = At(k);
        schedule.Schedule(a);
    }
    EXPECT_LE(schedule.QueuedForTest(), std::size_t{2} * 1 + KeptSchedule::kCompactSlack + 1);
    EXPECT_THAT(TakeUntil(schedule, 5000), ElementsAre("a"));
}

TEST(KeptSchedule, DueTimesHoursApartAndInThePastComeInOrder) {
    // Beyond the calendar's span (kBuckets buckets), within it, within one bucket, and earlier
    // than the calendar has come: one order.
    KeptSchedule schedule;
    Keep(schedule, "hour", 3600);
    Keep(schedule, "day", 86400);
    Keep(schedule, "minute", 60);
    Keep(schedule, "now", 0);
    EXPECT_EQ(schedule.Earliest(), At(0));
    EXPECT_THAT(TakeUntil(schedule, 0), ElementsAre("now"));
    EXPECT_EQ(schedule.Earliest(), At(60));  // the calendar has moved on to the minute's bucket
    Keep(schedule, "late", -5);              // due before it: still first
    Keep(schedule, "second", 1);
    EXPECT_THAT(TakeUntil(schedule, 100000), ElementsAre("late", "second", "minute", "hour", "day"));
    EXPECT_EQ(schedule.Earliest(), std::nullopt);
}

// The schedule against a plain ordered set, through random keeps, moves, takes and forgets with
// due times from nanoseconds to hours apart.
TEST(KeptSchedule, AgreesWithAnOrderedSetThroughRandomOperations) {
    KeptSchedule schedule;
    std::mt19937_64 random(20261201);
    std::set<std::pair<Timestamp, std::string>> queued;  // the reference: (due, id)
    std::map<std::string, Timestamp> due_of;             // queued ones
    std::set<std::string> kept;                          // kept, queued or taken
    Timestamp now{};
    const auto random_due = [&] {
        switch (random() % 4) {
            case 0:
                return now + std::chrono::nanoseconds(random() % 100'000'000);  // this bucket or the next
            case 1:
                return now + std::chrono::milliseconds(random() % 60'000);
            case 2:
                return now + core::Seconds(static_cast<long long>(random() % 20'000));  // past the calendar
            default:
                return now - std::chrono::milliseconds(random() % 5'000);  // overdue
        }
    };
    const auto unqueue = [&](const std::string& id) {  // out of the reference's order
        if (const auto was = due_of.find(id); was != due_of.end()) {
            queued.erase({was->second, id});
            due_of.erase(was);
        }
    };
    for (int step = 0; step < 200'000; ++step) {
        const std::string id = "i" + std::to_string(random() % 3'000);
        switch (random() % 6) {
            case 0:
            case 1: {  // keep or move
                Kept& entry = *schedule.Add(id).first;
                unqueue(id);
                entry.due = random_due();
                schedule.Schedule(entry);
                queued.insert({entry.due, id});
                due_of[id] = entry.due;
                kept.insert(id);
                // Stale items are dropped when scheduling finds them too many.
                ASSERT_LE(schedule.QueuedForTest(), 2 * queued.size() + KeptSchedule::kCompactSlack + 1);
                break;
            }
            case 2: {  // take what is due
                now += std::chrono::milliseconds(random() % 2'000);
                for (int n = 0; n < 50; ++n) {
                    Kept* taken = schedule.TakeEarliest(now);
                    if (queued.empty() || queued.begin()->first > now) {
                        ASSERT_EQ(taken, nullptr) << "step " << step;
                        break;
                    }
                    ASSERT_NE(taken, nullptr) << "step " << step;
                    ASSERT_EQ(taken->due, queued.begin()->first) << "step " << step;
                    queued.erase({taken->due, taken->id});
                    due_of.erase(taken->id);
                }
                break;
            }
            case 3: {  // unschedule
                if (Kept* entry = schedule.Find(id)) {
                    schedule.Unschedule(*entry);
                    unqueue(id);
                }
                break;
            }
            case 4: {  // forget
                if (Kept* entry = schedule.Find(id)) {
                    schedule.Forget(*entry);
                    unqueue(id);
                    kept.erase(id);
                }
                break;
            }
            default: {
                const auto earliest = schedule.Earliest();
                if (queued.empty()) {
                    ASSERT_EQ(earliest, std::nullopt) << "step " << step;
                } else {
                    ASSERT_EQ(earliest, queued.begin()->first) << "step " << step;
                }
                if (random() % 1000 == 0) now += core::Seconds(static_cast<long long>(random() % 30'000));
                break;
            }
        }
        ASSERT_EQ(schedule.size(), kept.size());
    }
    // Everything left comes out in order.
    Timestamp last = Timestamp::min();
    std::size_t left = 0;
    while (Kept* taken = schedule.TakeEarliest(Timestamp::max())) {
        EXPECT_GE(taken->due, last);
        last = taken->due;
        ++left;
    }
    EXPECT_EQ(left, queued.size());
}

// Round after round for three turns of the calendar: the storage held stays near what is queued
// (a drained bucket's storage is reused, not kept by every bucket it passed through).
TEST(KeptSchedule, StorageStaysNearWhatIsQueuedOverTurnsOfTheCalendar) {
    KeptSchedule schedule;
    constexpr int kCount = 2000;
    for (int k = 0; k < kCount; ++k)
        Keep(schedule, "i" + std::to_string(k), k % 10);
    Timestamp now{};
    const auto turn = std::chrono::nanoseconds(std::int64_t{1} << KeptSchedule::kBucketShift) *
                      static_cast<std::int64_t>(KeptSchedule::kBuckets);
    std::size_t most = 0;
    for (std::uint64_t n = 0; now < Timestamp(3 * turn); ++n) {
        now += core::Seconds(1);
        while (Kept* kept = schedule.TakeEarliest(now)) {
            kept->Land(now + core::Seconds(10) + std::chrono::milliseconds((n * 7919) % 1000));
            schedule.Schedule(*kept);
        }
        most = std::max(most, schedule.CapacityForTest());
    }
    EXPECT_EQ(schedule.size(), static_cast<std::size_t>(kCount));
    // Buckets grow by doubling; the spares are at most a few buckets' worth here.
    EXPECT_LE(most, 4u * kCount);
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

// A row's deployment id as SetRow left it: a copy kept in the entry (Railway's 36-character ids),
// the row's own string where the id does not fit, none without a deployment; a later row's id
// replaces an earlier one's, a slot reused for another instance starts without one, and a row
// dropped takes its id along.
TEST(KeptSchedule, AnEntryGivesItsRowsDeploymentIdWhetherCopiedOrNot) {
    KeptSchedule schedule;
    Kept& kept = Keep(schedule, "a", 1);
    store::Instance row;
    row.id = "a";
    row.state.deployment_id = "0b7c6a52-3f51-4c55-9a1e-6f0e2f4d9a10";
    kept.SetRow(row);
    ASSERT_TRUE(kept.RowDeploymentId().has_value());
    EXPECT_EQ(*kept.RowDeploymentId(), *row.state.deployment_id);
    // The copy is the entry's own: not a view of the row's string.
    EXPECT_NE(kept.RowDeploymentId()->data(), kept.Row().state.deployment_id->data());

    const std::string longer(64, 'd');
    row.state.deployment_id = longer;
    kept.SetRow(row);
    ASSERT_TRUE(kept.RowDeploymentId().has_value());
    EXPECT_EQ(*kept.RowDeploymentId(), longer);
    EXPECT_EQ(kept.RowDeploymentId()->data(), kept.Row().state.deployment_id->data());

    row.state.deployment_id = "dep-2";
    kept.SetRow(row);
    EXPECT_EQ(kept.RowDeploymentId(), std::optional<std::string_view>("dep-2"));
    EXPECT_EQ(kept.RowDeploymentKey(), Kept::DeploymentKey(std::string("dep-2")));

    row.state.deployment_id.reset();
    kept.SetRow(row);
    EXPECT_EQ(kept.RowDeploymentId(), std::nullopt);
    EXPECT_EQ(kept.RowDeploymentKey(), 0u);

    row.state.deployment_id = "dep-3";
    kept.SetRow(row);
    schedule.Forget(kept);
    Kept& reused = *schedule.Add("b").first;
    ASSERT_EQ(&reused, &kept);  // the slot is reused, without the row or the id of "a"
    EXPECT_FALSE(reused.HasRow());
    EXPECT_EQ(reused.RowDeploymentId(), std::nullopt);
    store::Instance other;
    other.id = "b";
    reused.SetRow(other);
    EXPECT_EQ(reused.RowDeploymentId(), std::nullopt);

    // A row dropped (to be read again) takes its deployment's copy and key with it.
    other.state.deployment_id = "dep-4";
    reused.SetRow(other);
    ASSERT_EQ(reused.RowDeploymentId(), std::optional<std::string_view>("dep-4"));
    reused.ClearRow();
    EXPECT_FALSE(reused.HasRow());
    EXPECT_EQ(reused.RowDeploymentId(), std::nullopt);
    EXPECT_EQ(reused.RowDeploymentKey(), 0u);
}

}  // namespace
}  // namespace railwatch::monitor
