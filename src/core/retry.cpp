#include "core/retry.hpp"

#include <algorithm>
#include <cmath>

namespace railwatch::core {

SequenceRandom::SequenceRandom(std::vector<double> values) : values_(std::move(values)) {}

double SequenceRandom::NextUnit() {
    ++draws_;
    if (values_.empty()) return 0.0;
    const double value = values_[next_];
    next_ = (next_ + 1) % values_.size();
    return ClampUnit(value);
}

double ClampUnit(double unit) {
    if (!(unit > 0.0)) return 0.0;  // also catches NaN
    // The largest double below 1.
    constexpr double kBelowOne = 1.0 - 1.0 / 9007199254740992.0;
    return std::min(unit, kBelowOne);
}

Duration BackoffCeiling(const BackoffPolicy& policy, int attempts_made) {
    const Duration base = std::max(policy.base, Duration::zero());
    const Duration cap = std::max(policy.cap, Duration::zero());
    const double factor = std::isfinite(policy.factor) ? std::max(policy.factor, 1.0) : 1.0;
    const int exponent = std::max(attempts_made, 1) - 1;
    // Computed in double nanoseconds and compared with the cap before converting back, so a large
    // exponent saturates at the cap instead of overflowing.
    const double ceiling = static_cast<double>(base.count()) * std::pow(factor, exponent);
    if (!(ceiling < static_cast<double>(cap.count()))) return cap;
    return Duration(static_cast<Duration::rep>(ceiling));
}

std::optional<Duration> NextRetryDelay(const BackoffPolicy& policy, int attempts_made, double unit_random,
                                       std::optional<Duration> retry_after) {
    const int max_attempts = std::max(policy.max_attempts, 1);
    if (attempts_made >= max_attempts) return std::nullopt;
    const Duration ceiling = BackoffCeiling(policy, attempts_made);
    const auto jittered =
        Duration(static_cast<Duration::rep>(std::floor(ClampUnit(unit_random) * static_cast<double>(ceiling.count()))));
    Duration delay = std::min(jittered, ceiling);
    if (retry_after && *retry_after > delay) delay = *retry_after;
    return delay;
}

}  // namespace railwatch::core
