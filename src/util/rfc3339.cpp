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

int DaysInMonth(int year, int month) {
    static constexpr std::array<std::uint8_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return kDays[static_cast<std::size_t>(month - 1)] + (month == 2 && leap ? 1 : 0);
}

// Days since 1970-01-01 of a valid date of a year from 0 to 9999 (H. Hinnant's days_from_civil,
// as std::chrono::sys_days computes it).
std::int64_t DaysFromCivil(int year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const int year_of_era = year - era * 400;                                               // [0, 399]
    const int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return std::int64_t{era} * 146'097 + day_of_era - 719'468;
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
    // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters). Read with plain arithmetic rather than
    // <chrono>'s calendar types: every status check reads three of these, every log line one.
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
    if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return Bad(text, "no such date");
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
    const std::int64_t whole =
        DaysFromCivil(y, mo, d) * 86'400 + std::int64_t{h * 3'600 + mi * 60 + s} - offset_seconds;
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
