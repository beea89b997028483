#include <gtest/gtest.h>

#include "notify/email_channel.hpp"
#include "notify/email_message.hpp"
#include "notify/signing.hpp"
#include "notify_fakes.hpp"
#include "test_rows.hpp"
#include "util/base64.hpp"

namespace railwatch::notify {
namespace {

using core::DeliveryVerdict;
using test::RowFor;
using test::SampleEvent;

// The base64 body of the part whose Content-Type starts with `type`, decoded.
std::string PartBody(const std::string& message, std::string_view type) {
    const auto header = message.find("Content-Type: " + std::string(type));
    if (header == std::string::npos) return {};
    const auto start = message.find("\r\n\r\n", header) + 4;
    const auto end = message.find("\r\n--", start);
    std::string b64;
    for (std::size_t i = start; i < end; ++i) {
        if (message[i] != '\r' && message[i] != '\n') b64 += message[i];
    }
    return util::Base64Decode(b64).value_or("(undecodable)");
}

// The value of header `name` (unfolded lines only), from the message's head.
std::string HeaderLine(const std::string& message, std::string_view name) {
    const std::string head = message.substr(0, message.find("\r\n\r\n") + 2);
    const std::string needle = std::string(name) + ": ";
    std::size_t at = head.rfind(needle, 0) == 0 ? 0 : head.find("\r\n" + needle);
    if (at == std::string::npos) return {};
    if (at != 0) at += 2;
    at += needle.size();
    return head.substr(at, head.find("\r\n", at) - at);
}

EmailConfig Config() {
    EmailConfig config;
    config.smtp_url = "smtp://127.0.0.1:2525";
    config.from = "railwatch@example.com";
    return config;
}

TEST(EmailMessage, HasTheHeadersAMailClientNeeds) {
    const std::string message =
        BuildMimeMessage(RenderEmail(SampleEvent()), "railwatch@example.com", "dev@example.com",
                         MessageIdFor("key", "railwatch@example.com"), SampleEvent().at, "deployment_failed");
    EXPECT_EQ(message.rfind("From: railwatch@example.com\r\n", 0), 0u);
    EXPECT_EQ(HeaderLine(message, "To"), "dev@example.com");
    EXPECT_EQ(HeaderLine(message, "Subject"), "[railwatch] Deployment failed: shop");
    EXPECT_EQ(HeaderLine(message, "Date"), "Fri, 15 Jan 2027 08:00:00 +0000");
    EXPECT_EQ(HeaderLine(message, "Message-ID"), MessageIdFor("key", "railwatch@example.com"));
    EXPECT_EQ(HeaderLine(message, "MIME-Version"), "1.0");
    EXPECT_EQ(HeaderLine(message, "Auto-Submitted"), "auto-generated");
    EXPECT_NE(HeaderLine(message, "Content-Type").find("multipart/alternative; boundary="), std::string::npos);
    // Every line fits SMTP's limit and ends in CRLF.
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < message.size(); ++i) {
        if (message[i] == '\n') {
            EXPECT_GT(i, 0u);
            EXPECT_EQ(message[i - 1], '\r');
            EXPECT_LE(i - line_start, 998u);
            line_start = i + 1;
        }
    }
}

TEST(EmailMessage, TextAndHtmlBodiesCarryEveryFactAndHtmlIsEscaped) {
    core::NotifyEvent event = SampleEvent();
    event.project_name = "shop <script>";
    const std::string message = BuildMimeMessage(RenderEmail(event), "railwatch@example.com", "dev@example.com",
                                                 "<id@example.com>", event.at, "deployment_failed");
    const std::string text = PartBody(message, "text/plain");
    const std::string html = PartBody(message, "text/html");
    for (const std::string& part : {text, html}) {
        EXPECT_NE(part.find("Deployment failed"), std::string::npos);
        EXPECT_NE(part.find("missing environment variable DATABASE_URL"), std::string::npos);
        EXPECT_NE(part.find("Error: DATABASE_URL is not set"), std::string::npos);
        EXPECT_NE(part.find("set DATABASE_URL in the service"), std::string::npos);
        EXPECT_NE(part.find("dep-1"), std::string::npos);
        EXPECT_NE(part.find("CONFIGURATION"), std::string::npos);
        EXPECT_NE(part.find("http://127.0.0.1:8080/instances/ins_1"), std::string::npos);
    }
    EXPECT_NE(text.find("Project: shop <script>"), std::string::npos);
    EXPECT_NE(html.find("shop &lt;script&gt;"), std::string::npos);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
}

TEST(EmailMessage, NonAsciiSubjectsAreEncodedWordsAndHeadersCannotBeInjected) {
    EXPECT_EQ(EncodeHeaderValue("plain"), "plain");
    const std::string encoded = EncodeHeaderValue("D\u00e9ploiement \u00e9chou\u00e9");
    EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
    EXPECT_EQ(encoded.find('\n'), std::string::npos);  // short: one word
    const std::string long_one = EncodeHeaderValue(std::string(40, 'x') + "\u00e9" + std::string(60, 'y'));
    EXPECT_NE(long_one.find("?=\r\n =?UTF-8?B?"), std::string::npos);  // folded into several words
    EXPECT_EQ(EncodeHeaderValue("x\r\nBcc: victim@example.com"), "x  Bcc: victim@example.com");
}

TEST(EmailMessage, MessageIdDerivesFromTheDedupKeyAndTheSendersDomain) {
    const std::string id = MessageIdFor("evt|email|dev@example.com", "alerts@corp.example");
    EXPECT_EQ(id, MessageIdFor("evt|email|dev@example.com", "alerts@corp.example"));
    EXPECT_NE(id, MessageIdFor("evt|email|ops@example.com", "alerts@corp.example"));
    EXPECT_EQ(id.front(), '<');
    EXPECT_NE(id.find("@corp.example>"), std::string::npos);
}

TEST(EmailMessage, TemplatesReplaceKnownNamesOnly) {
    EXPECT_EQ(RenderTemplate("a {{x}} b {{y}} {{", {{"x", "1"}}), "a 1 b  {{");
}

TEST(EmailChannel, SendsOneMessageToTheRowsRecipient) {
    test::FakeMailTransport transport;
    EmailChannel channel(Config(), transport);
    const store::OutboxRow row = RowFor(SampleEvent(), core::NotifyRoute::kUserEmail, "dev@example.com");
    EXPECT_TRUE(channel.Deliver(row).accepted());
    const auto sent = transport.sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].from, "railwatch@example.com");
    EXPECT_EQ(sent[0].recipients, std::vector<std::string>{"dev@example.com"});
    EXPECT_EQ(HeaderLine(sent[0].data, "Message-ID"), MessageIdFor(row.message.dedup_key, "railwatch@example.com"));
}

TEST(EmailChannel, ARetrySendsTheSameBytes) {
    test::FakeMailTransport transport;
    transport.Push(DeliveryOutcome::Retry("SMTP 451 (a temporary failure)"));
    EmailChannel channel(Config(), transport);
    const store::OutboxRow row = RowFor(SampleEvent(), core::NotifyRoute::kAdminEmail, "ops@example.com");
    EXPECT_EQ(channel.Deliver(row).verdict, DeliveryVerdict::kRetry);
    EXPECT_TRUE(channel.Deliver(row).accepted());
    const auto sent = transport.sent();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].data, sent[1].data);
}

TEST(EmailChannel, ARecipientThatIsNotAnAddressFailsPermanently) {
    test::FakeMailTransport transport;
    EmailChannel channel(Config(), transport);
    const DeliveryOutcome outcome =
        channel.Deliver(RowFor(SampleEvent(), core::NotifyRoute::kUserEmail, "dev@example.com\r\nBcc: x@y"));
    EXPECT_EQ(outcome.verdict, DeliveryVerdict::kPermanent);
    EXPECT_TRUE(transport.sent().empty());
}

TEST(EmailChannel, PassesTheTransportsVerdictThrough) {
    test::FakeMailTransport transport;
    transport.Push(DeliveryOutcome::Permanent("SMTP 550 (the server refused this message for good)"));
    EmailChannel channel(Config(), transport);
    EXPECT_EQ(channel.Deliver(RowFor(SampleEvent(), core::NotifyRoute::kUserEmail, "dev@example.com")).verdict,
              DeliveryVerdict::kPermanent);
}

}  // namespace
}  // namespace railwatch::notify
