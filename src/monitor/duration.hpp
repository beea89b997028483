#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "util/result.hpp"

/// Durations as people type them on the command line ("90s", "10m", "1h30m", "500ms").
namespace railwatch::monitor {

/// The longest duration ParseDuration accepts: 366 days. Anything longer is surely a typo, and a
/// deadline computed from it (now + duration, in int64 nanoseconds) stays far from overflowing.
inline constexpr core::Duration kMaxDuration = std::chrono::hours(24 * 366);

/// Parses one or more parts "<digits><unit>" that add up (units ms, s, m, h): "90s", "1h30m".
/// Overflow-safe for any input. Zero, negative, longer than kMaxDuration, unit-less or malformed
/// text is an error (kInvalidArgument) whose message quotes the input and shows valid examples.
/// Pure and thread-safe.
util::Result<core::Duration> ParseDuration(std::string_view text);

/// "1h02m03s", "4m05s", "12s" (rounded down to whole seconds); "250ms" below one second; "0s" for
/// zero or less. Pure and thread-safe.
std::string FormatDuration(core::Duration d);

}  // namespace railwatch::monitor
