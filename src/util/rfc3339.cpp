#include "util/rfc3339.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

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

tl::unexpected<Error> Bad(std::string_view text, std::string_view what) {
    constexpr std::size_t kQuoteMax = 64;
    std::string quoted(text.substr(0, kQuoteMax));
    if (text.size() > kQuoteMax) quoted += "...";
    return Fail(ErrorCode::kParse, fmt::format("invalid RFC 3339 timestamp \"{}\": {}", quoted, what));
}

}  // namespace

std::string FormatRfc3339(core::Timestamp t, TimePrecision precision) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const auto since_midnight = t - day;
    const hh_mm_ss<core::Duration> hms{since_midnight};
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                  hms.hours().count(), hms.minutes().count(), hms.seconds().count());
    const long long nanos = hms.subseconds().count();
    switch (precision) {
        case TimePrecision::kSeconds:
            break;
        case TimePrecision::kMillis:
            out += fmt::format(".{:03}", nanos / 1'000'000);
            break;
        case TimePrecision::kMicros:
            out += fmt::format(".{:06}", nanos / 1'000);
            break;
        case TimePrecision::kNanos:
            out += fmt::format(".{:09}", nanos);
            break;
    }
    out += 'Z';
    return out;
}

Result<core::Timestamp> ParseRfc3339(std::string_view text) {
    // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters).
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
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

    core::Timestamp t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{nanos};
    return t - offset;
}

}  // namespace railwatch::util
