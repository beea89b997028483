// The channel conformance suite: the same behaviour is required of every channel, each wired to a
// real receiver on 127.0.0.1 — the webhook channel to a receiver that verifies Standard Webhooks
// signatures, the email channel to aiosmtpd (plain on loopback, and with STARTTLS + AUTH and a
// throw-away CA), the in-app channel to a SQLite inbox.

#include <gtest/gtest.h>

#include <functional>
#include <ostream>

#include "harness.hpp"
#include "net/curl_transport.hpp"
#include "notify/email_channel.hpp"
#include "notify/email_message.hpp"
#include "notify/in_app_channel.hpp"
#include "notify/payload.hpp"
#include "notify/signing.hpp"
#include "notify/webhook_channel.hpp"
#include "store/store.hpp"
#include "support/smtp_server.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace railwatch::notify::test {
namespace {

using core::DeliveryVerdict;
using railwatch::test::SmtpServer;
using railwatch::test::SmtpServerOptions;
using railwatch::test::TempDir;
using railwatch::test::TestCertificates;
using railwatch::test::WebhookReceiver;

core::NotifyEvent Event(const std::string& deployment = "dep-1") {
    core::NotifyEvent event;
    event.type = core::NotifyEventType::kDeploymentFailed;
    event.at = core::Timestamp(core::Seconds(1'800'000'000));
    event.instance_id = "ins_conformance";
    event.project_name = "shop";
    event.deployment_id = deployment;
    event.id = core::MakeEventId(event.type, event.instance_id, deployment, event.at);
    event.user = core::NotifyUser{"usr_1", "dev@example.com", "Dev"};
    event.error_class = core::ErrorClass::kConfiguration;
    event.message = "missing environment variable DATABASE_URL";
    event.evidence = "Error: DATABASE_URL is not set";
    event.next_step = "set DATABASE_URL in the service's variables";
    return event;
}

store::OutboxRow MakeRow(const core::NotifyEvent& event, core::NotifyRoute route, const std::string& recipient) {
    store::OutboxRow row;
    row.message.channel = std::string(core::ChannelOf(route));
    row.message.dedup_key = core::MakeDedupKey(event.id, event.reminder, row.message.channel, recipient);
    row.message.id = "out_" + core::StableHash128(row.message.dedup_key).substr(0, 16);
    row.message.payload = EncodePayload(OutboxPayload{event, route, recipient});
    row.message.created_at = event.at;
    row.attempts = 1;
    return row;
}

// --- webhook -----------------------------------------------------------------------------------

class WebhookHarness final : public ChannelHarness {
  public:
    WebhookHarness()
        : secret_("whsec_" + util::Base64Encode("conformance-webhook-secret-key-32")), receiver_({secret_}) {
        receiver_.Start();
        WebhookConfig config;
        config.url = receiver_.Url("/hooks/SECRETPATHTOKEN?token=QUERYTOKEN");
        config.secrets = {secret_};
        config.timeout = core::Seconds(10);
        channel_ = std::move(WebhookChannel::Create(config, transport_, clock_).value());
    }

    Channel& channel() override { return *channel_; }
    store::OutboxRow Row(const core::NotifyEvent& event) override {
        return MakeRow(event, core::NotifyRoute::kWebhook, "webhook");
    }
    store::OutboxRow RefusedRow(const core::NotifyEvent& event) override { return Row(event); }
    void RefuseNext() override { receiver_.AnswerWith(410); }
    void FailTransiently() override { receiver_.Stop(); }
    void Recover() override {
        receiver_.Start();
        receiver_.AnswerWith(200);
    }
    int CopiesReceived(const store::OutboxRow& row) override {
        EXPECT_EQ(receiver_.invalid_signatures(), 0u) << "the receiver could not verify a signature";
        const auto accepted = receiver_.AcceptedById();
        const auto it = accepted.find(WebhookMessageId(row.message.dedup_key));
        return it == accepted.end() ? 0 : it->second;
    }
    int TotalReceived() override { return static_cast<int>(receiver_.accepted()); }
    std::vector<std::string> Secrets() const override { return {secret_.substr(6), "SECRETPATHTOKEN", "QUERYTOKEN"}; }
    std::string ReceiverName() const override { return "127.0.0.1"; }

  private:
    std::string secret_;
    WebhookReceiver receiver_;
    net::CurlTransport transport_;
    util::SystemClock clock_;
    std::unique_ptr<WebhookChannel> channel_;
};

// --- email -------------------------------------------------------------------------------------

class EmailHarness final : public ChannelHarness {
  public:
    explicit EmailHarness(bool starttls) {
        SmtpServerOptions options;
        options.reject = {"nobody@example.com"};
        EmailConfig config;
        config.from = "railwatch@example.com";
        config.timeout = core::Seconds(20);
        if (starttls) {
            certificates_ = std::move(TestCertificates::Create().value());
            options.tls_cert = certificates_->server_cert();
            options.tls_key = certificates_->server_key();
            options.auth = "railwatch:SMTPPASSWORD-123";
            config.starttls = StartTls::kRequired;
            config.ca_file = certificates_->ca_cert();
            config.username = "railwatch";
            config.password = "SMTPPASSWORD-123";
        } else {
            config.starttls = StartTls::kOff;
        }
        auto server = SmtpServer::Start(options);
        if (!server) throw std::runtime_error(server.error().message);
        server_ = std::move(*server);
        config.smtp_url = server_->Url();
        transport_ = std::move(CurlMailTransport::Create(config).value());
        channel_ = std::make_unique<EmailChannel>(config, *transport_);
        starttls_ = starttls;
    }

    Channel& channel() override { return *channel_; }
    store::OutboxRow Row(const core::NotifyEvent& event) override {
        return MakeRow(event, core::NotifyRoute::kUserEmail, "dev@example.com");
    }
    store::OutboxRow RefusedRow(const core::NotifyEvent& event) override {
        return MakeRow(event, core::NotifyRoute::kAdminEmail, "nobody@example.com");
    }
    void FailTransiently() override { server_->Stop(); }
    void Recover() override { ASSERT_TRUE(server_->Restart()); }
    int CopiesReceived(const store::OutboxRow& row) override {
        const auto payload = DecodePayload(row.message.payload).value();
        const std::string id = MessageIdFor(row.message.dedup_key, from_);
        int copies = 0;
        for (const auto& message : server_->Messages()) {
            EXPECT_EQ(message.tls, starttls_);
            if (starttls_) {
                EXPECT_EQ(message.auth_user, "railwatch");
            }
            if (message.Header("Message-ID") == id) {
                EXPECT_EQ(message.rcpt_tos, std::vector<std::string>{payload.recipient});
                EXPECT_EQ(message.mail_from, from_);
                ++copies;
            }
        }
        return copies;
    }
    int TotalReceived() override { return static_cast<int>(server_->Messages().size()); }
    std::vector<std::string> Secrets() const override { return {"SMTPPASSWORD-123"}; }
    std::string ReceiverName() const override { return server_->Url(); }

  private:
    std::unique_ptr<TestCertificates> certificates_;
    std::unique_ptr<SmtpServer> server_;
    std::unique_ptr<CurlMailTransport> transport_;
    std::unique_ptr<EmailChannel> channel_;
    bool starttls_ = false;
    std::string from_ = "railwatch@example.com";
};

// --- in-app ------------------------------------------------------------------------------------

/// The real store's inbox, which the harness can make unavailable (as a database that is down).
class SwitchableInbox final : public InboxStore {
  public:
    explicit SwitchableInbox(InboxStore& inner) : inner_(inner) {}
    util::Result<bool> AddNotification(const store::Notification& notification) override {
        if (down_) return util::Fail(util::ErrorCode::kUnavailable, "the database is unreachable");
        return inner_.AddNotification(notification);
    }
    bool down_ = false;

  private:
    InboxStore& inner_;
};

class InAppHarness final : public ChannelHarness {
  public:
    InAppHarness() {
        store_ = std::move(store::OpenStore("sqlite:" + dir_.File("inbox.db")).value());
        store::User user;
        user.id = "usr_1";
        user.email = "dev@example.com";
        user.name = "Dev";
        if (!store_->CreateUser(user)) throw std::runtime_error("cannot create the test user");
        adapter_ = std::make_unique<StoreAdapter>(*store_, *store_);
        inbox_ = std::make_unique<SwitchableInbox>(*adapter_);
        channel_ = std::make_unique<InAppChannel>(*inbox_);
    }

    Channel& channel() override { return *channel_; }
    store::OutboxRow Row(const core::NotifyEvent& event) override {
        return MakeRow(event, core::NotifyRoute::kUserInApp, "usr_1");
    }
    store::OutboxRow RefusedRow(const core::NotifyEvent& event) override {
        return MakeRow(event, core::NotifyRoute::kUserInApp, "usr_missing");
    }
    void FailTransiently() override { inbox_->down_ = true; }
    void Recover() override { inbox_->down_ = false; }
    int CopiesReceived(const store::OutboxRow& row) override {
        const std::vector<store::Notification> inbox = store_->ListNotifications({}).value();
        int copies = 0;
        for (const auto& n : inbox)
            copies += n.id == InAppNotificationId(row.message.dedup_key) ? 1 : 0;
        return copies;
    }
    int TotalReceived() override { return static_cast<int>(store_->ListNotifications({}).value().size()); }
    std::vector<std::string> Secrets() const override { return {}; }
    std::string ReceiverName() const override { return "usr_"; }

  private:
    TempDir dir_{"railwatch-inbox-"};
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<StoreAdapter> adapter_;
    std::unique_ptr<SwitchableInbox> inbox_;
    std::unique_ptr<InAppChannel> channel_;
};

// --- the suite ---------------------------------------------------------------------------------

class ChannelConformance : public ::testing::TestWithParam<HarnessFactory> {
  protected:
    void SetUp() override { harness_ = GetParam().make(); }

    DeliveryOutcome Deliver(const store::OutboxRow& row) {
        DeliveryOutcome outcome = harness_->channel().Deliver(row);
        for (const std::string& secret : harness_->Secrets()) {
            EXPECT_EQ(outcome.detail.find(secret), std::string::npos)
                << "a delivery detail shows a secret: " << outcome.detail;
        }
        return outcome;
    }

    std::unique_ptr<ChannelHarness> harness_;
};

TEST_P(ChannelConformance, AcceptedMeansTheReceiverHoldsExactlyOneCopy) {
    const store::OutboxRow row = harness_->Row(Event());
    const DeliveryOutcome outcome = Deliver(row);
    ASSERT_EQ(outcome.verdict, DeliveryVerdict::kAccepted) << outcome.detail;
    EXPECT_EQ(harness_->CopiesReceived(row), 1);
    EXPECT_EQ(harness_->TotalReceived(), 1);
}

// Delivering a row again (a retry after a lost answer) sends a message with the same identity, so
// the receiver can tell it is the same: the inbox stores it once; a webhook consumer sees the same
// webhook-id and a mail client the same Message-ID twice.
TEST_P(ChannelConformance, DeliveringARowAgainCarriesTheSameIdentity) {
    const store::OutboxRow row = harness_->Row(Event());
    ASSERT_TRUE(Deliver(row).accepted());
    ASSERT_TRUE(Deliver(row).accepted());
    const int copies = harness_->CopiesReceived(row);
    EXPECT_GE(copies, 1);
    EXPECT_EQ(harness_->TotalReceived(), copies) << "the second attempt carried another identity";
    // Another event is another message.
    const store::OutboxRow other = harness_->Row(Event("dep-2"));
    ASSERT_TRUE(Deliver(other).accepted());
    EXPECT_EQ(harness_->CopiesReceived(other), 1);
    EXPECT_EQ(harness_->CopiesReceived(row), copies);
}

TEST_P(ChannelConformance, AReceiverThatIsDownGivesARetryableFailureNamingIt) {
    harness_->FailTransiently();
    const store::OutboxRow row = harness_->Row(Event());
    const DeliveryOutcome outcome = Deliver(row);
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kRetry) << outcome.detail;
    EXPECT_NE(outcome.detail.find(harness_->ReceiverName()), std::string::npos) << outcome.detail;
    EXPECT_EQ(harness_->CopiesReceived(row), 0);
}

TEST_P(ChannelConformance, AfterTheReceiverRecoversTheSameRowIsAccepted) {
    harness_->FailTransiently();
    const store::OutboxRow row = harness_->Row(Event());
    EXPECT_EQ(Deliver(row).verdict, DeliveryVerdict::kRetry);
    harness_->Recover();
    const DeliveryOutcome outcome = Deliver(row);
    EXPECT_TRUE(outcome.accepted()) << outcome.detail;
    EXPECT_EQ(harness_->CopiesReceived(row), 1);
}

TEST_P(ChannelConformance, ARefusalForGoodIsAPermanentFailure) {
    harness_->RefuseNext();
    const store::OutboxRow row = harness_->RefusedRow(Event());
    const DeliveryOutcome outcome = Deliver(row);
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kPermanent) << outcome.detail;
    EXPECT_FALSE(outcome.detail.empty());
    EXPECT_EQ(harness_->TotalReceived(), 0);
}

TEST_P(ChannelConformance, AnUnreadablePayloadIsAPermanentFailureAndNothingIsSent) {
    store::OutboxRow row = harness_->Row(Event());
    row.message.payload = "{\"version\": 1, \"truncated";
    const DeliveryOutcome outcome = Deliver(row);
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kPermanent) << outcome.detail;
    EXPECT_EQ(harness_->TotalReceived(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Channels, ChannelConformance,
    ::testing::Values(HarnessFactory{"Webhook", [] { return std::make_unique<WebhookHarness>(); }},
                      HarnessFactory{"EmailPlainLoopback", [] { return std::make_unique<EmailHarness>(false); }},
                      HarnessFactory{"EmailStartTls", [] { return std::make_unique<EmailHarness>(true); }},
                      HarnessFactory{"InApp", [] { return std::make_unique<InAppHarness>(); }}),
    [](const ::testing::TestParamInfo<HarnessFactory>& info) { return info.param.name; });

}  // namespace
}  // namespace railwatch::notify::test
