#include "sim/rate_limiter.hpp"

#include <algorithm>

namespace railwatch::sim {
namespace {

constexpr long long kUnlimited = 1'000'000'000;

long long CeilSeconds(core::Duration d) {
    const long long ns = d.count();
    return std::max<long long>(1, (ns + 999'999'999) / 1'000'000'000);
}

}  // namespace

void RateLimiter::Roll(Windows& w, core::Timestamp now) {
    if (now - w.second_start >= std::chrono::seconds(1) || now < w.second_start) {
        w.second_start = now;
        w.second_count = 0;
    }
    if (now - w.hour_start >= std::chrono::hours(1) || now < w.hour_start) {
        w.hour_start = now;
        w.hour_count = 0;
    }
}

RateLimiter::Decision RateLimiter::Describe(const Windows& w, core::Timestamp now, int rps, int rph) {
    Decision d;
    d.limit = rph > 0 ? rph : (rps > 0 ? rps : kUnlimited);
    const long long used = rph > 0 ? w.hour_count : (rps > 0 ? w.second_count : w.hour_count);
    d.remaining = std::max<long long>(0, d.limit - used);
    const core::Timestamp reset =
        rph > 0 || rps == 0 ? w.hour_start + std::chrono::hours(1) : w.second_start + std::chrono::seconds(1);
    d.reset_epoch_s = (reset.time_since_epoch().count() + 999'999'999) / 1'000'000'000;
    if (rph > 0 && w.hour_count >= rph) {
        d.allowed = false;
        d.retry_after_s = CeilSeconds(w.hour_start + std::chrono::hours(1) - now);
    } else if (rps > 0 && w.second_count >= rps) {
        d.allowed = false;
        d.retry_after_s = CeilSeconds(w.second_start + std::chrono::seconds(1) - now);
    }
    return d;
}

RateLimiter::Decision RateLimiter::Acquire(const std::string& key, core::Timestamp now, int rps, int rph) {
    std::lock_guard lock(mutex_);
    Windows& w = windows_[key];
    Roll(w, now);
    Decision d = Describe(w, now, rps, rph);
    if (!d.allowed) return d;
    ++w.second_count;
    ++w.hour_count;
    d.remaining = std::max<long long>(0, d.remaining - 1);
    return d;
}

RateLimiter::Decision RateLimiter::Peek(const std::string& key, core::Timestamp now, int rps, int rph) const {
    std::lock_guard lock(mutex_);
    const auto it = windows_.find(key);
    Windows w = it == windows_.end() ? Windows{} : it->second;
    Roll(w, now);
    return Describe(w, now, rps, rph);
}

void RateLimiter::Reset() {
    std::lock_guard lock(mutex_);
    windows_.clear();
}

}  // namespace railwatch::sim
