#include "notify/dispatcher.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "notify/planner.hpp"
#include "notify_fakes.hpp"
#include "test_rows.hpp"

namespace railwatch::notify {
namespace {

using core::Seconds;
using std::chrono::hours;
using std::chrono::minutes;
using store::OutboxStatus;
using test::FakeOutboxStore;
using test::ScriptedChannel;

// Jitter draws of 0.5 land in the middle of the band: delays are exactly the schedule's.
RandomFactory MiddleRandom() {
    return [] { return std::unique_ptr<core::RandomSource>(new core::SequenceRandom({0.5})); };
}

DispatcherOptions Options(int concurrency = 4) {
    DispatcherOptions options;
    options.owner = "notifier-test";
    options.concurrency = concurrency;
    return options;
}

store::OutboxMessage Message(const std::string& id, const std::string& channel, core::Timestamp at) {
    store::OutboxMessage m;
    m.id = id;
    m.channel = channel;
    m.dedup_key = "key-" + id;
    m.payload = "{}";
    m.created_at = at;
    return m;
}

/// Counts listener reports and lets a test wait (real time, bounded) for a number of them.
class Reports {
  public:
    DeliveryListener Listener() {
        return [this](const DeliveryReport& report) {
            std::lock_guard lock(mutex_);
            reports_.push_back(report);
            changed_.notify_all();
        };
    }
    bool AwaitCount(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return reports_.size() >= n; });
    }
    std::vector<DeliveryReport> all() const {
        std::lock_guard lock(mutex_);
        return reports_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<DeliveryReport> reports_;
};

/// A gate a channel's deliveries wait at until the test opens it.
class Gate {
  public:
    void Wait() {
        std::unique_lock lock(mutex_);
        ++waiting_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return open_; });
        --waiting_;
    }
    bool AwaitWaiting(int n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return waiting_ >= n; });
    }
    void Open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int waiting_ = 0;
    bool open_ = false;
};

TEST(Dispatcher, MarksARowSentOnlyAfterTheChannelAccepted) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow& row) {
        // While the receiver is still answering, the row is not sent.
        EXPECT_EQ(store.Row(row.message.id).status, OutboxStatus::kPending);
        return DeliveryOutcome::Accepted("HTTP 200 (accepted)");
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, Options(), MiddleRandom());
    EXPECT_EQ(dispatcher.RunOnce(), 1);
    const store::OutboxRow row = store.Row("out_1");
    EXPECT_EQ(row.status, OutboxStatus::kSent);
    EXPECT_EQ(row.sent_at, clock.Now());
    EXPECT_EQ(row.attempts, 1);
    EXPECT_FALSE(row.lease_owner);
    EXPECT_EQ(dispatcher.Stats().delivered, 1u);
    EXPECT_EQ(dispatcher.RunOnce(), 0);  // nothing left: it is never delivered twice
    EXPECT_EQ(webhook.delivered().size(), 1u);
}

TEST(Dispatcher, RetriesOnTheStandardScheduleThenDeadLettersWithTheLastError) {
    util::FakeClock clock;
    FakeOutboxStore store;
    int calls = 0;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow&) {
        ++calls;
        return DeliveryOutcome::Retry("HTTP 500 (the receiver failed) from https://hooks.example.com");
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, Options(), MiddleRandom());
    const std::vector<core::Duration> schedule = core::StandardWebhooksSchedule();
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        ASSERT_EQ(dispatcher.RunOnce(), 1) << "attempt " << i + 1;
        const store::OutboxRow row = store.Row("out_1");
        EXPECT_EQ(row.status, OutboxStatus::kFailed);
        EXPECT_EQ(row.next_attempt_at - clock.Now(), schedule[i]) << "after attempt " << i + 1;
        EXPECT_NE(row.last_error->find(fmt::format("attempt {}/10", i + 1)), std::string::npos) << *row.last_error;
        // Not due yet: a pass just before the next attempt claims nothing.
        clock.Set(row.next_attempt_at - Seconds(1));
        EXPECT_EQ(dispatcher.RunOnce(), 0);
        clock.Set(row.next_attempt_at);
    }
    ASSERT_EQ(dispatcher.RunOnce(), 1);
    const store::OutboxRow dead = store.Row("out_1");
    EXPECT_EQ(dead.status, OutboxStatus::kDead);
    EXPECT_EQ(dead.attempts, 10);
    ASSERT_TRUE(dead.last_error);
    EXPECT_NE(dead.last_error->find("dead after attempt 10/10"), std::string::npos) << *dead.last_error;
    EXPECT_NE(dead.last_error->find("HTTP 500"), std::string::npos);
    EXPECT_EQ(calls, 10);
    clock.Advance(hours(48));
    EXPECT_EQ(dispatcher.RunOnce(), 0);
    EXPECT_EQ(dispatcher.Stats().dead, 1u);
    EXPECT_EQ(dispatcher.Stats().retried, 9u);
}

TEST(Dispatcher, AConfiguredScheduleAndAttemptLimitApply) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Retry("no"); });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    DispatcherOptions options = Options();
    options.retry.delays = {Seconds(1), Seconds(2)};
    options.retry.max_attempts = 3;
    options.retry.jitter = 0;
    Dispatcher dispatcher(store, {&webhook}, clock, options, MiddleRandom());
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_1").next_attempt_at - clock.Now(), Seconds(1));
    clock.Advance(Seconds(1));
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_1").next_attempt_at - clock.Now(), Seconds(2));
    clock.Advance(Seconds(2));
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kDead);
}

TEST(Dispatcher, APermanentFailureDeadLettersAtOnce) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel email("email", [](const store::OutboxRow&) {
        return DeliveryOutcome::Permanent("SMTP 550 (the server refused this message for good)");
    });
    store.Enqueue({Message("out_1", "email", clock.Now())});
    Dispatcher dispatcher(store, {&email}, clock, Options(), MiddleRandom());
    dispatcher.RunOnce();
    const store::OutboxRow row = store.Row("out_1");
    EXPECT_EQ(row.status, OutboxStatus::kDead);
    EXPECT_NE(row.last_error->find("permanent failure"), std::string::npos);
    EXPECT_NE(row.last_error->find("SMTP 550"), std::string::npos);
}

TEST(Dispatcher, TheReceiversRetryAfterIsHonoured) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) {
        return DeliveryOutcome::Retry("HTTP 429 (the receiver is rate limiting us)", minutes(10));
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, Options(), MiddleRandom());
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_1").next_attempt_at - clock.Now(), minutes(10));  // not the schedule's 5 s
}

TEST(Dispatcher, ALostLeaseIsCountedNotTreatedAsAnError) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow& row) {
        store.StealLease(row.message.id, "another-process");
        return DeliveryOutcome::Accepted("HTTP 200");
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Reports reports;
    Dispatcher dispatcher(store, {&webhook}, clock, Options(), MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.RunOnce();
    const DispatcherStats stats = dispatcher.Stats();
    EXPECT_EQ(stats.lost_leases, 1u);
    EXPECT_EQ(stats.store_errors, 0u);
    EXPECT_EQ(stats.delivered, 0u);
    EXPECT_EQ(store.Row("out_1").lease_owner, "another-process");
    ASSERT_EQ(reports.all().size(), 1u);
    EXPECT_TRUE(reports.all()[0].lease_lost);
}

TEST(Dispatcher, AFlakyStoreIsRetriedWhenMarkingAndCountedWhenItStaysDown) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Accepted("ok"); });
    store.Enqueue({Message("out_1", "webhook", clock.Now()), Message("out_2", "webhook", clock.Now())});
    DispatcherOptions options = Options(1);
    Dispatcher dispatcher(store, {&webhook}, clock, options, MiddleRandom());
    store.FailMarks(2, util::ErrorCode::kUnavailable);
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
    EXPECT_EQ(dispatcher.Stats().store_errors, 0u);

    store.FailMarks(10, util::ErrorCode::kUnavailable);
    dispatcher.RunOnce();
    EXPECT_EQ(store.Row("out_2").status, OutboxStatus::kPending);  // leased: comes back after the lease
    EXPECT_EQ(dispatcher.Stats().store_errors, 1u);
    EXPECT_NE(dispatcher.Stats().last_store_error.find("injected"), std::string::npos);
}

TEST(Dispatcher, AFailedClaimIsCounted) {
    util::FakeClock clock;
    FakeOutboxStore store;
    store.FailClaims(1);
    Dispatcher dispatcher(store, {}, clock, Options(), MiddleRandom());
    EXPECT_EQ(dispatcher.RunOnce(), 0);
    EXPECT_EQ(dispatcher.Stats().store_errors, 1u);
}

TEST(Dispatcher, ARowForAChannelThatIsNotConfiguredWaitsWithAClearMessage) {
    util::FakeClock clock;
    FakeOutboxStore store;
    store.Enqueue({Message("out_1", "email", clock.Now())});
    Dispatcher dispatcher(store, {}, clock, Options(), MiddleRandom());
    dispatcher.RunOnce();
    const store::OutboxRow row = store.Row("out_1");
    EXPECT_EQ(row.status, OutboxStatus::kFailed);
    EXPECT_NE(row.last_error->find("no \"email\" channel is configured"), std::string::npos) << *row.last_error;
}

TEST(Dispatcher, TheLeaseOutlivesTheSlowestChannel) {
    util::FakeClock clock;
    FakeOutboxStore store;
    ScriptedChannel slow("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Accepted("ok"); });
    Dispatcher dispatcher(store, {&slow}, clock, Options(), MiddleRandom());
    EXPECT_EQ(dispatcher.lease(), 4 * Seconds(15) + Seconds(60));
    DispatcherOptions fixed = Options();
    fixed.lease = Seconds(20);
    EXPECT_EQ(Dispatcher(store, {&slow}, clock, fixed, MiddleRandom()).lease(), Seconds(20));
}

TEST(Dispatcher, AnEventPlannedTwiceIsDeliveredOncePerChannelAndRecipient) {
    util::FakeClock clock;
    FakeOutboxStore store;
    store.AddUser("usr_1");
    NotifyConfig config;
    config.email.smtp_url = "smtp://127.0.0.1:2525";
    config.webhook.url = "http://127.0.0.1:9/hook";
    config.admin_emails = {"ops@example.com"};
    const OutboxPlanner planner(config);
    const core::NotifyEvent event = test::SampleEvent();
    // The monitor records the same transition twice (a replay): the store keeps one row per key.
    EXPECT_EQ(store.Enqueue(planner.Plan(event, clock.Now()).messages), 3);
    EXPECT_EQ(store.Enqueue(planner.Plan(event, clock.Now()).messages), 0);
    std::map<std::string, int> per_key;
    ScriptedChannel email("email", [&](const store::OutboxRow& r) {
        ++per_key[r.message.dedup_key];
        return DeliveryOutcome::Accepted("ok");
    });
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow& r) {
        ++per_key[r.message.dedup_key];
        return DeliveryOutcome::Accepted("ok");
    });
    ScriptedChannel in_app("in_app", [&](const store::OutboxRow& r) {
        ++per_key[r.message.dedup_key];
        return DeliveryOutcome::Accepted("ok");
    });
    Dispatcher dispatcher(store, {&email, &webhook, &in_app}, clock, Options(), MiddleRandom());
    while (dispatcher.RunOnce() > 0) {
    }
    EXPECT_EQ(per_key.size(), 3u);
    for (const auto& [key, count] : per_key)
        EXPECT_EQ(count, 1) << key;
}

TEST(Dispatcher, RunningThreadsDeliverEverythingAndStopCleanly) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Accepted("ok"); });
    std::vector<store::OutboxMessage> messages;
    messages.reserve(50);
    for (int i = 0; i < 50; ++i)
        messages.push_back(Message(fmt::format("out_{:02}", i), "webhook", clock.Now()));
    store.Enqueue(messages);
    Reports reports;
    Dispatcher dispatcher(store, {&webhook}, clock, Options(4), MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.Start();
    dispatcher.Notify();
    ASSERT_TRUE(reports.AwaitCount(50));
    dispatcher.Stop();
    EXPECT_EQ(store.CountStatus(OutboxStatus::kSent), 50);
    EXPECT_EQ(webhook.delivered().size(), 50u);
    EXPECT_LE(webhook.max_active(), 4);
    dispatcher.Stop();  // idempotent
}

TEST(Dispatcher, NotifyWakesTheClaimerBeforeThePollInterval) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Accepted("ok"); });
    Reports reports;
    DispatcherOptions options = Options(2);
    options.poll_interval = hours(1);
    Dispatcher dispatcher(store, {&webhook}, clock, options, MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.Start();
    ASSERT_TRUE(clock.AwaitWaiters(1));  // the claimer found nothing and waits
    const core::Timestamp before = clock.Now();
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    dispatcher.Notify();
    ASSERT_TRUE(reports.AwaitCount(1));
    EXPECT_EQ(clock.Now(), before);  // no time passed: the notification, not the deadline, woke it
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
    dispatcher.Stop();
}

TEST(Dispatcher, AScheduledRetryWakesTheClaimerWhenItFallsDue) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    int calls = 0;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow&) {
        return ++calls == 1 ? DeliveryOutcome::Retry("HTTP 503") : DeliveryOutcome::Accepted("HTTP 200");
    });
    Reports reports;
    DispatcherOptions options = Options(1);
    options.poll_interval = hours(1);
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, options, MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.Start();  // no Notify(): the first claim finds the row, and nothing else wakes the claimer
    ASSERT_TRUE(reports.AwaitCount(1));
    ASSERT_TRUE(clock.AwaitWaiters(1));
    clock.Advance(Seconds(5));  // the schedule's first retry delay; far less than the poll interval
    ASSERT_TRUE(reports.AwaitCount(2));
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
    dispatcher.Stop();
}

TEST(Dispatcher, ARowAnotherProcessScheduledWakesTheClaimerWhenItFallsDue) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    ScriptedChannel webhook("webhook", [](const store::OutboxRow&) { return DeliveryOutcome::Accepted("ok"); });
    Reports reports;
    DispatcherOptions options = Options(1);
    options.poll_interval = hours(1);
    // Written by someone else (e.g. a replay through the API of another process): no Notify().
    store::OutboxMessage later = Message("out_1", "webhook", clock.Now());
    later.next_attempt_at = clock.Now() + Seconds(30);
    store.Enqueue({later});
    Dispatcher dispatcher(store, {&webhook}, clock, options, MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.Start();
    ASSERT_TRUE(clock.AwaitWaiters(1));
    const core::Timestamp before = clock.Now();
    clock.Advance(Seconds(30));  // far less than the poll interval
    ASSERT_TRUE(reports.AwaitCount(1));
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
    EXPECT_LT(clock.Now() - before, hours(1));
    dispatcher.Stop();
}

TEST(Dispatcher, OutcomesOfOnePassAreRecordedInOneStoreCall) {
    util::FakeClock clock;
    FakeOutboxStore store;
    int calls = 0;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow&) {
        ++calls;
        if (calls == 2) return DeliveryOutcome::Retry("HTTP 503");
        if (calls == 3) return DeliveryOutcome::Permanent("HTTP 410 Gone");
        return DeliveryOutcome::Accepted("HTTP 200");
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now()), Message("out_2", "webhook", clock.Now()),
                   Message("out_3", "webhook", clock.Now()), Message("out_4", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, Options(4), MiddleRandom());
    EXPECT_EQ(dispatcher.RunOnce(), 4);
    EXPECT_EQ(store.completes(), 1);
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
    EXPECT_EQ(store.Row("out_2").status, OutboxStatus::kFailed);
    EXPECT_EQ(store.Row("out_2").next_attempt_at, clock.Now() + Seconds(5));
    EXPECT_EQ(store.Row("out_3").status, OutboxStatus::kDead);
    EXPECT_EQ(store.Row("out_4").status, OutboxStatus::kSent);
    const auto stats = dispatcher.Stats();
    EXPECT_EQ(stats.delivered, 2u);
    EXPECT_EQ(stats.retried, 1u);
    EXPECT_EQ(stats.dead, 1u);
}

TEST(Dispatcher, NeverRunsMoreDeliveriesAtOnceThanItsConcurrency) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    Gate gate;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow&) {
        gate.Wait();
        return DeliveryOutcome::Accepted("ok");
    });
    std::vector<store::OutboxMessage> messages;
    messages.reserve(10);
    for (int i = 0; i < 10; ++i)
        messages.push_back(Message(fmt::format("out_{}", i), "webhook", clock.Now()));
    store.Enqueue(messages);
    Reports reports;
    Dispatcher dispatcher(store, {&webhook}, clock, Options(3), MiddleRandom());
    dispatcher.SetListener(reports.Listener());
    dispatcher.Start();
    dispatcher.Notify();
    ASSERT_TRUE(gate.AwaitWaiting(3));
    gate.Open();
    ASSERT_TRUE(reports.AwaitCount(10));
    EXPECT_EQ(webhook.max_active(), 3);
    dispatcher.Stop();
    EXPECT_EQ(store.CountStatus(OutboxStatus::kSent), 10);
}

TEST(Dispatcher, StopLetsDeliveriesInFlightFinishAndRecordsThem) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    FakeOutboxStore store;
    Gate gate;
    ScriptedChannel webhook("webhook", [&](const store::OutboxRow&) {
        gate.Wait();
        return DeliveryOutcome::Accepted("ok");
    });
    store.Enqueue({Message("out_1", "webhook", clock.Now())});
    Dispatcher dispatcher(store, {&webhook}, clock, Options(2), MiddleRandom());
    dispatcher.Start();
    dispatcher.Notify();
    ASSERT_TRUE(gate.AwaitWaiting(1));
    std::thread stopper([&] { dispatcher.Stop(); });
    gate.Open();
    stopper.join();
    EXPECT_EQ(store.Row("out_1").status, OutboxStatus::kSent);
}

}  // namespace
}  // namespace railwatch::notify
