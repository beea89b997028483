#include "app/notify_config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace railwatch::app {
namespace {

railway::EnvLookup Env(std::map<std::string, std::string> vars) {
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
    EXPECT_EQ(c.reminders.repeat_every, core::Seconds(3600));
    EXPECT_EQ(c.reminders.max_reminders, 2);
    EXPECT_TRUE(notify::ValidateNotifyConfig(c)) << notify::ValidateNotifyConfig(c).error().message;
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
    EXPECT_EQ(c.reminders.repeat_every, defaults.reminders.repeat_every);
    EXPECT_EQ(c.reminders.max_reminders, defaults.reminders.max_reminders);
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
