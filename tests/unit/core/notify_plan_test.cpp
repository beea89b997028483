#include "core/notify_plan.hpp"

#include <gtest/gtest.h>

#include <set>

namespace railwatch::core {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const Timestamp kNow = Timestamp(Seconds(1'800'000'000));

NotifyEvent FailedEvent() {
    NotifyEvent event;
    event.type = NotifyEventType::kDeploymentFailed;
    event.at = kNow;
    event.instance_id = "ins_1";
    event.deployment_id = "dep-1";
    event.id = MakeEventId(event.type, event.instance_id, event.deployment_id, event.at);
    event.user = NotifyUser{"usr_1", "Dev@Example.com", "Dev"};
    event.message = "missing DATABASE_URL";
    return event;
}

NotifyTargets AllTargets() {
    return NotifyTargets{true, true, {"ops@example.com", "oncall@example.com"}};
}

std::vector<std::string> Channels(const NotifyPlan& plan) {
    std::vector<std::string> out;
    for (const auto& d : plan.deliveries)
        out.push_back(d.channel + ":" + d.recipient);
    return out;
}

TEST(DefaultRoutes, DeploymentEventsGoToTheUserAndNoticesToAdmins) {
    using R = NotifyRoute;
    EXPECT_EQ(DefaultRoutes(NotifyEventType::kDeploymentFailed),
              (std::set<R>{R::kUserEmail, R::kUserInApp, R::kWebhook}));
    EXPECT_EQ(DefaultRoutes(NotifyEventType::kDeploymentRecovered),
              (std::set<R>{R::kUserEmail, R::kUserInApp, R::kWebhook}));
    EXPECT_EQ(DefaultRoutes(NotifyEventType::kDeploymentStuck),
              (std::set<R>{R::kUserInApp, R::kAdminEmail, R::kWebhook}));
    for (const NotifyEventType type : kAllNotifyEventTypes) {
        if (AudienceOf(type) == Audience::kAdmin) {
            EXPECT_EQ(DefaultRoutes(type), (std::set<R>{R::kAdminEmail, R::kWebhook})) << ToString(type);
        }
    }
}

TEST(NotifyRoute, NamesParseBackAndMapToOutboxChannels) {
    for (const NotifyRoute route : kAllNotifyRoutes)
        EXPECT_EQ(ParseNotifyRoute(ToString(route)), route);
    EXPECT_EQ(ChannelOf(NotifyRoute::kUserEmail), "email");
    EXPECT_EQ(ChannelOf(NotifyRoute::kAdminEmail), "email");
    EXPECT_EQ(ChannelOf(NotifyRoute::kUserInApp), "in_app");
    EXPECT_EQ(ChannelOf(NotifyRoute::kWebhook), "webhook");
    EXPECT_FALSE(ParseNotifyRoute("sms"));
}

TEST(PlanNotifications, AFailedDeploymentGoesToTheUsersEmailInboxAndTheWebhook) {
    const NotifyPlan plan = PlanNotifications(FailedEvent(), {}, AllTargets(), {}, kNow);
    EXPECT_EQ(Channels(plan), (std::vector<std::string>{"email:Dev@Example.com", "in_app:usr_1", "webhook:webhook"}));
    EXPECT_TRUE(plan.skipped.empty());
    EXPECT_FALSE(plan.silenced_by);
}

TEST(PlanNotifications, AnAdminNoticeGoesToEveryAdminAndTheWebhook) {
    NotifyEvent event = FailedEvent();
    event.type = NotifyEventType::kConfigurationError;
    const NotifyPlan plan = PlanNotifications(event, {}, AllTargets(), {}, kNow);
    EXPECT_EQ(Channels(plan),
              (std::vector<std::string>{"email:ops@example.com", "email:oncall@example.com", "webhook:webhook"}));
}

TEST(PlanNotifications, DedupKeysAreBuiltFromEventChannelAndRecipientAndAreStable) {
    const NotifyEvent event = FailedEvent();
    const NotifyPlan first = PlanNotifications(event, {}, AllTargets(), {}, kNow);
    const NotifyPlan again = PlanNotifications(event, {}, AllTargets(), {}, kNow + hours(1));
    EXPECT_EQ(first.deliveries, again.deliveries);
    ASSERT_EQ(first.deliveries.size(), 3u);
    EXPECT_EQ(first.deliveries[0].dedup_key, event.id + "|email|dev@example.com");
    EXPECT_EQ(first.deliveries[1].dedup_key, event.id + "|in_app|usr_1");
    EXPECT_EQ(first.deliveries[2].dedup_key, event.id + "|webhook|webhook");
    std::set<std::string> keys;
    for (const auto& d : first.deliveries)
        keys.insert(d.dedup_key);
    EXPECT_EQ(keys.size(), 3u);
}

TEST(PlanNotifications, AUserWhoIsAlsoAnAdminGetsOneEmail) {
    NotifyEvent event = FailedEvent();
    event.type = NotifyEventType::kDeploymentStuck;
    NotifyRouting routing;
    routing.routes[event.type] = {NotifyRoute::kUserEmail, NotifyRoute::kAdminEmail};
    NotifyTargets targets{true, false, {"DEV@example.com", "ops@example.com", "ops@example.com"}};
    const NotifyPlan plan = PlanNotifications(event, routing, targets, {}, kNow);
    EXPECT_EQ(Channels(plan), (std::vector<std::string>{"email:Dev@Example.com", "email:ops@example.com"}));
}

TEST(PlanNotifications, RoutingConfigDecidesPerTypeAndAnEmptySetSendsNothing) {
    NotifyRouting routing;
    routing.routes[NotifyEventType::kDeploymentFailed] = {NotifyRoute::kWebhook};
    routing.routes[NotifyEventType::kDeploymentRecovered] = {};
    EXPECT_EQ(Channels(PlanNotifications(FailedEvent(), routing, AllTargets(), {}, kNow)),
              (std::vector<std::string>{"webhook:webhook"}));
    NotifyEvent recovered = FailedEvent();
    recovered.type = NotifyEventType::kDeploymentRecovered;
    EXPECT_TRUE(PlanNotifications(recovered, routing, AllTargets(), {}, kNow).deliveries.empty());
    NotifyEvent crashed = FailedEvent();
    crashed.type = NotifyEventType::kDeploymentCrashed;  // not configured: defaults
    EXPECT_EQ(PlanNotifications(crashed, routing, AllTargets(), {}, kNow).deliveries.size(), 3u);
}

TEST(PlanNotifications, RoutesWithoutATargetAreSkippedWithAReason) {
    NotifyEvent event = FailedEvent();
    event.user.reset();
    const NotifyPlan plan = PlanNotifications(event, {}, NotifyTargets{false, false, {}}, {}, kNow);
    EXPECT_TRUE(plan.deliveries.empty());
    ASSERT_EQ(plan.skipped.size(), 3u);
    EXPECT_EQ(plan.skipped[0].route, NotifyRoute::kUserEmail);
    EXPECT_NE(plan.skipped[0].reason.find("email is not configured"), std::string::npos);
    EXPECT_NE(plan.skipped[1].reason.find("no user"), std::string::npos);
    EXPECT_NE(plan.skipped[2].reason.find("no webhook"), std::string::npos);

    event.user = NotifyUser{"usr_1", "", ""};
    const NotifyPlan no_email = PlanNotifications(event, {}, AllTargets(), {}, kNow);
    EXPECT_EQ(Channels(no_email), (std::vector<std::string>{"in_app:usr_1", "webhook:webhook"}));
}

TEST(PlanNotifications, RemindersGetTheirOwnKeysSoEachIsSentOnce) {
    NotifyEvent event = FailedEvent();
    const auto first = PlanNotifications(event, {}, AllTargets(), {}, kNow).deliveries;
    event.reminder = 1;
    const auto reminder = PlanNotifications(event, {}, AllTargets(), {}, kNow).deliveries;
    ASSERT_EQ(first.size(), reminder.size());
    for (std::size_t i = 0; i < first.size(); ++i)
        EXPECT_NE(first[i].dedup_key, reminder[i].dedup_key);
    EXPECT_EQ(reminder[2].dedup_key, event.id + "#r1|webhook|webhook");
}

TEST(MakeDedupKey, KeysOverTheStoresLimitAreShortenedDeterministically) {
    const std::string recipient = std::string(250, 'x') + "@example.com";
    const std::string key = MakeDedupKey("evt", 0, "email", recipient);
    EXPECT_LE(key.size(), 256u);
    EXPECT_EQ(key, MakeDedupKey("evt", 0, "email", recipient));
    EXPECT_NE(key, MakeDedupKey("evt", 0, "email", "y" + recipient));
    EXPECT_NE(key, MakeDedupKey("evt", 1, "email", recipient));
}

Silence Window(std::string id, Timestamp from, Timestamp to) {
    Silence s;
    s.id = std::move(id);
    s.starts_at = from;
    s.ends_at = to;
    return s;
}

TEST(FindSilence, MatchesOnlyInsideItsWindowAndForItsInstanceAndTypes) {
    const NotifyEvent event = FailedEvent();
    Silence all = Window("maintenance", kNow - hours(1), kNow + hours(1));
    EXPECT_NE(FindSilence(std::vector{all}, event, kNow), nullptr);
    EXPECT_NE(FindSilence(std::vector{all}, event, kNow - hours(1)), nullptr);  // start is inclusive
    EXPECT_EQ(FindSilence(std::vector{all}, event, kNow + hours(1)), nullptr);  // end is exclusive
    EXPECT_EQ(FindSilence(std::vector{all}, event, kNow - hours(2)), nullptr);

    Silence other_instance = all;
    other_instance.instance_id = "ins_2";
    EXPECT_EQ(FindSilence(std::vector{other_instance}, event, kNow), nullptr);
    Silence this_instance = all;
    this_instance.instance_id = "ins_1";
    EXPECT_NE(FindSilence(std::vector{this_instance}, event, kNow), nullptr);

    Silence crashes_only = all;
    crashes_only.types = {NotifyEventType::kDeploymentCrashed, NotifyEventType::kCrashLoop};
    EXPECT_EQ(FindSilence(std::vector{crashes_only}, event, kNow), nullptr);
    crashes_only.types.push_back(NotifyEventType::kDeploymentFailed);
    EXPECT_NE(FindSilence(std::vector{crashes_only}, event, kNow), nullptr);
}

TEST(PlanNotifications, ASilenceMutesEmailAndWebhookButKeepsTheInbox) {
    const std::vector<Silence> silences{Window("deploy-window", kNow - minutes(5), kNow + minutes(5))};
    const NotifyPlan plan = PlanNotifications(FailedEvent(), {}, AllTargets(), silences, kNow);
    EXPECT_EQ(plan.silenced_by, "deploy-window");
    EXPECT_EQ(Channels(plan), (std::vector<std::string>{"in_app:usr_1"}));
    ASSERT_EQ(plan.skipped.size(), 2u);
    EXPECT_NE(plan.skipped[0].reason.find("deploy-window"), std::string::npos);

    std::vector<Silence> total = silences;
    total[0].mute_in_app = true;
    EXPECT_TRUE(PlanNotifications(FailedEvent(), {}, AllTargets(), total, kNow).deliveries.empty());
    // After the window, everything goes out again.
    EXPECT_EQ(PlanNotifications(FailedEvent(), {}, AllTargets(), silences, kNow + minutes(5)).deliveries.size(), 3u);
}

TEST(DueReminder, CountsWholeIntervalsSinceTheProblemUpToTheMaximum) {
    ReminderPolicy policy;
    policy.repeat_every = hours(4);
    policy.max_reminders = 2;
    const Timestamp since = kNow;
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since), 0);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since + hours(4) - Seconds(1)), 0);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since + hours(4)), 1);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since + hours(9)), 2);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since + hours(100)), 2);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentFailed, since, since - hours(5)), 0);
}

TEST(DueReminder, OffByDefaultNeverForRecoveriesAndOnlyForConfiguredTypes) {
    const Timestamp since = kNow;
    EXPECT_EQ(DueReminder(ReminderPolicy{}, NotifyEventType::kDeploymentFailed, since, since + hours(100)), 0);
    ReminderPolicy policy;
    policy.repeat_every = hours(1);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kDeploymentRecovered, since, since + hours(5)), 0);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kTokenInvalid, since, since + hours(2)), 2);
    policy.types = {NotifyEventType::kCrashLoop};
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kTokenInvalid, since, since + hours(2)), 0);
    EXPECT_EQ(DueReminder(policy, NotifyEventType::kCrashLoop, since, since + hours(2)), 2);
}

ProblemSubject StillFailing() {
    ProblemSubject subject;
    subject.deployment_id = "dep-1";
    subject.status = InstanceStatus::kFailed;
    return subject;
}

TEST(ProblemOpen, OpenWhileTheSameDeploymentStaysFailedOrFlagged) {
    const NotifyEvent event = FailedEvent();
    EXPECT_TRUE(ProblemOpen(event, StillFailing()));

    ProblemSubject flagged = StillFailing();
    flagged.status = InstanceStatus::kDeploying;
    EXPECT_FALSE(ProblemOpen(event, flagged));
    flagged.needs_attention = true;
    EXPECT_TRUE(ProblemOpen(event, flagged));
}

TEST(ProblemOpen, ANewDeploymentARecoveryDeletionOrStoppedMonitoringCloseIt) {
    const NotifyEvent event = FailedEvent();
    ProblemSubject redeployed = StillFailing();
    redeployed.deployment_id = "dep-2";
    EXPECT_FALSE(ProblemOpen(event, redeployed));

    ProblemSubject recovered = StillFailing();
    recovered.status = InstanceStatus::kRunning;
    EXPECT_FALSE(ProblemOpen(event, recovered));

    ProblemSubject unwatched = StillFailing();
    unwatched.watched = false;
    EXPECT_FALSE(ProblemOpen(event, unwatched));

    ProblemSubject unknown_deployment = StillFailing();
    unknown_deployment.deployment_id.reset();
    EXPECT_FALSE(ProblemOpen(event, unknown_deployment));
}

TEST(ProblemOpen, AnEventAboutNoInstanceIsNeverJudgedOpen) {
    NotifyEvent token = FailedEvent();
    token.type = NotifyEventType::kTokenInvalid;
    token.instance_id.clear();
    token.deployment_id.clear();
    ProblemSubject subject;
    subject.status = InstanceStatus::kFailed;
    EXPECT_FALSE(ProblemOpen(token, subject));
}

TEST(PlanReminder, RemindsOfAnOpenProblemWithTheDueNumberAndAFreshDedupKey) {
    ReminderPolicy policy;
    policy.repeat_every = minutes(30);
    policy.max_reminders = 2;
    const NotifyEvent event = FailedEvent();
    EXPECT_FALSE(PlanReminder(policy, event, StillFailing(), kNow + minutes(29)));

    auto first = PlanReminder(policy, event, StillFailing(), kNow + minutes(31));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->reminder, 1);
    EXPECT_EQ(first->id, event.id);
    EXPECT_EQ(first->message, event.message);
    auto second = PlanReminder(policy, event, StillFailing(), kNow + hours(5));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->reminder, 2);

    // The same reminder planned twice has the same keys; the next one has others.
    const auto keys = [](const NotifyEvent& e) {
        std::set<std::string> out;
        for (const auto& d : PlanNotifications(e, {}, AllTargets(), {}, kNow).deliveries)
            out.insert(d.dedup_key);
        return out;
    };
    EXPECT_EQ(keys(*first), keys(*PlanReminder(policy, event, StillFailing(), kNow + minutes(45))));
    std::set<std::string> all = keys(event);
    for (const auto& key : keys(*first))
        EXPECT_TRUE(all.insert(key).second) << key;
    for (const auto& key : keys(*second))
        EXPECT_TRUE(all.insert(key).second) << key;
}

TEST(PlanReminder, NoneForAClosedProblemOrForAReminderItself) {
    ReminderPolicy policy;
    policy.repeat_every = minutes(30);
    const NotifyEvent event = FailedEvent();
    ProblemSubject recovered = StillFailing();
    recovered.status = InstanceStatus::kRunning;
    EXPECT_FALSE(PlanReminder(policy, event, recovered, kNow + hours(1)));

    NotifyEvent reminder = event;
    reminder.reminder = 1;
    EXPECT_FALSE(PlanReminder(policy, reminder, StillFailing(), kNow + hours(1)));
}

}  // namespace
}  // namespace railwatch::core
