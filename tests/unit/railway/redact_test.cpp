#include <gtest/gtest.h>

#include "railway/api_error.hpp"

namespace railwatch::railway {
namespace {

TEST(Redact, ReplacesEveryOccurrenceOfTheToken) {
    const std::string token = "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab";
    EXPECT_EQ(Redact("Bearer " + token + " and again " + token, token), "Bearer [redacted] and again [redacted]");
}

TEST(Redact, LeavesTextAloneForAnEmptyOrTooShortSecret) {
    EXPECT_EQ(Redact("check the network, a proxy or RAILWAY_API_URL", ""),
              "check the network, a proxy or RAILWAY_API_URL");
    EXPECT_EQ(Redact("check the network, a proxy or RAILWAY_API_URL", "x"),
              "check the network, a proxy or RAILWAY_API_URL");
}

TEST(Redact, TheShortestRedactedSecretIsStillFound) {
    const std::string secret(kMinRedactedSecretSize, 'q');
    EXPECT_EQ(Redact("a" + secret + "b", secret), "a[redacted]b");
}

TEST(RedactedExcerpt, ATokenAcrossTheCutIsRedactedBeforeTheCut) {
    const std::string token = "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab";
    const std::string text = std::string(20, 'x') + token + " and more";
    // Cutting first would leave "6f1c2d3e-a" where Redact no longer finds the whole token.
    EXPECT_NE(Redact(Excerpt(text, 30), token).find("6f1c2d3e"), std::string::npos);
    const std::string safe = RedactedExcerpt(text, token, 30);
    EXPECT_EQ(safe.find("6f1c"), std::string::npos);
    EXPECT_EQ(safe.rfind(std::string(20, 'x'), 0), 0u);
}

}  // namespace
}  // namespace railwatch::railway
