#include "notify/signing.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "util/base64.hpp"

namespace railwatch::notify {
namespace {

// The Standard Webhooks reference vector (standard-webhooks/standard-webhooks libraries' tests):
// secret, id, timestamp and body below must sign to exactly this value.
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
constexpr const char* kBody = R"({"test": 2432232314})";
constexpr const char* kExpected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(WebhookSigner, ReproducesTheStandardWebhooksReferenceVector) {
    auto signer = WebhookSigner::Create({kSecret});
    ASSERT_TRUE(signer) << signer.error().message;
    EXPECT_EQ(signer->Sign(kId, kTimestamp, kBody), kExpected);
}

TEST(WebhookSigner, TwoSecretsDuringARotationGiveTwoSignatures) {
    const std::string second = "whsec_" + util::Base64Encode(std::string(32, '\x42'));
    auto signer = WebhookSigner::Create({kSecret, second});
    ASSERT_TRUE(signer);
    const std::string header = signer->Sign(kId, kTimestamp, kBody);
    const auto space = header.find(' ');
    ASSERT_NE(space, std::string::npos);
    EXPECT_EQ(header.substr(0, space), kExpected);
    EXPECT_EQ(header.substr(space + 1),
              "v1," + util::Base64Encode(HmacSha256(
                          std::string(32, '\x42'), std::string(kId) + "." + std::to_string(kTimestamp) + "." + kBody)));
}

TEST(WebhookSigner, AnyChangeToIdTimestampOrBodyChangesTheSignature) {
    auto signer = WebhookSigner::Create({kSecret});
    ASSERT_TRUE(signer);
    const std::string base = signer->Sign(kId, kTimestamp, kBody);
    EXPECT_NE(signer->Sign("msg_other", kTimestamp, kBody), base);
    EXPECT_NE(signer->Sign(kId, kTimestamp + 1, kBody), base);
    EXPECT_NE(signer->Sign(kId, kTimestamp, R"({"test": 2432232315})"), base);
}

TEST(WebhookSigner, NoSecretsSignNothing) {
    auto signer = WebhookSigner::Create({});
    ASSERT_TRUE(signer);
    EXPECT_EQ(signer->key_count(), 0u);
    EXPECT_EQ(signer->Sign(kId, kTimestamp, kBody), "");
}

TEST(WebhookSigner, ABadSecretIsNamedByPositionNeverQuoted) {
    const std::string bad = "whsec_not*base64*secret";
    auto signer = WebhookSigner::Create({kSecret, bad});
    ASSERT_FALSE(signer);
    EXPECT_NE(signer.error().message.find("secret 2"), std::string::npos);
    EXPECT_EQ(signer.error().message.find("not*base64"), std::string::npos);
    auto unprefixed = WebhookSigner::Create({"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
    ASSERT_FALSE(unprefixed);
    EXPECT_EQ(unprefixed.error().message.find("MfKQ9r8"), std::string::npos);
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    const std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
    std::string hex;
    for (const unsigned char c : mac)
        hex += fmt::format("{:02x}", c);
    EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookMessageId, IsStablePerDedupKeyAndDistinctAcrossKeys) {
    const std::string id = WebhookMessageId("evt|webhook|webhook");
    EXPECT_EQ(id, WebhookMessageId("evt|webhook|webhook"));
    EXPECT_NE(id, WebhookMessageId("evt2|webhook|webhook"));
    EXPECT_EQ(id.rfind("msg_", 0), 0u);
    EXPECT_EQ(id.size(), 4u + 32u);
}

TEST(Sha256Hex, MatchesTheKnownDigestOfAbc) {
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace railwatch::notify
