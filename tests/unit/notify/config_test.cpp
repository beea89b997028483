#include "notify/config.hpp"

#include <gtest/gtest.h>

#include "notify/payload.hpp"
#include "notify/planner.hpp"
#include "notify/signing.hpp"
#include "test_rows.hpp"
#include "util/base64.hpp"

namespace railwatch::notify {
namespace {

const std::string kSecret = "whsec_" + util::Base64Encode(std::string(24, 'k'));

NotifyConfig Valid() {
    NotifyConfig config;
    config.email.smtp_url = "smtp://mail.example.com:587";
    config.email.from = "railwatch@example.com";
    config.email.username = "railwatch";
    config.email.password = "hunter2-password";
    config.webhook.url = "https://hooks.example.com/railwatch";
    config.webhook.secrets = {kSecret};
    config.admin_emails = {"ops@example.com"};
    return config;
}

std::string ErrorOf(const NotifyConfig& config) {
    const auto result = ValidateNotifyConfig(config);
    return result ? std::string() : result.error().message;
}

TEST(NotifyConfig, TheDefaultsAndAFullConfigAreValid) {
    EXPECT_EQ(ErrorOf(NotifyConfig{}), "");
    EXPECT_EQ(ErrorOf(Valid()), "");
    EXPECT_EQ(NotifyConfig{}.email.starttls, StartTls::kRequired);
    EXPECT_EQ(NotifyConfig{}.webhook.timeout, core::Seconds(15));
    EXPECT_EQ(NotifyConfig{}.webhook.format, WebhookFormat::kStandard);
}

TEST(NotifyConfig, StarttlsOffIsRefusedForAnyHostButLoopback) {
    NotifyConfig config = Valid();
    config.email.starttls = StartTls::kOff;
    const std::string error = ErrorOf(config);
    EXPECT_NE(error.find("starttls = \"off\" is refused for smtp://mail.example.com:587"), std::string::npos);
    EXPECT_NE(error.find("clear text"), std::string::npos);
    for (const char* loopback :
         {"smtp://127.0.0.1:2525", "smtp://localhost:25", "smtp://[::1]:25", "smtp://127.1.2.3:25"}) {
        config.email.smtp_url = loopback;
        EXPECT_EQ(ErrorOf(config), "") << loopback;
    }
    config.email.smtp_url = "smtp://127.0.0.1.example.com:25";
    EXPECT_NE(ErrorOf(config), "");
}

TEST(NotifyConfig, BadValuesAreNamedWithTheirKey) {
    NotifyConfig config = Valid();
    config.email.smtp_url = "http://mail.example.com";
    EXPECT_NE(ErrorOf(config).find("[notify.email] smtp_url"), std::string::npos);
    config = Valid();
    config.email.smtp_url = "smtp://user:hunter2-password@mail.example.com";
    EXPECT_NE(ErrorOf(config).find("must not contain a user name or password"), std::string::npos);
    EXPECT_EQ(ErrorOf(config).find("hunter2"), std::string::npos);
    config = Valid();
    config.email.from = "not an address";
    EXPECT_NE(ErrorOf(config).find("[notify.email] from"), std::string::npos);
    config = Valid();
    config.admin_emails.push_back("ops");
    EXPECT_NE(ErrorOf(config).find("[notify.admin] emails[1]"), std::string::npos);
    config = Valid();
    config.webhook.url = "ftp://hooks.example.com";
    EXPECT_NE(ErrorOf(config).find("[notify.webhook] url"), std::string::npos);
    config = Valid();
    config.dispatch.concurrency = 0;
    EXPECT_NE(ErrorOf(config).find("concurrency"), std::string::npos);
    config = Valid();
    config.retry.jitter = 2;
    EXPECT_NE(ErrorOf(config).find("jitter"), std::string::npos);
    config = Valid();
    config.dispatch.lease = config.webhook.timeout;  // a delivery could outlive its lease
    EXPECT_NE(ErrorOf(config).find("[notify.dispatch] lease_seconds"), std::string::npos);
    config.dispatch.lease = std::max(config.webhook.timeout, config.email.timeout) + core::Seconds(1);
    EXPECT_TRUE(ValidateNotifyConfig(config));
    config = Valid();
    core::Silence backwards;
    backwards.id = "s";
    backwards.starts_at = core::Timestamp(core::Seconds(10));
    backwards.ends_at = core::Timestamp(core::Seconds(5));
    config.silences.push_back(backwards);
    EXPECT_NE(ErrorOf(config).find("ends before it starts"), std::string::npos);
}

TEST(NotifyConfig, ABadWebhookSecretIsRefusedWithoutShowingIt) {
    NotifyConfig config = Valid();
    config.webhook.secrets = {kSecret, "whsec_c2hvcnQ="};  // "short": 5 bytes
    const std::string error = ErrorOf(config);
    EXPECT_NE(error.find("secret 2"), std::string::npos);
    EXPECT_EQ(error.find("c2hvcnQ"), std::string::npos);
    config.webhook.secrets = {"plain-text-secret-without-prefix"};
    EXPECT_EQ(ErrorOf(config).find("plain-text"), std::string::npos);
    EXPECT_NE(ErrorOf(config), "");
}

TEST(RedactUrl, KeepsSchemeHostAndPortOnly) {
    EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T0/B0/SECRET"), "https://hooks.slack.com");
    EXPECT_EQ(RedactUrl("https://user:pw@example.com:8443/p?q=1"), "https://example.com:8443");
    EXPECT_EQ(RedactUrl("smtp://[::1]:2525"), "smtp://[::1]:2525");
    EXPECT_EQ(RedactUrl("nonsense"), "(an unreadable URL)");
}

TEST(IsPlausibleEmail, AcceptsAddressesAndRefusesHeaderInjection) {
    EXPECT_TRUE(IsPlausibleEmail("dev@example.com"));
    EXPECT_TRUE(IsPlausibleEmail("first.last+tag@sub.example.co"));
    EXPECT_TRUE(IsPlausibleEmail("root@localhost"));
    for (const char* bad : {"", "dev", "@example.com", "dev@", "dev@@example.com", "a b@example.com",
                            "dev@example.com\r\nBcc: x@y", "<dev@example.com>"}) {
        EXPECT_FALSE(IsPlausibleEmail(bad)) << bad;
    }
}

TEST(OutboxPlanner, RowsCarryDecodablePayloadsAndTheSameKeysWhenPlannedTwice) {
    const OutboxPlanner planner(Valid());
    const core::NotifyEvent event = test::SampleEvent();
    const core::Timestamp now = event.at + core::Seconds(2);
    const PlannedOutbox first = planner.Plan(event, now);
    const PlannedOutbox again = planner.Plan(event, now + core::Seconds(30));
    ASSERT_EQ(first.messages.size(), 3u);
    ASSERT_EQ(again.messages.size(), 3u);
    for (std::size_t i = 0; i < first.messages.size(); ++i) {
        const store::OutboxMessage& m = first.messages[i];
        EXPECT_EQ(m.dedup_key, again.messages[i].dedup_key);
        EXPECT_NE(m.id, again.messages[i].id);  // fresh row ids; the store keeps one row per key
        EXPECT_EQ(m.created_at, now);
        EXPECT_EQ(m.channel, first.plan.deliveries[i].channel);
        const auto payload = DecodePayload(m.payload);
        ASSERT_TRUE(payload) << payload.error().message;
        EXPECT_EQ(payload->event, event);
        EXPECT_EQ(payload->recipient, first.plan.deliveries[i].recipient);
    }
}

TEST(OutboxPlanner, UsesTheConfiguredReminderPolicy) {
    NotifyConfig config = Valid();
    config.reminders.repeat_every = std::chrono::hours(6);
    const OutboxPlanner planner(config);
    const core::Timestamp since = test::SampleEvent().at;
    EXPECT_EQ(planner.DueReminder(core::NotifyEventType::kDeploymentFailed, since, since + std::chrono::hours(13)), 2);
    EXPECT_EQ(OutboxPlanner(Valid()).DueReminder(core::NotifyEventType::kDeploymentFailed, since,
                                                 since + std::chrono::hours(13)),
              0);
}

}  // namespace
}  // namespace railwatch::notify
