#include "notify/webhook_channel.hpp"

#include <gtest/gtest.h>

#include "fakes/scripted_transport.hpp"
#include "notify_fakes.hpp"
#include "test_rows.hpp"
#include "util/base64.hpp"

namespace railwatch::notify {
namespace {

using core::DeliveryVerdict;
using test::RowFor;
using test::SampleEvent;

const std::string kSecretKey(32, '\x07');
const std::string kSecret = "whsec_" + util::Base64Encode(kSecretKey);

struct Fixture {
    fakes::ScriptedTransport transport;
    util::FakeClock clock;
    std::unique_ptr<WebhookChannel> channel;

    explicit Fixture(std::string url = "https://hooks.example.com/railwatch",
                     std::vector<std::string> secrets = {kSecret}, WebhookFormat format = WebhookFormat::kStandard) {
        WebhookConfig config;
        config.url = std::move(url);
        config.secrets = std::move(secrets);
        config.format = format;
        auto made = WebhookChannel::Create(config, transport, clock);
        EXPECT_TRUE(made) << made.error().message;
        channel = std::move(*made);
    }
    store::OutboxRow Row() const { return RowFor(SampleEvent(), core::NotifyRoute::kWebhook, "webhook"); }
    net::HttpRequest Last() const { return transport.requests().back(); }
};

std::string HeaderOf(const net::HttpRequest& request, std::string_view name) {
    return std::string(net::FindHeader(request.headers, name).value_or(""));
}

TEST(WebhookChannel, PostsTheBodySignedPerStandardWebhooks) {
    Fixture f;
    f.transport.PushResponse(204, "");
    const store::OutboxRow row = f.Row();
    const DeliveryOutcome outcome = f.channel->Deliver(row);
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kAccepted) << outcome.detail;

    const net::HttpRequest request = f.Last();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, "https://hooks.example.com/railwatch");
    EXPECT_EQ(request.timeout, core::Seconds(15));
    EXPECT_EQ(HeaderOf(request, "content-type"), "application/json");
    const std::string id = HeaderOf(request, "webhook-id");
    EXPECT_EQ(id, WebhookMessageId(row.message.dedup_key));
    const std::string timestamp = HeaderOf(request, "webhook-timestamp");
    EXPECT_EQ(
        timestamp,
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(f.clock.Now().time_since_epoch()).count()));
    // Recomputed from the decoded key bytes: "v1," + base64(HMAC-SHA256(key, id.timestamp.body)).
    EXPECT_EQ(HeaderOf(request, "webhook-signature"),
              "v1," + util::Base64Encode(HmacSha256(kSecretKey, id + "." + timestamp + "." + request.body)));
}

TEST(WebhookChannel, ARetryKeepsTheIdAndBodyWithAFreshTimestampAndSignature) {
    Fixture f;
    f.transport.PushResponse(500, "boom");
    f.transport.PushResponse(200, "ok");
    const store::OutboxRow row = f.Row();
    EXPECT_EQ(f.channel->Deliver(row).verdict, DeliveryVerdict::kRetry);
    f.clock.Advance(core::Seconds(5));
    EXPECT_EQ(f.channel->Deliver(row).verdict, DeliveryVerdict::kAccepted);
    const auto requests = f.transport.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(HeaderOf(requests[0], "webhook-id"), HeaderOf(requests[1], "webhook-id"));
    EXPECT_EQ(requests[0].body, requests[1].body);
    EXPECT_NE(HeaderOf(requests[0], "webhook-timestamp"), HeaderOf(requests[1], "webhook-timestamp"));
    EXPECT_NE(HeaderOf(requests[0], "webhook-signature"), HeaderOf(requests[1], "webhook-signature"));
}

TEST(WebhookChannel, TwoSecretsSendTwoSignatures) {
    const std::string other_key(24, '\x33');
    Fixture f("https://hooks.example.com/x", {kSecret, "whsec_" + util::Base64Encode(other_key)});
    f.transport.PushResponse(200, "");
    f.channel->Deliver(f.Row());
    const net::HttpRequest request = f.Last();
    const std::string signed_content =
        HeaderOf(request, "webhook-id") + "." + HeaderOf(request, "webhook-timestamp") + "." + request.body;
    EXPECT_EQ(HeaderOf(request, "webhook-signature"),
              "v1," + util::Base64Encode(HmacSha256(kSecretKey, signed_content)) + " v1," +
                  util::Base64Encode(HmacSha256(other_key, signed_content)));
}

TEST(WebhookChannel, WithoutSecretsRequestsCarryNoSignature) {
    Fixture f("https://hooks.slack.com/services/T/B/x", {}, WebhookFormat::kSlack);
    f.transport.PushResponse(200, "ok");
    EXPECT_TRUE(f.channel->Deliver(f.Row()).accepted());
    EXPECT_FALSE(net::FindHeader(f.Last().headers, "webhook-signature"));
    EXPECT_FALSE(HeaderOf(f.Last(), "webhook-id").empty());
}

TEST(WebhookChannel, RedirectsAreFailuresAndNotFollowed) {
    Fixture f;
    f.transport.PushResponse(301, "", {{"Location", "https://elsewhere.example.com/"}});
    const DeliveryOutcome outcome = f.channel->Deliver(f.Row());
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kRetry);
    EXPECT_NE(outcome.detail.find("301"), std::string::npos);
    EXPECT_NE(outcome.detail.find("redirects are not followed"), std::string::npos);
    EXPECT_EQ(f.transport.request_count(), 1u);
}

TEST(WebhookChannel, GoneDisablesTheEndpointForGood) {
    Fixture f;
    f.transport.PushResponse(410, "endpoint deleted");
    const DeliveryOutcome first = f.channel->Deliver(f.Row());
    EXPECT_EQ(first.verdict, DeliveryVerdict::kPermanent);
    EXPECT_TRUE(f.channel->disabled());
    const DeliveryOutcome later = f.channel->Deliver(f.Row());
    EXPECT_EQ(later.verdict, DeliveryVerdict::kPermanent);
    EXPECT_NE(later.detail.find("410 Gone"), std::string::npos);
    EXPECT_EQ(f.transport.request_count(), 1u);  // nothing more was sent
}

TEST(WebhookChannel, EnableSendsAgainAfterAGone) {
    Fixture f;
    f.transport.PushResponse(410, "endpoint deleted");
    EXPECT_EQ(f.channel->Deliver(f.Row()).verdict, DeliveryVerdict::kPermanent);
    ASSERT_TRUE(f.channel->disabled());
    f.channel->Enable();
    EXPECT_FALSE(f.channel->disabled());
    f.transport.PushResponse(200, "ok");
    EXPECT_EQ(f.channel->Deliver(f.Row()).verdict, DeliveryVerdict::kAccepted);
    EXPECT_EQ(f.transport.request_count(), 2u);
    f.channel->Enable();  // idempotent
    EXPECT_FALSE(f.channel->disabled());
}

TEST(WebhookChannel, GoneIsRememberedByTheEndpointStoreAcrossRestarts) {
    const std::string url = "https://hooks.slack.com/services/T0001/B0002/SECRETPATH";
    test::FakeOutboxStore endpoints;
    WebhookConfig config;
    config.url = url;
    fakes::ScriptedTransport transport;
    util::FakeClock clock;
    {
        auto first = std::move(WebhookChannel::Create(config, transport, clock, &endpoints).value());
        EXPECT_FALSE(first->disabled());
        transport.PushResponse(410, "gone");
        EXPECT_EQ(first->Deliver(RowFor(SampleEvent(), core::NotifyRoute::kWebhook, "webhook")).verdict,
                  DeliveryVerdict::kPermanent);
    }
    const auto stored = endpoints.ListDisabledEndpoints().value();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].channel, "webhook");
    EXPECT_EQ(stored[0].disabled_at, clock.Now());
    EXPECT_EQ(stored[0].key.find("SECRETPATH"), std::string::npos);
    EXPECT_EQ(stored[0].reason.find("SECRETPATH"), std::string::npos);
    EXPECT_NE(stored[0].reason.find("410 Gone"), std::string::npos);

    // "After a restart": a new channel on the same store and URL sends nothing.
    auto second = std::move(WebhookChannel::Create(config, transport, clock, &endpoints).value());
    EXPECT_TRUE(second->disabled());
    EXPECT_EQ(second->endpoint_key(), stored[0].key);
    const DeliveryOutcome later = second->Deliver(RowFor(SampleEvent(), core::NotifyRoute::kWebhook, "webhook"));
    EXPECT_EQ(later.verdict, DeliveryVerdict::kPermanent);
    EXPECT_NE(later.detail.find("410 Gone"), std::string::npos);
    EXPECT_EQ(transport.request_count(), 1u);

    // A fixed URL is another endpoint: enabled.
    config.url = "https://hooks.slack.com/services/T0001/B0002/NEWSECRET";
    auto fixed = std::move(WebhookChannel::Create(config, transport, clock, &endpoints).value());
    EXPECT_FALSE(fixed->disabled());
    EXPECT_NE(fixed->endpoint_key(), stored[0].key);
}

TEST(WebhookChannel, RateLimitsAndGatewayErrorsCarryRetryAfter) {
    Fixture f;
    f.transport.PushResponse(429, "", {{"Retry-After", "120"}});
    f.transport.PushResponse(503, "", {{"retry-after", "7"}});
    f.transport.PushResponse(500, "", {{"Retry-After", "99"}});
    const DeliveryOutcome limited = f.channel->Deliver(f.Row());
    EXPECT_EQ(limited.verdict, DeliveryVerdict::kRetry);
    EXPECT_EQ(limited.retry_after, core::Seconds(120));
    EXPECT_EQ(f.channel->Deliver(f.Row()).retry_after, core::Seconds(7));
    EXPECT_FALSE(f.channel->Deliver(f.Row()).retry_after);  // a plain 500 does not ask to wait
}

TEST(WebhookChannel, TransportFailuresAreRetried) {
    Fixture f;
    f.transport.PushError(core::TransportErrorKind::kConnect, "connection refused");
    f.transport.PushError(core::TransportErrorKind::kTimeout, "timed out after 15000 ms");
    EXPECT_EQ(f.channel->Deliver(f.Row()).verdict, DeliveryVerdict::kRetry);
    const DeliveryOutcome timeout = f.channel->Deliver(f.Row());
    EXPECT_EQ(timeout.verdict, DeliveryVerdict::kRetry);
    EXPECT_NE(timeout.detail.find("timeout"), std::string::npos);
}

TEST(WebhookChannel, DetailsNeverShowTheUrlsPathQueryOrTheSecret) {
    const std::string url = "https://hooks.example.com/services/T0001/B0002/SECRETPATH?token=QUERYSECRET";
    Fixture f(url);
    f.transport.PushError(core::TransportErrorKind::kConnect,
                          "POST https://hooks.example.com/services/T0001/B0002/SECRETPATH failed: refused");
    f.transport.PushResponse(500, "failed for " + url);
    f.transport.PushResponse(410, "");
    for (int i = 0; i < 4; ++i) {
        const DeliveryOutcome outcome = f.channel->Deliver(f.Row());
        EXPECT_EQ(outcome.detail.find("SECRETPATH"), std::string::npos) << outcome.detail;
        EXPECT_EQ(outcome.detail.find("QUERYSECRET"), std::string::npos) << outcome.detail;
        EXPECT_EQ(outcome.detail.find(kSecret.substr(6)), std::string::npos) << outcome.detail;
        EXPECT_NE(outcome.detail.find("hooks.example.com"), std::string::npos) << outcome.detail;
    }
}

TEST(WebhookChannel, AnUnreadablePayloadFailsPermanentlyWithoutARequest) {
    Fixture f;
    store::OutboxRow row = f.Row();
    row.message.payload = "{}";
    EXPECT_EQ(f.channel->Deliver(row).verdict, DeliveryVerdict::kPermanent);
    EXPECT_EQ(f.transport.request_count(), 0u);
}

TEST(WebhookChannel, RefusesAnUnusableUrlOrSecret) {
    fakes::ScriptedTransport transport;
    util::FakeClock clock;
    WebhookConfig config;
    config.url = "ftp://x";
    EXPECT_FALSE(WebhookChannel::Create(config, transport, clock));
    config.url = "https://x";
    config.secrets = {"whsec_%%%"};
    auto bad = WebhookChannel::Create(config, transport, clock);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message.find("%%%"), std::string::npos);
}

}  // namespace
}  // namespace railwatch::notify
