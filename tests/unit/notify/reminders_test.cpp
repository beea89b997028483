#include "notify/reminders.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "notify_fakes.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "test_rows.hpp"

namespace railwatch::notify {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

/// Reads rows from the fake outbox and instances from a map; can fail on demand.
class FakeReminderSource final : public ReminderSource {
  public:
    explicit FakeReminderSource(test::FakeOutboxStore& outbox) : outbox_(outbox) {}

    util::Result<std::vector<store::OutboxRow>> RowsCreatedSince(core::Timestamp since) override {
        std::lock_guard lock(mutex_);
        last_since = since;
        if (fail_next) {
            fail_next = false;
            return util::Fail(util::ErrorCode::kUnavailable, "database is down (injected)");
        }
        std::vector<store::OutboxRow> rows;
        for (const auto& row : outbox_.Rows()) {
            if (row.message.created_at >= since) rows.push_back(row);
        }
        return rows;
    }

    util::Result<std::optional<ReminderSubject>> Subject(const std::string& instance_id) override {
        std::lock_guard lock(mutex_);
        auto it = subjects.find(instance_id);
        if (it == subjects.end()) return std::optional<ReminderSubject>{};
        return std::optional<ReminderSubject>(it->second);
    }

    std::mutex mutex_;
    std::map<std::string, ReminderSubject> subjects;
    std::optional<core::Timestamp> last_since;
    bool fail_next = false;

  private:
    test::FakeOutboxStore& outbox_;
};

NotifyConfig EmailAndWebhook() {
    NotifyConfig config;
    config.email.smtp_url = "smtp://mail.example.com:587";
    config.email.from = "railwatch@example.com";
    config.webhook.url = "https://hooks.example.com/railwatch";
    config.reminders.repeat_every = minutes(30);
    config.reminders.max_reminders = 2;
    return config;
}

ReminderSubject Failing(const core::NotifyEvent& event) {
    ReminderSubject subject;
    subject.problem.deployment_id = event.deployment_id;
    subject.problem.status = core::InstanceStatus::kFailed;
    subject.user = core::NotifyUser{"usr_1", "dev@example.com", "Dev"};
    return subject;
}

struct Fixture {
    explicit Fixture(NotifyConfig config = EmailAndWebhook())
        : config(std::move(config)),
          planner(this->config),
          clock(test::SampleEvent().at),
          sweep(planner, this->config.reminders, source, outbox, clock) {}

    /// Stores the first notice of `event` as the engine would (created when it happened).
    void StoreFirstNotice(const core::NotifyEvent& event) {
        ASSERT_GT(outbox.Enqueue(planner.Plan(event, event.at).messages), 0);
    }

    /// The reminders stored so far: (reminder number, channel, recipient).
    std::multiset<std::tuple<int, std::string, std::string>> Reminders() {
        std::multiset<std::tuple<int, std::string, std::string>> out;
        for (const auto& row : outbox.Rows()) {
            auto payload = DecodePayload(row.message.payload).value();
            if (payload.event.reminder > 0) out.emplace(payload.event.reminder, row.message.channel, payload.recipient);
        }
        return out;
    }

    NotifyConfig config;
    OutboxPlanner planner;
    test::FakeOutboxStore outbox;
    FakeReminderSource source{outbox};
    util::FakeClock clock;
    ReminderSweep sweep;
};

TEST(ReminderSweep, RemindsOfAnOpenProblemOnceAtEachIntervalUpToTheMaximum) {
    Fixture f;
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);  // email (user), in_app, webhook
    f.source.subjects["ins_1"] = Failing(event);
    const std::size_t first_rows = f.outbox.Rows().size();
    ASSERT_EQ(first_rows, 3u);

    f.clock.Advance(minutes(29));
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);

    f.clock.Advance(minutes(2));  // 31 min after the failure
    EXPECT_EQ(f.sweep.RunOnce().value(), 3);
    EXPECT_EQ(f.sweep.RunOnce().value(), 0) << "a second pass for the same reminder stores nothing";

    f.clock.Advance(minutes(30));  // 61 min
    EXPECT_EQ(f.sweep.RunOnce().value(), 3);
    f.clock.Advance(hours(1));  // 2 h: the third would be due, but at most 2
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);

    const std::multiset<std::tuple<int, std::string, std::string>> expected = {
        {1, "email", "dev@example.com"}, {1, "in_app", "usr_1"}, {1, "webhook", "webhook"},
        {2, "email", "dev@example.com"}, {2, "in_app", "usr_1"}, {2, "webhook", "webhook"}};
    EXPECT_EQ(f.Reminders(), expected);
    EXPECT_EQ(f.sweep.Stats().reminders, 6u);
}

TEST(ReminderSweep, TheUsersAddressComesFromTheStoreNotThePayload) {
    Fixture f;
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);
    ReminderSubject subject = Failing(event);
    subject.user->email = "new-address@example.com";  // the user changed their address since
    f.source.subjects["ins_1"] = subject;
    f.clock.Advance(minutes(31));
    ASSERT_EQ(f.sweep.RunOnce().value(), 3);
    EXPECT_EQ(f.Reminders().count({1, "email", "new-address@example.com"}), 1u);
}

TEST(ReminderSweep, AResolvedOrRemovedProblemGetsNoReminder) {
    Fixture f;
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);
    ReminderSubject redeployed = Failing(event);
    redeployed.problem.deployment_id = "dep-2";
    redeployed.problem.status = core::InstanceStatus::kDeploying;
    f.source.subjects["ins_1"] = redeployed;
    f.clock.Advance(minutes(31));
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);

    f.source.subjects.clear();  // the instance is gone from the store
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);
    EXPECT_TRUE(f.Reminders().empty());
}

TEST(ReminderSweep, ReadsOnlyTheWindowInWhichAReminderCanStillBeDue) {
    Fixture f;
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);
    f.source.subjects["ins_1"] = Failing(event);
    EXPECT_EQ(f.sweep.window(), minutes(90));  // (2 reminders + 1) × 30 min
    f.clock.Advance(hours(3));
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);  // the notice is older than the window
    ASSERT_TRUE(f.source.last_since);
    EXPECT_EQ(*f.source.last_since, f.clock.Now() - minutes(90));
}

TEST(ReminderSweep, AStoreFailureIsCountedAndTheNextPassCatchesUp) {
    Fixture f;
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);
    f.source.subjects["ins_1"] = Failing(event);
    f.clock.Advance(minutes(31));
    f.source.fail_next = true;
    auto failed = f.sweep.RunOnce();
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, util::ErrorCode::kUnavailable);
    EXPECT_EQ(f.sweep.Stats().failed_sweeps, 1u);
    EXPECT_EQ(f.sweep.RunOnce().value(), 3);
}

TEST(ReminderSweep, OffWhenRepeatEveryIsZeroAndSweepsEveryQuarterIntervalWithinBounds) {
    NotifyConfig off = EmailAndWebhook();
    off.reminders.repeat_every = core::Duration::zero();
    Fixture f(off);
    EXPECT_FALSE(f.sweep.enabled());
    f.StoreFirstNotice(test::SampleEvent());
    f.clock.Advance(hours(10));
    EXPECT_EQ(f.sweep.RunOnce().value(), 0);
    EXPECT_EQ(f.sweep.Stats().sweeps, 0u);

    Fixture normal;
    EXPECT_EQ(normal.sweep.period(), core::Seconds(60));  // 30 min / 4 is over the 60 s cap
    NotifyConfig fast = EmailAndWebhook();
    fast.reminders.repeat_every = core::Seconds(2);
    Fixture quick(fast);
    EXPECT_EQ(quick.sweep.period(), core::Seconds(1));  // never more often than once a second
}

TEST(ReminderSweep, TheThreadRemindsOnTimeAndSaysSo) {
    Fixture f;
    f.clock.SetWaitMode(util::FakeClock::WaitMode::kBlock);
    const core::NotifyEvent event = test::SampleEvent();
    f.StoreFirstNotice(event);
    f.source.subjects["ins_1"] = Failing(event);
    std::atomic<int> woken{0};
    f.sweep.Start([&] { ++woken; });
    // Waits() grows by one each time the thread is back in its wait, its pass done.
    const auto await_wait = [&](std::size_t n) {
        for (int spin = 0; spin < 10'000 && f.clock.Waits().size() < n; ++spin)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return f.clock.Waits().size() >= n && f.clock.AwaitWaiters(1);
    };
    ASSERT_TRUE(await_wait(1));
    for (std::size_t i = 0; i < 31; ++i) {  // 31 sweeps of 60 s: the first reminder falls due at 30 min
        f.clock.Advance(core::Seconds(60));
        ASSERT_TRUE(await_wait(i + 2));
    }
    f.sweep.Stop();
    EXPECT_EQ(woken.load(), 1);
    EXPECT_EQ(f.Reminders().size(), 3u);
    EXPECT_EQ(f.sweep.Stats().sweeps, 31u);
    for (const auto wait : f.clock.Waits())
        EXPECT_EQ(wait, core::Seconds(60));
}

TEST(StoreReminderSource, ReadsTheWindowAndTheInstanceFromARealStore) {
    railwatch::test::TempDir dir{"railwatch-reminders-"};
    auto store = store::OpenStore("sqlite:" + dir.File("railwatch.db")).value();
    const core::NotifyEvent event = test::SampleEvent();
    store::User user{"usr_1", "dev@example.com", "Dev", "", event.at};
    ASSERT_TRUE(store->CreateUser(user));
    store::Instance instance;
    instance.id = "ins_1";
    instance.user_id = "usr_1";
    instance.service_id = "svc-1";
    instance.environment_id = "env-1";
    instance.state.status = core::InstanceStatus::kFailed;
    instance.state.deployment_id = "dep-1";
    instance.created_at = event.at;
    ASSERT_TRUE(store->CreateInstance(instance));

    OutboxPlanner planner(EmailAndWebhook());
    auto old = test::SampleEvent();
    old.at = event.at - hours(5);
    old.id = core::MakeEventId(old.type, old.instance_id, old.deployment_id, old.at);
    ASSERT_TRUE(store->EnqueueOutbox(planner.Plan(old, old.at).messages));
    ASSERT_TRUE(store->EnqueueOutbox(planner.Plan(event, event.at).messages));

    StoreReminderSource source(*store, *store, *store);
    auto rows = source.RowsCreatedSince(event.at - hours(1)).value();
    EXPECT_EQ(rows.size(), 3u);  // the recent event's three rows, not the old one's
    for (const auto& row : rows)
        EXPECT_GE(row.message.created_at, event.at);

    auto subject = source.Subject("ins_1").value();
    ASSERT_TRUE(subject);
    EXPECT_TRUE(subject->problem.watched);
    EXPECT_EQ(subject->problem.deployment_id, "dep-1");
    EXPECT_EQ(subject->problem.status, core::InstanceStatus::kFailed);
    ASSERT_TRUE(subject->user);
    EXPECT_EQ(subject->user->email, "dev@example.com");
    EXPECT_FALSE(source.Subject("ins_missing").value());

    ASSERT_TRUE(store->DeleteInstance("ins_1", event.at + minutes(1)));
    EXPECT_FALSE(source.Subject("ins_1").value()->problem.watched);
}

}  // namespace
}  // namespace railwatch::notify
