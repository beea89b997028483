#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/time.hpp"
#include "sim/config.hpp"

/// Railway-like request budgets per token: a one-second window and a one-hour window, each
/// starting with the first request after the previous one ended (as GitHub's and Railway's
/// `X-RateLimit-Reset` suggest). A request may cost more than one unit (aliases, when the
/// simulator charges per root field). Thread-safe.
namespace railwatch::sim {

class RateLimiter {
  public:
    /// Stands for "no limit" in Window::limit and Window::remaining.
    static constexpr long long kUnlimited = 1'000'000'000;

    /// One window's state after the request.
    struct Window {
        long long limit = kUnlimited;  ///< requests per window (kUnlimited when 0 was configured)
        long long remaining = kUnlimited;
        core::Timestamp reset_at;  ///< when the window ends
    };

    /// The verdict for one request and what the answer may tell about the budgets.
    struct Decision {
        bool allowed = true;
        Window hour;
        Window second;
        long long retry_after_s = 0;  ///< Retry-After when !allowed (≥ 1)
    };

    /// Charges `cost` units to both of `key`'s windows at `now`, unless that would exceed a
    /// budget (then nothing is charged and the decision says when to retry). 0 = unlimited.
    Decision Acquire(const std::string& key, core::Timestamp now, int rps, int rph, long long cost = 1);
    /// The state for `key` without charging anything.
    Decision Peek(const std::string& key, core::Timestamp now, int rps, int rph) const;
    void Reset();

  private:
    struct Windows {
        core::Timestamp second_start{};
        long long second_count = 0;
        core::Timestamp hour_start{};
        long long hour_count = 0;
    };
    static void Roll(Windows& w, core::Timestamp now);
    static Decision Describe(const Windows& w, core::Timestamp now, int rps, int rph, long long cost);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Windows> windows_;
};

}  // namespace railwatch::sim
