#include "notify/payload.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify/webhook_format.hpp"

namespace railwatch::notify {
namespace {

using nlohmann::json;

core::NotifyEvent SampleEvent() {
    core::NotifyEvent event;
    event.type = core::NotifyEventType::kDeploymentFailed;
    event.at = core::Timestamp(core::Seconds(1'800'000'000) + core::Millis(123));
    event.instance_id = "ins_1";
    event.project_name = "shop <api> & co";
    event.service_id = "svc-1";
    event.environment_id = "env-1";
    event.deployment_id = "dep-1";
    event.id = core::MakeEventId(event.type, event.instance_id, event.deployment_id, event.at);
    event.user = core::NotifyUser{"usr_1", "dev@example.com", "Dev"};
    event.error_class = core::ErrorClass::kConfiguration;
    event.message = "missing environment variable DATABASE_URL";
    event.evidence = "Error: DATABASE_URL is not set";
    event.next_step = "set DATABASE_URL in the service's variables";
    event.links = {{"Dashboard", "http://127.0.0.1:8080/instances/ins_1"}};
    return event;
}

TEST(Payload, RoundTripsEveryField) {
    OutboxPayload payload{SampleEvent(), core::NotifyRoute::kUserEmail, "dev@example.com"};
    payload.event.reminder = 2;
    payload.event.title = "custom";
    const auto back = DecodePayload(EncodePayload(payload));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, payload);
}

TEST(Payload, RoundTripsAnEventWithNothingOptional) {
    OutboxPayload payload;
    payload.event.id = "evt";
    payload.event.type = core::NotifyEventType::kTokenInvalid;
    payload.recipient = "webhook";
    const auto back = DecodePayload(EncodePayload(payload));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, payload);
}

TEST(Payload, DocumentedShape) {
    const json doc = json::parse(EncodePayload({SampleEvent(), core::NotifyRoute::kWebhook, "webhook"}));
    EXPECT_EQ(doc["version"], 1);
    EXPECT_EQ(doc["route"], "webhook");
    EXPECT_EQ(doc["recipient"], "webhook");
    EXPECT_EQ(doc["event"]["type"], "deployment_failed");
    EXPECT_EQ(doc["event"]["at"], "2027-01-15T08:00:00.123000000Z");
    EXPECT_EQ(doc["event"]["instance"]["project_name"], "shop <api> & co");
    EXPECT_EQ(doc["event"]["error_class"], "CONFIGURATION");
    EXPECT_EQ(doc["event"]["user"]["email"], "dev@example.com");
}

TEST(Payload, UnknownVersionsAndGarbageAreParseErrorsAPersonCanRead) {
    auto newer = DecodePayload(R"({"version":2,"route":"webhook","recipient":"webhook","event":{}})");
    ASSERT_FALSE(newer);
    EXPECT_EQ(newer.error().code, util::ErrorCode::kParse);
    EXPECT_NE(newer.error().message.find("version 2"), std::string::npos);
    EXPECT_FALSE(DecodePayload("not json"));
    EXPECT_FALSE(DecodePayload(R"({"version":1,"route":"sms","recipient":"x","event":{}})"));
}

TEST(EventDataJson, NeverCarriesTheUsersEmail) {
    const json data = json::parse(EventDataJson(SampleEvent()));
    EXPECT_EQ(data["user"]["id"], "usr_1");
    EXPECT_FALSE(data["user"].contains("email"));
    EXPECT_EQ(data["next_step"], "set DATABASE_URL in the service's variables");
}

TEST(CleanText, KeepsValidUtf8ReplacesBrokenBytesAndControlCharacters) {
    EXPECT_EQ(CleanText("caf\u00e9 ok", 100), "caf\u00e9 ok");
    EXPECT_EQ(CleanText(std::string("a\xff\xc3(b", 5), 100),
              "a?"
              "?(b");
    EXPECT_EQ(CleanText("line1\nline2\r\x01", 100), "line1 line2  ");
    EXPECT_EQ(CleanText(std::string("\xed\xa0\x80", 3), 100), "???");  // a UTF-16 surrogate
    const std::string cut = CleanText(std::string(50, 'x'), 10);
    EXPECT_LE(cut.size(), 10u);
    EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
}

TEST(WebhookFormat, StandardIsTheStandardWebhooksEnvelope) {
    const json body = json::parse(RenderWebhookBody(SampleEvent(), WebhookFormat::kStandard));
    EXPECT_EQ(body["type"], "deployment_failed");
    EXPECT_EQ(body["timestamp"], "2027-01-15T08:00:00.123Z");
    const json& data = body["data"];
    EXPECT_EQ(data["id"], SampleEvent().id);
    EXPECT_EQ(data["title"], "Deployment failed");
    EXPECT_EQ(data["instance"]["id"], "ins_1");
    EXPECT_EQ(data["deployment_id"], "dep-1");
    EXPECT_EQ(data["error_class"], "CONFIGURATION");
    EXPECT_EQ(data["message"], "missing environment variable DATABASE_URL");
    EXPECT_EQ(data["evidence"], "Error: DATABASE_URL is not set");
    EXPECT_EQ(data["next_step"], "set DATABASE_URL in the service's variables");
    EXPECT_EQ(data["links"][0]["url"], "http://127.0.0.1:8080/instances/ins_1");
}

TEST(WebhookFormat, BodiesAreDeterministic) {
    for (const auto format : {WebhookFormat::kStandard, WebhookFormat::kSlack, WebhookFormat::kDiscord}) {
        EXPECT_EQ(RenderWebhookBody(SampleEvent(), format), RenderWebhookBody(SampleEvent(), format));
    }
}

TEST(WebhookFormat, SlackEscapesControlCharactersSoNobodyGetsMentioned) {
    core::NotifyEvent event = SampleEvent();
    event.message = "<!channel> deploy failed & <@U123>";
    const json body = json::parse(RenderWebhookBody(event, WebhookFormat::kSlack));
    const std::string text = body["text"];
    EXPECT_EQ(text.find("<!channel>"), std::string::npos);
    EXPECT_NE(text.find("&lt;!channel&gt; deploy failed &amp; &lt;@U123&gt;"), std::string::npos);
    ASSERT_TRUE(body["blocks"].is_array());
    EXPECT_EQ(body["blocks"][0]["type"], "header");
    EXPECT_EQ(body["blocks"][0]["text"]["text"], "Deployment failed");
    const std::string dumped = body.dump();
    EXPECT_NE(dumped.find("<http://127.0.0.1:8080/instances/ins_1|Dashboard>"), std::string::npos);
    EXPECT_NE(dumped.find("shop &lt;api&gt; &amp; co"), std::string::npos);
}

TEST(WebhookFormat, DiscordHasOneEmbedAllowsNoMentionsAndRespectsLimits) {
    core::NotifyEvent event = SampleEvent();
    event.message = std::string(10'000, 'm');
    event.evidence = std::string(5'000, 'e');
    for (int i = 0; i < 10; ++i)
        event.links.push_back({"link", "http://example.com/" + std::string(500, 'l')});
    const json body = json::parse(RenderWebhookBody(event, WebhookFormat::kDiscord));
    EXPECT_TRUE(body["allowed_mentions"]["parse"].empty());
    ASSERT_EQ(body["embeds"].size(), 1u);
    const json& embed = body["embeds"][0];
    std::size_t total = embed["title"].get<std::string>().size() + embed["description"].get<std::string>().size();
    EXPECT_LE(embed["fields"].size(), 25u);
    for (const json& field : embed["fields"]) {
        EXPECT_LE(field["value"].get<std::string>().size(), 1024u);
        total += field["name"].get<std::string>().size() + field["value"].get<std::string>().size();
    }
    EXPECT_LE(total, 6000u);
    EXPECT_LE(body["content"].get<std::string>().size(), 2000u);
    EXPECT_EQ(embed["color"], 0xD93F3F);
}

}  // namespace
}  // namespace railwatch::notify
