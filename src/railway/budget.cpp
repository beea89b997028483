#include "railway/budget.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

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
// Windows up to this long are the per-second kind (a reset this close, a policy window this short).
constexpr core::Duration kShortWindow = core::Seconds(60);
constexpr long long kMaxLimit = 1'000'000;

std::string_view Trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// Splits `text` on `separator`, trimming each piece.
std::vector<std::string_view> Split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto at = text.find(separator);
        out.push_back(Trim(text.substr(0, at)));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

int ClampLimit(long long value) {
    return static_cast<int>(std::clamp<long long>(value, 1, kMaxLimit));
}

}  // namespace

std::vector<RateLimitPolicyItem> ParseRateLimitPolicy(std::string_view value) {
    std::vector<RateLimitPolicyItem> items;
    for (std::string_view item : Split(value, ',')) {
        RateLimitPolicyItem parsed;
        const auto params = Split(item, ';');
        // Drafts up to 06 lead with the quota; later ones lead with a name and carry q=.
        if (auto quota = ParseInteger(params.front())) parsed.quota = *quota;
        for (std::size_t i = 1; i < params.size(); ++i) {
            const std::string_view param = params[i];
            if (param.size() < 2 || param[1] != '=') continue;
            const auto number = ParseInteger(param.substr(2));
            if (!number) continue;
            if (param[0] == 'q') parsed.quota = *number;
            if (param[0] == 'w') parsed.window_s = *number;
        }
        if (parsed.quota > 0 && parsed.window_s > 0) items.push_back(parsed);
    }
    return items;
}

RateLimitWindow RateLimitWindowOf(long long limit, std::optional<core::Duration> reset_in,
                                  const std::vector<RateLimitPolicyItem>& policy, int hour_limit) {
    const auto of_item = [](const RateLimitPolicyItem& item) {
        return core::Seconds(item.window_s) <= kShortWindow ? RateLimitWindow::kSecond : RateLimitWindow::kHour;
    };
    for (const auto& item : policy) {
        if (item.quota == limit) return of_item(item);
    }
    if (policy.size() == 1) return of_item(policy.front());
    if (reset_in) {
        if (*reset_in > kShortWindow) return RateLimitWindow::kHour;
        return limit >= hour_limit ? RateLimitWindow::kHour : RateLimitWindow::kSecond;
    }
    return limit >= hour_limit ? RateLimitWindow::kHour : RateLimitWindow::kUnknown;
}

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
    return std::chrono::seconds(std::min<long long>(*number, 24LL * 3600));
}

RequestBudget::RequestBudget(const util::Clock& clock, BudgetConfig config)
    : clock_(clock),
      hour_limit_(std::max(config.requests_per_hour, 1)),
      second_limit_(std::max(config.requests_per_second, 1)),
      hour_tokens_(hour_limit_),
      second_tokens_(second_limit_),
      last_refill_(clock.Steady()),
      paused_until_(clock.Steady()) {}

double RequestBudget::HourRateLocked() const {
    return hour_limit_ / kSecondsPerHour / parts_;
}

double RequestBudget::SecondRateLocked() const {
    return static_cast<double>(second_limit_) / parts_;
}

double RequestBudget::HourCapLocked() const {
    return std::max(1.0, static_cast<double>(hour_limit_) / parts_);
}

double RequestBudget::SecondCapLocked() const {
    return std::max(1.0, SecondRateLocked());
}

void RequestBudget::RefillLocked(util::SteadyTime now) {
    if (now <= last_refill_) return;
    const double elapsed_s = core::ToSecondsF(now - last_refill_);
    last_refill_ = now;
    hour_tokens_ = std::min(HourCapLocked(), hour_tokens_ + elapsed_s * HourRateLocked());
    second_tokens_ = std::min(SecondCapLocked(), second_tokens_ + elapsed_s * SecondRateLocked());
}

void RequestBudget::ForgetOlderThanASecondLocked(util::SteadyTime now) {
    while (!recent_.empty() && now - recent_.front().first >= kOneSecondWindow)
        recent_.pop_front();
}

double RequestBudget::CostOfTheLastSecondLocked(util::SteadyTime now) const {
    double cost = 0;
    for (const auto& [at, spent] : recent_)
        if (now - at < kOneSecondWindow) cost += spent;
    return cost;
}

core::Duration RequestBudget::WaitForTheLastSecondLocked(util::SteadyTime now, double cost) const {
    constexpr double kSlack = 1e-9;  // costs are whole numbers or shares of one: rounding only
    double kept = CostOfTheLastSecondLocked(now);
    if (kept + cost <= SecondCapLocked() + kSlack) return core::Duration{0};
    for (const auto& [at, spent] : recent_) {
        if (now - at >= kOneSecondWindow) continue;
        kept -= spent;
        if (kept + cost <= SecondCapLocked() + kSlack) return at + kOneSecondWindow - now;
    }
    return core::Duration{0};  // (a cost is never more than the cap)
}

bool RequestBudget::PerRootFieldLocked(util::SteadyTime now) const {
    return per_root_field_until_ && now < *per_root_field_until_;
}

BudgetGrant RequestBudget::TryAcquire(int root_fields) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.Steady();
    RefillLocked(now);
    if (now < paused_until_) return {false, paused_until_ - now};
    // What the request costs; never more than a bucket holds (it would never be granted).
    const double cost =
        PerRootFieldLocked(now)
            ? std::min({static_cast<double>(std::max(root_fields, 1)), HourCapLocked(), SecondCapLocked()})
            : 1.0;
    ForgetOlderThanASecondLocked(now);
    const core::Duration second_wait = WaitForTheLastSecondLocked(now, cost);
    if (hour_tokens_ >= cost && second_tokens_ >= cost && second_wait == core::Duration{0}) {
        hour_tokens_ -= cost;
        second_tokens_ -= cost;
        in_flight_ += cost;
        ++requests_sent_;
        recent_.emplace_back(now, cost);
        return {true, core::Duration{0}, cost};
    }
    const auto wait_for = [cost](double tokens, double per_second) {
        const double missing = std::max(0.0, cost - tokens);
        return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(missing / per_second));
    };
    const auto wait =
        std::max({wait_for(hour_tokens_, HourRateLocked()), wait_for(second_tokens_, SecondRateLocked()), second_wait});
    return {false, std::max(wait, core::Duration(std::chrono::milliseconds(1)))};
}

std::size_t RequestBudget::MaxRootFieldsPerRequest() const {
    std::lock_guard lock(mutex_);
    return PerRootFieldLocked(clock_.Steady()) ? 1 : std::numeric_limits<std::size_t>::max();
}

void RequestBudget::Release(double granted) {
    std::lock_guard lock(mutex_);
    in_flight_ = std::max(0.0, in_flight_ - granted);
}

bool RequestBudget::Observe(int http_status, const net::HttpHeaders& headers, int root_fields, double granted) {
    const auto limit_header = net::FindHeader(headers, "X-RateLimit-Limit");
    const auto remaining_header = net::FindHeader(headers, "X-RateLimit-Remaining");
    const auto reset_header = net::FindHeader(headers, "X-RateLimit-Reset");
    const auto policy_header = net::FindHeader(headers, "RateLimit-Policy");
    const auto retry_after = net::FindHeader(headers, "Retry-After");

    std::lock_guard lock(mutex_);
    const auto now = clock_.Steady();
    const auto wall_now = clock_.Now();
    RefillLocked(now);
    in_flight_ = std::max(0.0, in_flight_ - granted);
    // This process's own count of the last second, before the server's numbers replace it.
    const double own_second_tokens = second_tokens_;

    const std::vector<RateLimitPolicyItem> policy =
        policy_header ? ParseRateLimitPolicy(*policy_header) : std::vector<RateLimitPolicyItem>{};
    for (const auto& item : policy) {
        if (core::Seconds(item.window_s) <= kShortWindow) {
            second_limit_ = ClampLimit(item.quota / item.window_s);
        } else {
            hour_limit_ = ClampLimit(item.quota * static_cast<long long>(kSecondsPerHour) / item.window_s);
        }
    }
    hour_tokens_ = std::min(hour_tokens_, HourCapLocked());
    second_tokens_ = std::min(second_tokens_, SecondCapLocked());

    // -1: absent or unreadable.
    const long long limit = limit_header ? ParseInteger(*limit_header).value_or(-1) : -1;
    const long long remaining = remaining_header ? ParseInteger(*remaining_header).value_or(-1) : -1;
    const std::optional<core::Timestamp> reset =
        reset_header ? ParseRateLimitReset(*reset_header, wall_now) : std::nullopt;
    std::optional<core::Duration> reset_in;
    if (reset) reset_in = std::max(*reset - wall_now, core::Duration{0});
    // Without a limit the window is told by the reset alone, against the hourly limit known.
    RateLimitWindow window = RateLimitWindow::kUnknown;
    if (limit > 0 || reset_in) window = RateLimitWindowOf(std::max(limit, 0LL), reset_in, policy, hour_limit_);

    if (window == RateLimitWindow::kHour) {
        if (limit > 0) hour_limit_ = ClampLimit(limit);
        if (reset) server_reset_ = reset;
        if (remaining >= 0) {
            server_remaining_ = static_cast<int>(std::min(remaining, kMaxLimit));
            // The server counts every request of this token (other tools included): trust it,
            // this process's share of it.
            hour_tokens_ = std::clamp(static_cast<double>(remaining) / parts_ - in_flight_, 0.0, HourCapLocked());
        }
    } else if (window == RateLimitWindow::kSecond) {
        if (limit > 0) second_limit_ = ClampLimit(limit);
        if (remaining >= 0) {
            server_second_remaining_ = static_cast<int>(std::min(remaining, kMaxLimit));
            second_tokens_ = std::clamp(static_cast<double>(remaining) / parts_ - in_flight_, 0.0, SecondCapLocked());
        }
    }
    if (window != RateLimitWindow::kUnknown && remaining == 0 && reset_in) {
        paused_until_ = std::max(paused_until_, now + *reset_in);
    }
    if (http_status != 429) return false;
    ++rate_limited_;
    // Without Retry-After, wait a second's worth: the per-second limit is the likely cause.
    const core::Duration delay =
        retry_after ? ParseRetryAfter(*retry_after).value_or(core::Seconds(1)) : core::Seconds(1);
    paused_until_ = std::max(paused_until_, now + delay);
    // Counted in requests, there was room: the answer says its per-second window had some left
    // (the refused request cost more than that), or, when it describes the hour or nothing, this
    // process had spent less than half its per-second share by its own count and the hour had
    // requests left. A window the answer says is used up (by anyone sending with the token)
    // explains the refusal. Only a request that costs more than one explains the others.
    bool room = false;
    if (window == RateLimitWindow::kSecond && remaining >= 0) {
        room = remaining >= 1;
    } else {
        room = own_second_tokens >= SecondCapLocked() / 2 && !(window == RateLimitWindow::kHour && remaining == 0);
    }
    const bool unexplained = root_fields > 1 && !PerRootFieldLocked(now) && room && hour_tokens_ >= 1.0;
    if (!unexplained) return false;
    const bool again = last_unexplained_429_ && now - *last_unexplained_429_ <= kUnexplainedWithin;
    last_unexplained_429_ = now;
    if (!again) return false;
    last_unexplained_429_.reset();
    per_root_field_until_ = now + kPerRootFieldFor;
    return true;
}

void RequestBudget::SetShare(int parts) {
    std::lock_guard lock(mutex_);
    RefillLocked(clock_.Steady());  // what refilled so far at the old share
    parts_ = std::max(parts, 1);
    hour_tokens_ = std::min(hour_tokens_, HourCapLocked());
    second_tokens_ = std::min(second_tokens_, SecondCapLocked());
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
    s.hour_remaining = std::min(HourCapLocked(), hour_tokens_ + elapsed_s * HourRateLocked());
    s.second_remaining = std::max(0.0, std::min({SecondCapLocked(), second_tokens_ + elapsed_s * SecondRateLocked(),
                                                 SecondCapLocked() - CostOfTheLastSecondLocked(now)}));
    s.parts = parts_;
    s.server_remaining = server_remaining_;
    s.server_reset = server_reset_;
    s.server_second_remaining = server_second_remaining_;
    s.paused_for = paused_until_ > now ? paused_until_ - now : core::Duration{0};
    s.requests_sent = requests_sent_;
    s.rate_limited = rate_limited_;
    s.priced_per_root_field = PerRootFieldLocked(now);
    return s;
}

FleetCapacity RequestBudget::Capacity(core::Duration check_interval, std::size_t batch_size,
                                      long long deployments) const {
    std::lock_guard lock(mutex_);
    return ComputeFleetCapacity(std::max(hour_limit_ / parts_, 1), std::max(second_limit_ / parts_, 1), check_interval,
                                batch_size, deployments);
}

}  // namespace railwatch::railway
