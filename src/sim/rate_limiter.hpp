#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/time.hpp"
#include "sim/config.hpp"

/// Railway-like request budgets per token: a one-second window and a one-hour window, each
/// starting with the first request after the previous one ended (as GitHub's and Railway's
/// `X-RateLimit-Reset` suggest). Thread-safe.
namespace railwatch::sim {

class RateLimiter {
  public:
    /// The verdict for one request and the header values to send.
    struct Decision {
        bool allowed = true;
        long long limit = 0;          ///< X-RateLimit-Limit: requests per hour (per second if rph is 0)
        long long remaining = 0;      ///< X-RateLimit-Remaining, after this request
        long long reset_epoch_s = 0;  ///< X-RateLimit-Reset: Unix seconds when the hour window ends
        long long retry_after_s = 0;  ///< Retry-After when !allowed (≥ 1)
    };

    /// Counts a request for `key` at `now` unless it is over a budget. 0 = unlimited.
    Decision Acquire(const std::string& key, core::Timestamp now, int rps, int rph);
    /// The state for `key` without counting a request.
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
    static Decision Describe(const Windows& w, core::Timestamp now, int rps, int rph);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Windows> windows_;
};

}  // namespace railwatch::sim
