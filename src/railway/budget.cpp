#include "railway/budget.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

std::optional<long long> ParseInteger(std::string_view text) {
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ')
        text.remove_suffix(1);
    long long value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

constexpr double kSecondsPerHour = 3600.0;

}  // namespace

FleetCapacity ComputeFleetCapacity(int hour_limit, int second_limit, core::Duration check_interval,
                                   std::size_t batch_size, long long deployments) {
    FleetCapacity out;
    const double interval_s = std::max(core::ToSecondsF(check_interval), 1e-3);
    const double batch = static_cast<double>(std::max<std::size_t>(batch_size, 1));
    // Each deployment costs 1/batch of a request every interval.
    const double by_hour = static_cast<double>(hour_limit) * batch * interval_s / kSecondsPerHour;
    const double by_second = static_cast<double>(second_limit) * batch * interval_s;
    out.max_deployments = static_cast<long long>(std::floor(std::min(by_hour, by_second)));
    out.requests_per_hour_needed = std::ceil(static_cast<double>(deployments) / batch) * kSecondsPerHour / interval_s;
    out.fits = out.requests_per_hour_needed <= hour_limit;
    return out;
}

std::optional<core::Timestamp> ParseRateLimitReset(std::string_view value, core::Timestamp now) {
    if (auto number = ParseInteger(value)) {
        if (*number >= 100'000'000'000LL) return core::Timestamp(std::chrono::milliseconds(*number));
        if (*number >= 1'000'000'000LL) return core::Timestamp(std::chrono::seconds(*number));
        if (*number >= 0) return now + std::chrono::seconds(*number);
        return std::nullopt;
    }
    if (auto parsed = util::ParseRfc3339(value)) return *parsed;
    return std::nullopt;
}

std::optional<core::Duration> ParseRetryAfter(std::string_view value) {
    auto number = ParseInteger(value);
    if (!number || *number < 0) return std::nullopt;
    return std::chrono::seconds(std::min<long long>(*number, 24 * 3600));
}

RequestBudget::RequestBudget(const util::Clock& clock, BudgetConfig config)
    : clock_(clock),
      hour_limit_(std::max(config.requests_per_hour, 1)),
      second_limit_(std::max(config.requests_per_second, 1)),
      hour_tokens_(hour_limit_),
      second_tokens_(second_limit_),
      last_refill_(clock.Steady()),
      paused_until_(clock.Steady()) {}

void RequestBudget::RefillLocked(util::SteadyTime now) {
    if (now <= last_refill_) return;
    const double elapsed_s = core::ToSecondsF(now - last_refill_);
    last_refill_ = now;
    hour_tokens_ = std::min<double>(hour_limit_, hour_tokens_ + elapsed_s * hour_limit_ / kSecondsPerHour);
    second_tokens_ = std::min<double>(second_limit_, second_tokens_ + elapsed_s * second_limit_);
}

BudgetGrant RequestBudget::TryAcquire() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.Steady();
    RefillLocked(now);
    if (now < paused_until_) return {false, paused_until_ - now};
    if (hour_tokens_ >= 1.0 && second_tokens_ >= 1.0) {
        hour_tokens_ -= 1.0;
        second_tokens_ -= 1.0;
        ++requests_sent_;
        return {true, core::Duration{0}};
    }
    const auto wait_for = [](double tokens, double per_second) {
        const double missing = std::max(0.0, 1.0 - tokens);
        return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(missing / per_second));
    };
    const auto wait = std::max(wait_for(hour_tokens_, hour_limit_ / kSecondsPerHour),
                               wait_for(second_tokens_, static_cast<double>(second_limit_)));
    return {false, std::max(wait, core::Duration(std::chrono::milliseconds(1)))};
}

void RequestBudget::Observe(int http_status, const net::HttpHeaders& headers) {
    const auto limit = net::FindHeader(headers, "X-RateLimit-Limit");
    const auto remaining = net::FindHeader(headers, "X-RateLimit-Remaining");
    const auto reset = net::FindHeader(headers, "X-RateLimit-Reset");
    const auto retry_after = net::FindHeader(headers, "Retry-After");

    std::lock_guard lock(mutex_);
    const auto now = clock_.Steady();
    RefillLocked(now);
    if (limit) {
        if (auto value = ParseInteger(*limit); value && *value > 0) {
            hour_limit_ = static_cast<int>(std::min<long long>(*value, 1'000'000));
        }
    }
    if (reset) server_reset_ = ParseRateLimitReset(*reset, clock_.Now());
    if (remaining) {
        if (auto value = ParseInteger(*remaining); value && *value >= 0) {
            server_remaining_ = static_cast<int>(*value);
            // The server counts every request of this token (other tools included): trust it.
            hour_tokens_ = std::min<double>(static_cast<double>(*value), hour_limit_);
            if (*value == 0 && server_reset_) {
                const auto until = *server_reset_ - clock_.Now();
                if (until > core::Duration{0}) paused_until_ = std::max(paused_until_, now + until);
            }
        }
    }
    if (http_status == 429) {
        ++rate_limited_;
        // Without Retry-After, wait a second's worth: the per-second limit is the likely cause.
        const core::Duration delay =
            retry_after ? ParseRetryAfter(*retry_after).value_or(core::Seconds(1)) : core::Seconds(1);
        paused_until_ = std::max(paused_until_, now + delay);
    }
}

void RequestBudget::PauseFor(core::Duration delay) {
    std::lock_guard lock(mutex_);
    paused_until_ = std::max(paused_until_, clock_.Steady() + delay);
}

BudgetSnapshot RequestBudget::Snapshot() const {
    std::lock_guard lock(mutex_);
    const auto now = clock_.Steady();
    BudgetSnapshot s;
    s.hour_limit = hour_limit_;
    s.second_limit = second_limit_;
    // Report as of now without mutating (refill is computed, not applied).
    const double elapsed_s = now > last_refill_ ? core::ToSecondsF(now - last_refill_) : 0.0;
    s.hour_remaining = std::min<double>(hour_limit_, hour_tokens_ + elapsed_s * hour_limit_ / kSecondsPerHour);
    s.second_remaining = std::min<double>(second_limit_, second_tokens_ + elapsed_s * second_limit_);
    s.server_remaining = server_remaining_;
    s.server_reset = server_reset_;
    s.paused_for = paused_until_ > now ? paused_until_ - now : core::Duration{0};
    s.requests_sent = requests_sent_;
    s.rate_limited = rate_limited_;
    return s;
}

FleetCapacity RequestBudget::Capacity(core::Duration check_interval, std::size_t batch_size,
                                      long long deployments) const {
    std::lock_guard lock(mutex_);
    return ComputeFleetCapacity(hour_limit_, second_limit_, check_interval, batch_size, deployments);
}

}  // namespace railwatch::railway
