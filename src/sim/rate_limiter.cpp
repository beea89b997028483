#include "sim/rate_limiter.hpp"

#include <algorithm>

namespace railwatch::sim {
namespace {

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

RateLimiter::Decision RateLimiter::Describe(const Windows& w, core::Timestamp now, int rps, int rph, long long cost) {
    Decision d;
    d.hour.limit = rph > 0 ? rph : kUnlimited;
    d.hour.remaining = std::max<long long>(0, d.hour.limit - w.hour_count);
    d.hour.reset_at = w.hour_start + std::chrono::hours(1);
    d.second.limit = rps > 0 ? rps : kUnlimited;
    d.second.remaining = std::max<long long>(0, d.second.limit - w.second_count);
    d.second.reset_at = w.second_start + std::chrono::seconds(1);
    // The hour window is checked first: when both are used up, Retry-After names the later end.
    if (rph > 0 && w.hour_count + cost > rph) {
        d.allowed = false;
        d.retry_after_s = CeilSeconds(d.hour.reset_at - now);
    } else if (rps > 0 && w.second_count + cost > rps) {
        d.allowed = false;
        d.retry_after_s = CeilSeconds(d.second.reset_at - now);
    }
    return d;
}

RateLimiter::Decision RateLimiter::Acquire(const std::string& key, core::Timestamp now, int rps, int rph,
                                           long long cost) {
    std::lock_guard lock(mutex_);
    Windows& w = windows_[key];
    Roll(w, now);
    Decision d = Describe(w, now, rps, rph, cost);
    if (!d.allowed) return d;
    w.second_count += cost;
    w.hour_count += cost;
    d.hour.remaining = std::max<long long>(0, d.hour.remaining - cost);
    d.second.remaining = std::max<long long>(0, d.second.remaining - cost);
    return d;
}

RateLimiter::Decision RateLimiter::Peek(const std::string& key, core::Timestamp now, int rps, int rph) const {
    std::lock_guard lock(mutex_);
    const auto it = windows_.find(key);
    Windows w = it == windows_.end() ? Windows{} : it->second;
    Roll(w, now);
    return Describe(w, now, rps, rph, 1);
}

void RateLimiter::Reset() {
    std::lock_guard lock(mutex_);
    windows_.clear();
}

}  // namespace railwatch::sim
