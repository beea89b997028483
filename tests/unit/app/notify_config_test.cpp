#include "app/notify_config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/notify_plan.hpp"
#include "notify/notifier.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::app {
namespace {

railway::EnvLookup Env(const std::map<std::string, std::string>& vars) {
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

constexpr std::string_view kSecretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kSecretB = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY";

TEST(NotifyConfigFrom, EveryNotifyKeyReachesTheNotifier) {
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_SMTP_PASSWORD", "smtp-pw"},
                       {"RAILWATCH_WEBHOOK_SECRET", std::string(kSecretA) + " " + std::string(kSecretB)}});
    const auto loaded = LoadConfigText(R"toml(
[notify.email]
smtp_url = "smtp://127.0.0.1:2525"
from = "rw@example.com"
starttls = "off"
username = "rw"
ca_file = "/etc/ssl/extra.pem"
timeout_seconds = 12
[notify.webhook]
url = "https://hooks.example.com/x"
format = "discord"
timeout_seconds = 7
[notify.admin]
emails = ["ops@example.com"]
[notify.retry]
max_attempts = 4
jitter = 0.5
[notify.dispatch]
concurrency = 3
poll_interval_seconds = 9
lease_seconds = 20
[notify.reminders]
repeat_every_seconds = 3600
max_reminders = 2
)toml",
                                       "cfg.toml", sources);
    ASSERT_TRUE(loaded);
    const notify::NotifyConfig c = NotifyConfigFrom(loaded->config);
    EXPECT_EQ(c.email.smtp_url, "smtp://127.0.0.1:2525");
    EXPECT_EQ(c.email.from, "rw@example.com");
    EXPECT_EQ(c.email.starttls, notify::StartTls::kOff);
    EXPECT_EQ(c.email.username, "rw");
    EXPECT_EQ(c.email.password, "smtp-pw");
    EXPECT_EQ(c.email.ca_file, "/etc/ssl/extra.pem");
    EXPECT_EQ(c.email.timeout, core::Seconds(12));
    EXPECT_EQ(c.webhook.url, "https://hooks.example.com/x");
    EXPECT_EQ(c.webhook.format, notify::WebhookFormat::kDiscord);
    EXPECT_EQ(c.webhook.timeout, core::Seconds(7));
    ASSERT_EQ(c.webhook.secrets.size(), 2u);  // a rotation: both sign
    EXPECT_EQ(c.webhook.secrets[0], kSecretA);
    EXPECT_EQ(c.webhook.secrets[1], kSecretB);
    EXPECT_EQ(c.admin_emails, std::vector<std::string>{"ops@example.com"});
    EXPECT_EQ(c.retry.max_attempts, 4);
    EXPECT_DOUBLE_EQ(c.retry.jitter, 0.5);
    EXPECT_EQ(c.dispatch.concurrency, 3);
    EXPECT_EQ(c.dispatch.poll_interval, core::Seconds(9));
    EXPECT_EQ(c.dispatch.lease, core::Seconds(20));
    EXPECT_EQ(notify::DispatcherOptionsFrom(c).lease, core::Seconds(20));
    EXPECT_EQ(c.reminders.repeat_every, core::Seconds(3600));
    EXPECT_EQ(c.reminders.max_reminders, 2);
    EXPECT_TRUE(notify::ValidateNotifyConfig(c)) << notify::ValidateNotifyConfig(c).error().message;
}

TEST(NotifyConfigFrom, RoutesSilencesScheduleAndReminderTypesReachTheNotifier) {
    const auto loaded = LoadConfigText(R"toml(
[notify.retry]
schedule_seconds = [1, 2, 30]
[notify.reminders]
types = ["crash_loop", "deployment_stuck"]
[notify.routes]
deployment_recovered = ["in_app"]
network_error = []
deployment_failed = ["webhook", "email"]
[[notify.silences]]
id = "maintenance"
starts_at = "2027-01-15T08:00:00Z"
ends_at = 2027-01-15T10:00:00+01:00
instance = "ins_1"
types = ["deployment_crashed", "crash_loop"]
mute_in_app = true
comment = "planned database move"
[[notify.silences]]
id = "everything"
starts_at = "2027-02-01T00:00:00Z"
ends_at = "2027-02-02T00:00:00Z"
)toml",
                                       "cfg.toml");
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    const notify::NotifyConfig c = NotifyConfigFrom(loaded->config);
    EXPECT_EQ(c.retry.delays, (std::vector<core::Duration>{core::Seconds(1), core::Seconds(2), core::Seconds(30)}));
    EXPECT_EQ(c.reminders.types, (std::set<core::NotifyEventType>{core::NotifyEventType::kCrashLoop,
                                                                  core::NotifyEventType::kDeploymentStuck}));
    EXPECT_EQ(c.routing.RoutesFor(core::NotifyEventType::kDeploymentRecovered),
              std::set<core::NotifyRoute>{core::NotifyRoute::kUserInApp});
    EXPECT_TRUE(c.routing.RoutesFor(core::NotifyEventType::kNetworkError).empty());
    EXPECT_EQ(c.routing.RoutesFor(core::NotifyEventType::kDeploymentFailed),
              (std::set<core::NotifyRoute>{core::NotifyRoute::kUserEmail, core::NotifyRoute::kWebhook}));
    // A type not listed keeps its defaults.
    EXPECT_EQ(c.routing.RoutesFor(core::NotifyEventType::kCrashLoop),
              core::DefaultRoutes(core::NotifyEventType::kCrashLoop));
    ASSERT_EQ(c.silences.size(), 2u);
    const core::Silence& s = c.silences[0];
    EXPECT_EQ(s.id, "maintenance");
    EXPECT_EQ(s.starts_at, util::ParseRfc3339("2027-01-15T08:00:00Z").value());
    EXPECT_EQ(s.ends_at, util::ParseRfc3339("2027-01-15T09:00:00Z").value());  // a TOML date-time, +01:00
    EXPECT_EQ(s.instance_id, "ins_1");
    EXPECT_EQ(s.types, (std::vector<core::NotifyEventType>{core::NotifyEventType::kDeploymentCrashed,
                                                           core::NotifyEventType::kCrashLoop}));
    EXPECT_TRUE(s.mute_in_app);
    EXPECT_EQ(s.comment, "planned database move");
    EXPECT_EQ(c.silences[1].id, "everything");
    EXPECT_TRUE(c.silences[1].instance_id.empty());
    EXPECT_TRUE(c.silences[1].types.empty());
    EXPECT_FALSE(c.silences[1].mute_in_app);
    EXPECT_TRUE(notify::ValidateNotifyConfig(c)) << notify::ValidateNotifyConfig(c).error().message;

    // The planner honours them: a recovery goes only to the inbox.
    core::NotifyEvent event;
    event.id = "deployment_recovered:ins_2:dep-1:1";
    event.type = core::NotifyEventType::kDeploymentRecovered;
    event.instance_id = "ins_2";
    event.user = core::NotifyUser{"usr_1", "dev@example.com", "Dev"};
    const core::NotifyPlan plan = core::PlanNotifications(event, c.routing, c.Targets(), c.silences, event.at);
    ASSERT_EQ(plan.deliveries.size(), 1u);
    EXPECT_EQ(plan.deliveries[0].route, core::NotifyRoute::kUserInApp);
}

TEST(NotifyConfigFrom, TheDefaultsAreTheNotifiersDefaults) {
    const notify::NotifyConfig c = NotifyConfigFrom(Config{});
    const notify::NotifyConfig defaults;
    EXPECT_FALSE(c.email.enabled());
    EXPECT_FALSE(c.webhook.enabled());
    EXPECT_TRUE(c.webhook.secrets.empty());
    EXPECT_EQ(c.email.timeout, defaults.email.timeout);
    EXPECT_EQ(c.webhook.timeout, defaults.webhook.timeout);
    EXPECT_EQ(c.retry.max_attempts, defaults.retry.max_attempts);
    EXPECT_DOUBLE_EQ(c.retry.jitter, defaults.retry.jitter);
    EXPECT_EQ(c.dispatch.concurrency, defaults.dispatch.concurrency);
    EXPECT_EQ(c.dispatch.poll_interval, defaults.dispatch.poll_interval);
    EXPECT_EQ(c.dispatch.lease, defaults.dispatch.lease);
    EXPECT_EQ(c.reminders.repeat_every, defaults.reminders.repeat_every);
    EXPECT_EQ(c.reminders.max_reminders, defaults.reminders.max_reminders);
    EXPECT_EQ(c.reminders.types, defaults.reminders.types);
    EXPECT_EQ(c.retry.delays, defaults.retry.delays);
    EXPECT_TRUE(c.routing.routes.empty());
    EXPECT_TRUE(c.silences.empty());
    EXPECT_TRUE(notify::ValidateNotifyConfig(c));
}

TEST(NotifyConfigFrom, ThreeWebhookSecretsAreRefusedWithoutShowingThem) {
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_WEBHOOK_SECRET",
                        std::string(kSecretA) + " " + std::string(kSecretB) + " " + std::string(kSecretA)}});
    const auto loaded = LoadConfigText("", "cfg.toml", sources);
    ASSERT_FALSE(loaded);
    const std::string text = loaded.error().ToString();
    EXPECT_NE(text.find("notify.webhook.secret"), std::string::npos) << text;
    EXPECT_EQ(text.find("MfKQ9r8"), std::string::npos) << text;
}

}  // namespace
}  // namespace railwatch::app
