#include "core/notify_delivery.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace railwatch::core {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

AnswerVerdict Verdict(DeliveryVerdict verdict, std::string reason, bool honour_retry_after = false,
                      bool disable = false) {
    return AnswerVerdict{verdict, disable, honour_retry_after, std::move(reason)};
}

std::optional<int> ParseInt(std::string_view text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// "Wed, 21 Oct 2026 07:28:00 GMT" (RFC 9110 IMF-fixdate).
std::optional<Timestamp> ParseImfFixdate(std::string_view text) {
    static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
        text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
        return std::nullopt;
    }
    const auto day = ParseInt(text.substr(5, 2));
    const auto year = ParseInt(text.substr(12, 4));
    const auto hour = ParseInt(text.substr(17, 2));
    const auto minute = ParseInt(text.substr(20, 2));
    const auto second = ParseInt(text.substr(23, 2));
    const auto month_it = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
    if (!day || !year || !hour || !minute || !second || month_it == kMonths.end()) return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(*year),
                                           std::chrono::month(static_cast<unsigned>(month_it - kMonths.begin() + 1)),
                                           std::chrono::day(static_cast<unsigned>(*day))};
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    return Timestamp(std::chrono::sys_days(date)) + hours(*hour) + minutes(*minute) + Seconds(*second);
}

}  // namespace

std::string_view ToString(DeliveryVerdict verdict) {
    switch (verdict) {
        case DeliveryVerdict::kAccepted:
            return "accepted";
        case DeliveryVerdict::kRetry:
            return "retry";
        case DeliveryVerdict::kPermanent:
            return "permanent";
    }
    return "retry";
}

AnswerVerdict ClassifyWebhookAnswer(int http_status, TransportErrorKind transport) {
    if (transport != TransportErrorKind::kNone) {
        return Verdict(DeliveryVerdict::kRetry, fmt::format("no answer ({})", ToString(transport)));
    }
    if (http_status >= 200 && http_status < 300) {
        return Verdict(DeliveryVerdict::kAccepted, fmt::format("HTTP {} (accepted)", http_status));
    }
    if (http_status == 410) {
        return Verdict(DeliveryVerdict::kPermanent,
                       "HTTP 410 Gone: the receiver asked never to be called again; the endpoint is disabled", false,
                       true);
    }
    if (http_status == 429) {
        return Verdict(DeliveryVerdict::kRetry, "HTTP 429 (the receiver is rate limiting us)", true);
    }
    if (http_status == 502 || http_status == 503 || http_status == 504) {
        return Verdict(DeliveryVerdict::kRetry,
                       fmt::format("HTTP {} (the receiver or a proxy in front of it is unavailable)", http_status),
                       true);
    }
    if (http_status >= 300 && http_status < 400) {
        return Verdict(DeliveryVerdict::kRetry,
                       fmt::format("HTTP {} redirect: redirects are not followed; set the webhook URL to the address "
                                   "it redirects to",
                                   http_status));
    }
    if (http_status >= 500) {
        return Verdict(DeliveryVerdict::kRetry, fmt::format("HTTP {} (the receiver failed)", http_status));
    }
    if (http_status >= 400) {
        return Verdict(DeliveryVerdict::kRetry,
                       fmt::format("HTTP {} (the receiver refused the request; check its URL and its webhook secret)",
                                   http_status));
    }
    return Verdict(DeliveryVerdict::kRetry, fmt::format("HTTP {} (not a final answer)", http_status));
}

AnswerVerdict ClassifySmtpReply(int smtp_code) {
    if (smtp_code >= 200 && smtp_code < 300) {
        return Verdict(DeliveryVerdict::kAccepted, fmt::format("SMTP {} (accepted)", smtp_code));
    }
    if (smtp_code == 530 || smtp_code == 534 || smtp_code == 535 || smtp_code == 538) {
        return Verdict(DeliveryVerdict::kRetry,
                       fmt::format("SMTP {} (authentication failed or required: check [notify.email] username "
                                   "and password)",
                                   smtp_code));
    }
    if (smtp_code >= 500 && smtp_code < 600) {
        return Verdict(DeliveryVerdict::kPermanent,
                       fmt::format("SMTP {} (the server refused this message for good)", smtp_code));
    }
    if (smtp_code >= 400 && smtp_code < 500) {
        return Verdict(DeliveryVerdict::kRetry, fmt::format("SMTP {} (a temporary failure)", smtp_code));
    }
    return Verdict(DeliveryVerdict::kRetry, smtp_code == 0 ? std::string("no SMTP reply")
                                                           : fmt::format("SMTP {} (unexpected reply)", smtp_code));
}

std::optional<Duration> ParseRetryAfter(std::string_view value, Timestamp now) {
    value = Trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        // Seconds beyond a year are nonsense; cap before converting so nothing overflows.
        if (value.size() > 9) return Seconds(365LL * 24 * 3600);
        long long seconds = 0;
        std::from_chars(value.data(), value.data() + value.size(), seconds);
        return Seconds(seconds);
    }
    if (const auto at = ParseImfFixdate(value)) return std::max(Duration::zero(), *at - now);
    return std::nullopt;
}

std::vector<Duration> StandardWebhooksSchedule() {
    return {Seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(14), hours(20), hours(24)};
}

DeliveryRetryPolicy RetryPolicyFromBackoff(const BackoffPolicy& backoff) {
    DeliveryRetryPolicy policy;
    const int attempts = std::max(backoff.max_attempts, 1);
    for (int n = 1; n < attempts; ++n)
        policy.delays.push_back(BackoffCeiling(backoff, n));
    if (policy.delays.empty()) policy.delays.push_back(Duration::zero());
    policy.max_attempts = attempts;
    return policy;
}

int MaxAttempts(const DeliveryRetryPolicy& policy) {
    if (policy.max_attempts > 0) return policy.max_attempts;
    const std::size_t delays = policy.delays.empty() ? StandardWebhooksSchedule().size() : policy.delays.size();
    return static_cast<int>(delays) + 1;
}

std::optional<Duration> NextDeliveryDelay(const DeliveryRetryPolicy& policy, int attempts_made, double unit_random,
                                          std::optional<Duration> retry_after) {
    if (attempts_made >= MaxAttempts(policy)) return std::nullopt;
    const std::vector<Duration> schedule = policy.delays.empty() ? StandardWebhooksSchedule() : policy.delays;
    const std::size_t index =
        std::clamp<std::size_t>(static_cast<std::size_t>(std::max(attempts_made, 1)) - 1, 0, schedule.size() - 1);
    const Duration base = std::max(schedule[index], Duration::zero());
    const double jitter = std::isnan(policy.jitter) ? 0.0 : std::clamp(policy.jitter, 0.0, 1.0);
    const double factor = 1.0 - jitter + 2.0 * jitter * ClampUnit(unit_random);
    Duration delay(static_cast<Duration::rep>(std::floor(static_cast<double>(base.count()) * factor)));
    if (retry_after) delay = std::max(delay, std::clamp(*retry_after, Duration::zero(), policy.max_retry_after));
    return delay;
}

}  // namespace railwatch::core
