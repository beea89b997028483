#include "util/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "util/ids.hpp"
#include "util/result.hpp"

namespace railwatch::util {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, StartsAtTheGivenTimeAndMovesOnlyWhenTold) {
    FakeClock clock;
    const auto wall = clock.Now();
    const auto steady = clock.Steady();
    EXPECT_EQ(clock.Now(), wall);
    clock.Advance(1500ms);
    EXPECT_EQ(clock.Now() - wall, 1500ms);
    EXPECT_EQ(clock.Steady() - steady, 1500ms);
}

TEST(FakeClock, SetMovesWallTimeAndNeverMovesSteadyTimeBackwards) {
    FakeClock clock;
    const auto steady = clock.Steady();
    clock.Set(clock.Now() + 10s);
    EXPECT_EQ(clock.Steady() - steady, 10s);
    clock.Set(clock.Now() - 60s);
    EXPECT_EQ(clock.Steady() - steady, 10s);
}

TEST(SystemClock, WallTimeIsAfter2025AndSteadyTimeIsMonotonic) {
    SystemClock clock;
    EXPECT_GT(clock.Now(), FakeClock::DefaultStart() - std::chrono::hours(24 * 365));
    const auto a = clock.Steady();
    const auto b = clock.Steady();
    EXPECT_LE(a, b);
}

TEST(FakeClock, AWaitInAdvanceModeMovesTimeToTheDeadlineAndIsRecorded) {
    FakeClock clock;
    Wakeup wakeup;
    const auto start = clock.Steady();
    EXPECT_EQ(clock.WaitFor(3s, wakeup), WakeReason::kDeadline);
    EXPECT_EQ(clock.Steady() - start, 3s);
    EXPECT_EQ(clock.WaitUntil(start, wakeup), WakeReason::kDeadline);  // already past: no move
    EXPECT_EQ(clock.Steady() - start, 3s);
    ASSERT_EQ(clock.Waits().size(), 2u);
    EXPECT_EQ(clock.Waits()[0], Duration(3s));
    EXPECT_EQ(clock.Waits()[1], Duration(0));
    EXPECT_EQ(clock.TotalWaited(), Duration(3s));
}

TEST(FakeClock, APendingNotificationEndsTheNextWaitOnceWithoutMovingTime) {
    FakeClock clock;
    Wakeup wakeup;
    wakeup.Notify();
    wakeup.Notify();  // several notifications before a wait count as one
    const auto start = clock.Steady();
    EXPECT_EQ(clock.WaitFor(10s, wakeup), WakeReason::kNotified);
    EXPECT_EQ(clock.Steady(), start);
    EXPECT_EQ(clock.WaitFor(10s, wakeup), WakeReason::kDeadline);
}

TEST(FakeClock, StopEndsEveryLaterWaitAndWinsOverANotification) {
    FakeClock clock;
    Wakeup wakeup;
    wakeup.Notify();
    wakeup.Stop();
    EXPECT_TRUE(wakeup.Stopped());
    EXPECT_EQ(clock.WaitFor(10s, wakeup), WakeReason::kStopped);
    EXPECT_EQ(clock.WaitFor(10s, wakeup), WakeReason::kStopped);
}

TEST(FakeClock, ABlockingWaitEndsWhenAdvancePassesItsDeadline) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    Wakeup wakeup;
    std::atomic<int> result{-1};
    std::thread waiter([&] { result = static_cast<int>(clock.WaitFor(60s, wakeup)); });
    ASSERT_TRUE(clock.AwaitWaiters(1));
    clock.Advance(59s);
    // Still waiting: the deadline is a second away.
    EXPECT_EQ(clock.Waiters(), 1u);
    EXPECT_EQ(result.load(), -1);
    clock.Advance(1s);
    waiter.join();
    EXPECT_EQ(result.load(), static_cast<int>(WakeReason::kDeadline));
    EXPECT_EQ(clock.Waiters(), 0u);
}

TEST(FakeClock, ABlockingWaitEndsWhenNotifiedFromAnotherThread) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    Wakeup wakeup;
    std::atomic<int> result{-1};
    std::thread waiter([&] { result = static_cast<int>(clock.WaitFor(1h, wakeup)); });
    ASSERT_TRUE(clock.AwaitWaiters(1));
    wakeup.Notify();
    waiter.join();
    EXPECT_EQ(result.load(), static_cast<int>(WakeReason::kNotified));
}

TEST(SystemClock, AWaitEndsAtItsDeadline) {
    SystemClock clock;
    Wakeup wakeup;
    const auto start = clock.Steady();
    EXPECT_EQ(clock.WaitFor(20ms, wakeup), WakeReason::kDeadline);
    EXPECT_GE(clock.Steady() - start, 20ms);
}

TEST(SystemClock, StopFromAnotherThreadEndsALongWait) {
    SystemClock clock;
    Wakeup wakeup;
    std::atomic<int> result{-1};
    const auto start = clock.Steady();
    std::thread waiter([&] { result = static_cast<int>(clock.WaitFor(1h, wakeup)); });
    wakeup.Stop();
    waiter.join();
    EXPECT_EQ(result.load(), static_cast<int>(WakeReason::kStopped));
    EXPECT_LT(clock.Steady() - start, 1h);
}

TEST(SystemClock, ANotificationSentBeforeTheWaitIsNotLost) {
    SystemClock clock;
    Wakeup wakeup;
    wakeup.Notify();
    EXPECT_EQ(clock.WaitFor(1h, wakeup), WakeReason::kNotified);
}

TEST(Ids, HavePrefixAndAreDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = NewId("ins");
        ASSERT_EQ(id.rfind("ins_", 0), 0u);
        ASSERT_EQ(id.size(), 24u);
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(Result, CarriesErrorCodeAndMessage) {
    Result<int> r = Fail(ErrorCode::kNotFound, "no instance ins_x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().ToString(), "not_found: no instance ins_x");
    Result<void> ok = Ok();
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace railwatch::util
