#include "util/rfc3339.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>

namespace railwatch::util {
namespace {

using namespace std::chrono;

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

// The two-digit number at p[0..1], or -1 when either is not a digit.
int TwoDigits(const char* p) {
    const auto tens = static_cast<unsigned>(static_cast<unsigned char>(p[0])) - '0';
    const auto ones = static_cast<unsigned>(static_cast<unsigned char>(p[1])) - '0';
    return tens > 9 || ones > 9 ? -1 : static_cast<int>(tens * 10 + ones);
}

// 10^(9 - digits): what a fraction of `digits` digits (1 to 9) is multiplied by to count
// nanoseconds.
constexpr std::array<std::int64_t, 9> kPowersOfTen = {1,       10,        100,        1'000,      10'000,
                                                      100'000, 1'000'000, 10'000'000, 100'000'000};

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
    // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters), read two digits at a time: every status
    // check reads three of these, every log line one.
    if (text.size() >= 5 && IsDigit(text[4]) && IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]) &&
        IsDigit(text[3])) {
        return Bad(text, "the year has more than four digits (timestamps must lie between 1677 and 2262)");
    }
    if (text.size() < 20) return Bad(text, "too short (expected e.g. 2026-11-29T02:36:45Z)");
    const char* const p = text.data();
    const int century = TwoDigits(p), y2 = TwoDigits(p + 2), mo = TwoDigits(p + 5), d = TwoDigits(p + 8);
    if ((century | y2 | mo | d) < 0 || p[4] != '-' || p[7] != '-') return Bad(text, "date must be YYYY-MM-DD");
    if (p[10] != 'T' && p[10] != 't' && p[10] != ' ') return Bad(text, "expected 'T' between date and time");
    const int h = TwoDigits(p + 11), mi = TwoDigits(p + 14), s = TwoDigits(p + 17);
    if ((h | mi | s) < 0 || p[13] != ':' || p[16] != ':') return Bad(text, "time must be HH:MM:SS");
    const int y = century * 100 + y2;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return Bad(text, "no such date");
    if (h > 23 || mi > 59 || s > 60) return Bad(text, "time out of range");

    std::size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        int scale_digits = 0;
        while (pos < text.size() && IsDigit(text[pos])) {
            if (scale_digits < 9) {
                nanos = nanos * 10 + (text[pos] - '0');
                ++scale_digits;
            }
            ++pos;
        }
        if (pos == start) return Bad(text, "a '.' must be followed by digits");
        nanos *= kPowersOfTen[9 - scale_digits];
    }

    if (pos >= text.size()) return Bad(text, "missing time zone ('Z' or ±HH:MM)");
    std::int64_t offset_seconds = 0;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        const int oh = pos + 6 <= text.size() ? TwoDigits(p + pos + 1) : -1;
        const int om = pos + 6 <= text.size() ? TwoDigits(p + pos + 4) : -1;
        if ((oh | om) < 0 || text[pos + 3] != ':') return Bad(text, "time zone offset must be ±HH:MM");
        if (oh > 23 || om > 59) return Bad(text, "time zone offset out of range");
        offset_seconds = std::int64_t{oh * 60 + om} * 60;
        if (text[pos] == '-') offset_seconds = -offset_seconds;
        pos += 6;
    } else {
        return Bad(text, "missing time zone ('Z' or ±HH:MM)");
    }
    if (pos != text.size()) return Bad(text, "unexpected characters after the time zone");

    // In whole seconds first: that cannot overflow for any four-digit year.
    const sys_seconds local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
    const std::int64_t whole = local.time_since_epoch().count() - offset_seconds;
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
