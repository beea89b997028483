#include "notify/notifier.hpp"

#include <gtest/gtest.h>

#include "fakes/scripted_transport.hpp"
#include "notify_fakes.hpp"
#include "test_rows.hpp"

namespace railwatch::notify {
namespace {

NotifyConfig WebhookOnly() {
    NotifyConfig config;
    config.webhook.url = "https://hooks.example.com/railwatch";
    return config;
}

TEST(Notifier, RefusesAnInvalidConfiguration) {
    test::FakeOutboxStore store;
    fakes::ScriptedTransport http;
    util::FakeClock clock;
    NotifyConfig config;
    config.email.smtp_url = "smtp://mail.example.com:587";
    config.email.from = "railwatch@example.com";
    config.email.starttls = StartTls::kOff;
    const auto notifier = Notifier::Create(config, store, store, http, clock);
    ASSERT_FALSE(notifier);
    EXPECT_NE(notifier.error().message.find("starttls"), std::string::npos);
}

TEST(Notifier, EnqueuesAnEventOnceAndDeliversItOverTheConfiguredChannels) {
    test::FakeOutboxStore store;
    store.AddUser("usr_1");
    fakes::ScriptedTransport http;
    http.AnswerEvery(204);
    util::FakeClock clock;
    auto notifier = std::move(Notifier::Create(WebhookOnly(), store, store, http, clock).value());
    const core::NotifyEvent event = test::SampleEvent();
    EXPECT_EQ(notifier->Enqueue(event).value(), 2);  // in_app + webhook; email is not configured
    EXPECT_EQ(notifier->Enqueue(event).value(), 0);  // the same event again: nothing new
    EXPECT_EQ(notifier->dispatcher().RunOnce(), 2);
    EXPECT_EQ(store.CountStatus(store::OutboxStatus::kSent), 2);
    EXPECT_EQ(http.request_count(), 1u);
    EXPECT_EQ(store.Inbox().size(), 1u);
}

TEST(Notifier, TakesDispatchAndRetrySettingsFromTheConfig) {
    NotifyConfig config;
    config.dispatch.concurrency = 3;
    config.dispatch.poll_interval = core::Seconds(7);
    config.retry.delays = {core::Seconds(1)};
    config.retry.max_attempts = 2;
    const DispatcherOptions options = DispatcherOptionsFrom(config);
    EXPECT_EQ(options.concurrency, 3);
    EXPECT_EQ(options.poll_interval, core::Seconds(7));
    EXPECT_EQ(core::MaxAttempts(options.retry), 2);
}

}  // namespace
}  // namespace railwatch::notify
