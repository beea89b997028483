#include "core/notify_delivery.hpp"

#include <gtest/gtest.h>

namespace railwatch::core {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(ClassifyWebhookAnswer, TwoHundredsAreDelivered) {
    for (const int status : {200, 201, 202, 204, 299}) {
        EXPECT_EQ(ClassifyWebhookAnswer(status).verdict, DeliveryVerdict::kAccepted) << status;
    }
}

TEST(ClassifyWebhookAnswer, GoneIsPermanentAndDisablesTheEndpoint) {
    const AnswerVerdict v = ClassifyWebhookAnswer(410);
    EXPECT_EQ(v.verdict, DeliveryVerdict::kPermanent);
    EXPECT_TRUE(v.disable_endpoint);
}

TEST(ClassifyWebhookAnswer, RedirectsAreFailuresNotFollowed) {
    for (const int status : {301, 302, 307, 308}) {
        const AnswerVerdict v = ClassifyWebhookAnswer(status);
        EXPECT_EQ(v.verdict, DeliveryVerdict::kRetry) << status;
        EXPECT_NE(v.reason.find("redirects are not followed"), std::string::npos);
    }
}

TEST(ClassifyWebhookAnswer, RateLimitsAndGatewayErrorsHonourRetryAfter) {
    for (const int status : {429, 502, 503, 504}) {
        const AnswerVerdict v = ClassifyWebhookAnswer(status);
        EXPECT_EQ(v.verdict, DeliveryVerdict::kRetry) << status;
        EXPECT_TRUE(v.honour_retry_after) << status;
    }
    EXPECT_FALSE(ClassifyWebhookAnswer(500).honour_retry_after);
}

TEST(ClassifyWebhookAnswer, OtherFailuresAndTransportErrorsAreRetried) {
    for (const int status : {400, 401, 403, 404, 413, 500, 501, 100}) {
        const AnswerVerdict v = ClassifyWebhookAnswer(status);
        EXPECT_EQ(v.verdict, DeliveryVerdict::kRetry) << status;
        EXPECT_FALSE(v.disable_endpoint) << status;
    }
    for (const auto kind : {TransportErrorKind::kConnect, TransportErrorKind::kTimeout, TransportErrorKind::kTls,
                            TransportErrorKind::kReset, TransportErrorKind::kDns}) {
        EXPECT_EQ(ClassifyWebhookAnswer(0, kind).verdict, DeliveryVerdict::kRetry);
    }
}

TEST(ClassifySmtpReply, AcceptedTransientPermanentAndAuthentication) {
    EXPECT_EQ(ClassifySmtpReply(250).verdict, DeliveryVerdict::kAccepted);
    EXPECT_EQ(ClassifySmtpReply(421).verdict, DeliveryVerdict::kRetry);
    EXPECT_EQ(ClassifySmtpReply(451).verdict, DeliveryVerdict::kRetry);
    EXPECT_EQ(ClassifySmtpReply(550).verdict, DeliveryVerdict::kPermanent);
    EXPECT_EQ(ClassifySmtpReply(553).verdict, DeliveryVerdict::kPermanent);
    EXPECT_EQ(ClassifySmtpReply(554).verdict, DeliveryVerdict::kPermanent);
    for (const int auth : {530, 534, 535, 538}) {
        const AnswerVerdict v = ClassifySmtpReply(auth);
        EXPECT_EQ(v.verdict, DeliveryVerdict::kRetry) << auth;
        EXPECT_NE(v.reason.find("username"), std::string::npos);
    }
    EXPECT_EQ(ClassifySmtpReply(0).verdict, DeliveryVerdict::kRetry);
}

TEST(ParseRetryAfter, ReadsSecondsAndHttpDates) {
    const Timestamp now = Timestamp(std::chrono::sys_days{std::chrono::year{2026} / 10 / 21} + hours(7));
    EXPECT_EQ(ParseRetryAfter("120", now), Seconds(120));
    EXPECT_EQ(ParseRetryAfter(" 0 ", now), Seconds(0));
    EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", now), minutes(28));
    EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2026 06:00:00 GMT", now), Seconds(0));  // in the past
    EXPECT_EQ(ParseRetryAfter("99999999999999", now), Seconds(365LL * 24 * 3600));
    EXPECT_FALSE(ParseRetryAfter("", now));
    EXPECT_FALSE(ParseRetryAfter("-5", now));
    EXPECT_FALSE(ParseRetryAfter("soon", now));
    EXPECT_FALSE(ParseRetryAfter("Wed, 32 Oct 2026 07:28:00 GMT", now));
}

TEST(DeliveryRetryPolicy, TheDefaultIsStandardWebhooksScheduleWithTenAttempts) {
    const DeliveryRetryPolicy policy;
    EXPECT_EQ(MaxAttempts(policy), 10);
    const std::vector<Duration> expected{Seconds(5), minutes(5), minutes(30), hours(2), hours(5),
                                         hours(10),  hours(14),  hours(20),   hours(24)};
    EXPECT_EQ(StandardWebhooksSchedule(), expected);
    // unit_random 0.5 is the middle of the jitter band: the schedule itself.
    for (int attempts = 1; attempts < 10; ++attempts) {
        EXPECT_EQ(NextDeliveryDelay(policy, attempts, 0.5), expected[static_cast<std::size_t>(attempts - 1)])
            << attempts;
    }
    EXPECT_FALSE(NextDeliveryDelay(policy, 10, 0.5));  // dead-letter after the tenth attempt
    EXPECT_FALSE(NextDeliveryDelay(policy, 11, 0.5));
}

TEST(DeliveryRetryPolicy, JitterSpreadsDelaysWithinItsBand) {
    DeliveryRetryPolicy policy;
    policy.jitter = 0.2;
    EXPECT_EQ(NextDeliveryDelay(policy, 2, 0.0), minutes(4));        // 5 min × 0.8
    EXPECT_LT(*NextDeliveryDelay(policy, 2, 0.999999), minutes(6));  // < 5 min × 1.2
    EXPECT_GT(*NextDeliveryDelay(policy, 2, 0.999999), minutes(6) - Seconds(1));
    policy.jitter = 0;
    EXPECT_EQ(NextDeliveryDelay(policy, 2, 0.0), minutes(5));
    EXPECT_EQ(NextDeliveryDelay(policy, 2, 0.9), minutes(5));
}

TEST(DeliveryRetryPolicy, RetryAfterRaisesTheDelayUpToItsCap) {
    DeliveryRetryPolicy policy;
    policy.jitter = 0;
    EXPECT_EQ(NextDeliveryDelay(policy, 1, 0.5, Seconds(90)), Seconds(90));  // longer than 5 s: honoured
    EXPECT_EQ(NextDeliveryDelay(policy, 1, 0.5, Seconds(1)), Seconds(5));    // shorter: the schedule wins
    EXPECT_EQ(NextDeliveryDelay(policy, 1, 0.5, hours(100)), hours(24));     // capped
    EXPECT_FALSE(NextDeliveryDelay(policy, 10, 0.5, Seconds(1)));            // no attempts left anyway
}

TEST(DeliveryRetryPolicy, AnExplicitScheduleAndMaxAttemptsRepeatTheLastDelay) {
    DeliveryRetryPolicy policy;
    policy.delays = {Seconds(1), Seconds(2)};
    policy.jitter = 0;
    EXPECT_EQ(MaxAttempts(policy), 3);
    policy.max_attempts = 5;
    EXPECT_EQ(NextDeliveryDelay(policy, 1, 0.5), Seconds(1));
    EXPECT_EQ(NextDeliveryDelay(policy, 2, 0.5), Seconds(2));
    EXPECT_EQ(NextDeliveryDelay(policy, 4, 0.5), Seconds(2));
    EXPECT_FALSE(NextDeliveryDelay(policy, 5, 0.5));
}

TEST(RetryPolicyFromBackoff, TheRetrySectionBecomesAnExponentialSchedule) {
    const DeliveryRetryPolicy policy = RetryPolicyFromBackoff(BackoffPolicy{});  // 3 attempts, 1 s, ×2, cap 30 s
    EXPECT_EQ(MaxAttempts(policy), 3);
    EXPECT_EQ(policy.delays, (std::vector<Duration>{Seconds(1), Seconds(2)}));
    BackoffPolicy long_one{.max_attempts = 8, .base = Seconds(1), .cap = Seconds(30), .factor = 2.0};
    EXPECT_EQ(RetryPolicyFromBackoff(long_one).delays.back(), Seconds(30));
}

}  // namespace
}  // namespace railwatch::core
