#include "util/rfc3339.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace railwatch::util {
namespace {

using namespace std::chrono;

bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

// core::Timestamp counts int64 nanoseconds since 1970: it spans 1677-09-21T00:12:43.145224192Z to
// 2262-04-11T23:47:16.854775807Z. Its ends as whole seconds plus nanoseconds (floor division):
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kMaxCount = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMaxSeconds = kMaxCount / kNanosPerSecond;            // 9223372036
constexpr std::int64_t kMaxSubsecond = kMaxCount % kNanosPerSecond;          // 854775807
constexpr std::int64_t kMinSeconds = -kMaxSeconds - 1;                       // -9223372037
constexpr std::int64_t kMinSubsecond = kNanosPerSecond - 1 - kMaxSubsecond;  // 145224192

tl::unexpected<Error> Bad(std::string_view text, std::string_view what) {
    constexpr std::size_t kQuoteMax = 64;
    std::string quoted(text.substr(0, kQuoteMax));
    if (text.size() > kQuoteMax) quoted += "...";
    return Fail(ErrorCode::kParse, fmt::format("invalid RFC 3339 timestamp \"{}\": {}", quoted, what));
}

}  // namespace

void AppendRfc3339(std::string& out, core::Timestamp t, TimePrecision precision) {
    // Whole seconds by floor division of the count: converting a day or a second near either end
    // of the range back to nanoseconds would overflow, so nothing here does.
    const std::int64_t count = t.time_since_epoch().count();
    std::int64_t whole = count / kNanosPerSecond;
    std::int64_t nanos = count % kNanosPerSecond;
    if (nanos < 0) {
        nanos += kNanosPerSecond;
        --whole;
    }
    const sys_seconds at{seconds{whole}};
    const auto day = floor<days>(at);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{at - day};
    // Digits written by hand: this runs for every timestamp of every API answer (an instance page
    // holds over a thousand), where a format string cost more than the rest of the answer. The
    // year is always four digits in the Timestamp's range (1677..2262).
    char buffer[40];
    char* p = buffer;
    const auto digits = [&p](std::int64_t value, int width) {
        for (int i = width - 1; i >= 0; --i) {
            p[i] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
        p += width;
    };
    digits(static_cast<int>(ymd.year()), 4);
    *p++ = '-';
    digits(static_cast<unsigned>(ymd.month()), 2);
    *p++ = '-';
    digits(static_cast<unsigned>(ymd.day()), 2);
    *p++ = 'T';
    digits(hms.hours().count(), 2);
    *p++ = ':';
    digits(hms.minutes().count(), 2);
    *p++ = ':';
    digits(hms.seconds().count(), 2);
    switch (precision) {
        case TimePrecision::kSeconds:
            break;
        case TimePrecision::kMillis:
            *p++ = '.';
            digits(nanos / 1'000'000, 3);
            break;
        case TimePrecision::kMicros:
            *p++ = '.';
            digits(nanos / 1'000, 6);
            break;
        case TimePrecision::kNanos:
            *p++ = '.';
            digits(nanos, 9);
            break;
    }
    *p++ = 'Z';
    out.append(buffer, p);
}

std::string FormatRfc3339(core::Timestamp t, TimePrecision precision) {
    std::string out;
    AppendRfc3339(out, t, precision);
    return out;
}

Result<core::Timestamp> ParseRfc3339(std::string_view text) {
    // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters).
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (text.size() >= 5 && std::all_of(text.begin(), text.begin() + 5, [](char c) { return c >= '0' && c <= '9'; })) {
        return Bad(text, "the year has more than four digits (timestamps must lie between 1677 and 2262)");
    }
    if (text.size() < 20) return Bad(text, "too short (expected e.g. 2026-11-29T02:36:45Z)");
    if (!ReadDigits(text, 0, 4, y) || text[4] != '-' || !ReadDigits(text, 5, 2, mo) || text[7] != '-' ||
        !ReadDigits(text, 8, 2, d)) {
        return Bad(text, "date must be YYYY-MM-DD");
    }
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return Bad(text, "expected 'T' between date and time");
    if (!ReadDigits(text, 11, 2, h) || text[13] != ':' || !ReadDigits(text, 14, 2, mi) || text[16] != ':' ||
        !ReadDigits(text, 17, 2, s)) {
        return Bad(text, "time must be HH:MM:SS");
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return Bad(text, "no such date");
    if (h > 23 || mi > 59 || s > 60) return Bad(text, "time out of range");

    std::size_t pos = 19;
    long long nanos = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        int scale_digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (scale_digits < 9) {
                nanos = nanos * 10 + (text[pos] - '0');
                ++scale_digits;
            }
            ++pos;
        }
        if (pos == start) return Bad(text, "a '.' must be followed by digits");
        for (; scale_digits < 9; ++scale_digits)
            nanos *= 10;
    }

    if (pos >= text.size()) return Bad(text, "missing time zone ('Z' or ±HH:MM)");
    minutes offset{0};
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        int oh = 0, om = 0;
        if (!ReadDigits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !ReadDigits(text, pos + 4, 2, om)) {
            return Bad(text, "time zone offset must be ±HH:MM");
        }
        if (oh > 23 || om > 59) return Bad(text, "time zone offset out of range");
        offset = hours{oh} + minutes{om};
        if (text[pos] == '-') offset = -offset;
        pos += 6;
    } else {
        return Bad(text, "missing time zone ('Z' or ±HH:MM)");
    }
    if (pos != text.size()) return Bad(text, "unexpected characters after the time zone");

    // In whole seconds first: that cannot overflow for any four-digit year.
    const sys_seconds local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
    const std::int64_t whole = (local - offset).time_since_epoch().count();
    if (whole < kMinSeconds || (whole == kMinSeconds && nanos < kMinSubsecond) || whole > kMaxSeconds ||
        (whole == kMaxSeconds && nanos > kMaxSubsecond)) {
        return Bad(text,
                   "outside the range railwatch can represent (1677-09-21T00:12:43.145224192Z to "
                   "2262-04-11T23:47:16.854775807Z)");
    }
    // Below zero, count from the next second down so that no intermediate value overflows.
    const std::int64_t count =
        whole < 0 ? (whole + 1) * kNanosPerSecond + (nanos - kNanosPerSecond) : whole * kNanosPerSecond + nanos;
    return core::Timestamp(core::Duration(count));
}

}  // namespace railwatch::util
