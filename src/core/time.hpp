#pragma once

#include <chrono>

/// Time vocabulary of the pure core. The core never reads a clock: every decision that depends on
/// time takes `now` as an argument (see util/clock.hpp for where `now` comes from).
namespace railwatch::core {

/// A span of time with nanosecond resolution.
using Duration = std::chrono::nanoseconds;

/// A point in UTC with nanosecond resolution (Railway's log timestamps carry nanoseconds).
using Timestamp = std::chrono::sys_time<Duration>;

/// Whole seconds of a duration, rounded toward zero, as the REST API reports them.
constexpr long long ToSeconds(Duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

/// Seconds (possibly fractional) of a duration.
constexpr double ToSecondsF(Duration d) {
    return std::chrono::duration<double>(d).count();
}

/// A duration from a whole number of seconds.
constexpr Duration Seconds(long long s) {
    return std::chrono::seconds(s);
}

/// A duration from a whole number of milliseconds.
constexpr Duration Millis(long long ms) {
    return std::chrono::milliseconds(ms);
}

}  // namespace railwatch::core
