#pragma once

#include <string>
#include <string_view>

#include "core/time.hpp"
#include "util/result.hpp"

/// RFC 3339 timestamps, as Railway sends them (log lines carry nanoseconds) and as the REST API
/// returns them (UTC, "Z").
namespace railwatch::util {

enum class TimePrecision { kSeconds, kMillis, kMicros, kNanos };

/// Formats `t` in UTC with a "Z" suffix, e.g. "2026-11-29T02:36:45.123Z" for kMillis.
/// Thread-safe (no locale, no time zone database).
std::string FormatRfc3339(core::Timestamp t, TimePrecision precision = TimePrecision::kMillis);

/// Appends FormatRfc3339(t, precision) to `out` without a string of its own (answers that hold
/// a thousand timestamps, e.g. the instance list, would otherwise allocate one per timestamp).
void AppendRfc3339(std::string& out, core::Timestamp t, TimePrecision precision = TimePrecision::kMillis);

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)". Accepts "t"/"z" and a space for "T"
/// (RFC 3339 §5.6 note); fractions of 1–9 digits are exact, longer ones are truncated to
/// nanoseconds; a leap second (":60") is read as the first instant of the next minute.
/// Errors (kParse) name what was wrong and quote the input.
Result<core::Timestamp> ParseRfc3339(std::string_view text);

}  // namespace railwatch::util
