#include "app/engine_history.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

namespace railwatch::app {
namespace {

using core::Seconds;
using core::Timestamp;

// 2026-01-01T00:00:00Z (the FakeClock's start) plus `s` seconds.
Timestamp T(long long s) {
    return util::FakeClock::DefaultStart() + Seconds(s);
}

/// Records each RecordEngineMinutes call; fails the next calls when told to.
class FakeMinutes final : public store::EngineMinutes {
  public:
    struct Call {
        std::string worker_id;
        std::vector<core::EngineMinute> minutes;
        Timestamp rotate_before;
    };

    util::Result<void> RecordEngineMinutes(const std::string& worker_id, const std::vector<core::EngineMinute>& minutes,
                                           Timestamp rotate_before) override {
        std::lock_guard lock(mutex_);
        if (failures_ > 0) {
            --failures_;
            return util::Fail(util::ErrorCode::kUnavailable, "the database is down");
        }
        calls_.push_back({worker_id, minutes, rotate_before});
        changed_.notify_all();
        return util::Ok();
    }

    std::vector<Call> Calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    void FailNext(int n) {
        std::lock_guard lock(mutex_);
        failures_ = n;
    }
    /// Waits (real time, generous) until `n` calls were recorded.
    bool AwaitCalls(std::size_t n) const {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return calls_.size() >= n; });
    }

  private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<Call> calls_;
    int failures_ = 0;
};

void Send(railway::RequestBudget& budget, int n) {
    for (int i = 0; i < n; ++i)
        ASSERT_TRUE(budget.TryAcquire().granted);
}

TEST(EngineHistory, CountsChecksAndRequestsPerMinuteAndWritesThemOnFlush) {
    util::FakeClock clock(T(10));
    railway::RequestBudget budget(clock, {1000, 10});
    FakeMinutes store;
    EngineHistory history(clock, store, &budget, "w1", nullptr);
    Send(budget, 3);
    history.OnChecks(5);
    clock.Advance(Seconds(60));
    Send(budget, 1);
    budget.Observe(200, {{"X-RateLimit-Limit", "1000"}, {"X-RateLimit-Remaining", "700"}});
    history.OnChecks(2);
    ASSERT_TRUE(history.Flush());

    const auto calls = store.Calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].worker_id, "w1");
    EXPECT_EQ(calls[0].rotate_before, T(70) - Seconds(8LL * 24 * 3600) - Seconds(10));
    const auto& m = calls[0].minutes;
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].minute, T(0));
    EXPECT_EQ(m[0].checks, 5);
    EXPECT_EQ(m[0].api_requests, 3);
    EXPECT_EQ(m[0].budget_remaining, 997);  // the token bucket: no header seen yet
    EXPECT_EQ(m[0].budget_seen_at, T(10));
    EXPECT_EQ(m[1].minute, T(60));
    EXPECT_EQ(m[1].checks, 2);
    EXPECT_EQ(m[1].api_requests, 1);
    EXPECT_EQ(m[1].budget_remaining, 700);  // X-RateLimit-Remaining

    // What was written is not written again.
    ASSERT_TRUE(history.Flush());
    EXPECT_TRUE(store.Calls().at(1).minutes.empty());
}

TEST(EngineHistory, CountsOfAFailedWriteAreKeptForTheNextOne) {
    util::FakeClock clock(T(0));
    FakeMinutes store;
    EngineHistory history(clock, store, nullptr, "w1", nullptr);
    history.OnChecks(4);
    store.FailNext(1);
    EXPECT_FALSE(history.Flush());
    history.OnChecks(1);
    ASSERT_TRUE(history.Flush());
    const auto calls = store.Calls();
    ASSERT_EQ(calls.size(), 1u);
    ASSERT_EQ(calls[0].minutes.size(), 1u);
    EXPECT_EQ(calls[0].minutes[0].checks, 5);
    EXPECT_EQ(calls[0].minutes[0].api_requests, 0);
    EXPECT_FALSE(calls[0].minutes[0].budget_remaining);
}

TEST(EngineHistory, WritesOncePerPeriodAndTheRestAtStop) {
    util::FakeClock clock(T(0), util::FakeClock::WaitMode::kBlock);
    FakeMinutes store;
    EngineHistory history(clock, store, nullptr, "w1", nullptr);
    history.Start();
    ASSERT_TRUE(clock.AwaitWaiters(1));
    history.OnChecks(3);
    EXPECT_TRUE(store.Calls().empty());  // nothing before the period ends
    clock.Advance(Seconds(60));
    ASSERT_TRUE(store.AwaitCalls(1));
    history.OnChecks(4);
    history.Stop();
    const auto calls = store.Calls();
    ASSERT_EQ(calls.size(), 2u);
    ASSERT_EQ(calls[0].minutes.size(), 1u);
    EXPECT_EQ(calls[0].minutes[0].checks, 3);
    ASSERT_EQ(calls[1].minutes.size(), 1u);
    EXPECT_EQ(calls[1].minutes[0].minute, T(60));
    EXPECT_EQ(calls[1].minutes[0].checks, 4);
    history.Stop();  // idempotent: no third write
    EXPECT_EQ(store.Calls().size(), 2u);
}

TEST(EngineHistory, BudgetIsNullBeforeTheFirstRequestThenShowsTheLastHour) {
    util::FakeClock clock(T(0));
    railway::RequestBudget budget(clock, {1000, 10});
    FakeMinutes store;
    EngineHistory history(clock, store, &budget, "w1", nullptr);
    EXPECT_FALSE(history.Budget());
    EXPECT_FALSE(EngineHistory(clock, store, nullptr, "w2", nullptr).Budget());

    clock.Advance(Seconds(120));
    Send(budget, 10);
    const auto b = history.Budget();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->limit_per_hour, 1000);
    EXPECT_EQ(b->remaining, 990);
    EXPECT_EQ(b->used_last_hour, 10);
    EXPECT_DOUBLE_EQ(b->requests_per_minute, 5.0);  // 10 in the 2 minutes since the start
    EXPECT_FALSE(b->reset_at);
    EXPECT_FALSE(b->exhausts_at);  // below the refill rate

    // An hour later those requests are out of the last hour.
    clock.Advance(Seconds(3600));
    const auto later = history.Budget();
    ASSERT_TRUE(later);
    EXPECT_EQ(later->used_last_hour, 0);
    EXPECT_DOUBLE_EQ(later->requests_per_minute, 0.0);
}

TEST(EngineHistory, ChecksPerMinuteAreOverTheLastFiveMinutesOrSinceTheStart) {
    util::FakeClock clock(T(0));
    FakeMinutes store;
    EngineHistory history(clock, store, nullptr, "w1", nullptr);
    EXPECT_DOUBLE_EQ(history.ChecksPerMinute(), 0.0);
    clock.Advance(Seconds(30));
    history.OnChecks(50);
    clock.Advance(Seconds(90));
    history.OnChecks(250);
    EXPECT_DOUBLE_EQ(history.ChecksPerMinute(), 150.0);  // 300 in the 2 minutes since the start

    // Ten minutes later the window holds minutes 8..12 (4 whole ones and the current one).
    clock.Advance(Seconds(600));
    history.OnChecks(90);
    EXPECT_DOUBLE_EQ(history.ChecksPerMinute(), 90.0 / 4.0);  // 4 minutes since the window's start
    clock.Advance(Seconds(1800));
    EXPECT_DOUBLE_EQ(history.ChecksPerMinute(), 0.0);
}

}  // namespace
}  // namespace railwatch::app
