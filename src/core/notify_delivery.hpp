#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify.hpp"
#include "core/retry.hpp"
#include "core/time.hpp"

/// Delivery decisions of the notifier: what an answer from a receiver means (delivered, try again,
/// give up) and when the next attempt is due. docs/NOTIFY.md has the tables.
///
///   ClassifyWebhookAnswer(http_status, transport_error) -> AnswerVerdict
///   ClassifySmtpReply(smtp_code)                        -> AnswerVerdict
///   ParseRetryAfter(value, now)                         -> delay (delta seconds or HTTP date)
///   StandardWebhooksSchedule()                          -> 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
///   RetryPolicyFromBackoff(BackoffPolicy)               -> the [retry] section as a schedule
///   MaxAttempts(policy), NextDeliveryDelay(policy, attempts_made, unit_random, retry_after)
///
/// Pure and thread-safe.
namespace railwatch::core {

/// What one delivery attempt came to.
enum class DeliveryVerdict {
    kAccepted,   ///< the receiver took it (HTTP 2xx, SMTP 250, stored in the inbox): mark sent
    kRetry,      ///< it may work later: schedule another attempt (or dead-letter when out of attempts)
    kPermanent,  ///< it can never work: dead-letter now
};

std::string_view ToString(DeliveryVerdict verdict);

/// The meaning of a receiver's answer.
struct AnswerVerdict {
    DeliveryVerdict verdict = DeliveryVerdict::kRetry;
    /// HTTP 410 Gone: the receiver asks never to be called again (Standard Webhooks: disable the
    /// endpoint).
    bool disable_endpoint = false;
    /// The server's Retry-After applies to the next attempt (429, 502, 503, 504).
    bool honour_retry_after = false;
    /// What the answer means, for people (e.g. "HTTP 503 (the receiver is unavailable)").
    std::string reason;
};

/// Webhook answers (Standard Webhooks): 2xx delivered; 410 permanent and disable the endpoint;
/// 429 / 502 / 503 / 504 retry honouring Retry-After; 3xx retry (redirects are not followed: the
/// configured URL is wrong); every other status and every transport failure retry. Other 4xx are
/// retried too: a receiver that rejects a signature during a secret rotation, or answers 404
/// while it is being redeployed, recovers, and a notification is not dropped on the first try.
AnswerVerdict ClassifyWebhookAnswer(int http_status, TransportErrorKind transport = TransportErrorKind::kNone);

/// SMTP replies (RFC 5321): 2xx accepted; 4xx retry (transient); 5xx permanent for this message
/// (550 no such mailbox, 552 too big, 553 bad address, 554 refused) except the authentication
/// replies 530 / 534 / 535 / 538, which are retried: they are about our configuration, not this
/// message, and the schedule gives people time to fix it. Code 0 (no reply) retries.
AnswerVerdict ClassifySmtpReply(int smtp_code);

/// A Retry-After value: delta seconds ("120") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT",
/// IMF-fixdate), as a delay from `now` (never negative). nullopt when it is neither.
std::optional<Duration> ParseRetryAfter(std::string_view value, Timestamp now);

/// When to try again. Attempt 1 happens as soon as the row is due; after attempt n fails, the
/// next comes `delays[n-1]` later (the last delay repeats when max_attempts asks for more), each
/// spread by ±jitter so that many failures do not retry at the same instant.
struct DeliveryRetryPolicy {
    std::vector<Duration> delays;  ///< empty: StandardWebhooksSchedule()
    /// Attempts in total, the first included; 0: delays.size() + 1 (10 with the default schedule).
    int max_attempts = 0;
    double jitter = 0.2;  ///< the delay is uniform in [d·(1−jitter), d·(1+jitter)); clamped to [0, 1]
    /// A server's Retry-After is honoured up to this long (a bigger value is cut to it).
    Duration max_retry_after = std::chrono::hours(24);
};

/// Standard Webhooks' suggested schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h, 14 h, 20 h, 24 h (ten attempts over about three days).
std::vector<Duration> StandardWebhooksSchedule();

/// The seed's [retry] settings as a schedule: max_attempts attempts with delays
/// min(cap, base·factor^(n−1)) and the default jitter.
DeliveryRetryPolicy RetryPolicyFromBackoff(const BackoffPolicy& backoff);

/// Attempts in total under `policy` (at least 1).
int MaxAttempts(const DeliveryRetryPolicy& policy);

/// The delay before the next attempt after `attempts_made` attempts (≥ 1) have failed, or nullopt
/// when they are used up (dead-letter). The jittered schedule delay, raised to `retry_after` (cut
/// to max_retry_after) when the receiver asked for a longer wait. `unit_random` is clamped to [0, 1).
std::optional<Duration> NextDeliveryDelay(const DeliveryRetryPolicy& policy, int attempts_made, double unit_random,
                                          std::optional<Duration> retry_after = std::nullopt);

}  // namespace railwatch::core
