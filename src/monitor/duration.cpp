#include "monitor/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace railwatch::monitor {
namespace {

// At most this many characters of the input are quoted back, so that a pasted blob does not fill
// the terminal.
constexpr std::size_t kQuoteMax = 40;

struct Unit {
    std::string_view suffix;
    core::Duration length;
};

// Longest suffix first, so that "ms" is not read as "m" followed by "s".
constexpr Unit kUnits[] = {
    {"ms", std::chrono::milliseconds(1)},
    {"s", std::chrono::seconds(1)},
    {"m", std::chrono::minutes(1)},
    {"h", std::chrono::hours(1)},
};

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

util::Result<core::Duration> ParseDuration(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        std::string quoted(text.substr(0, kQuoteMax));
        if (text.size() > kQuoteMax) quoted += "...";
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("invalid duration \"{}\": {}; use e.g. 90s, 10m, 1h30m or 500ms", quoted, why));
    };
    const auto too_large = [&] {
        return bad(fmt::format("it is too large (at most {})", FormatDuration(kMaxDuration)));
    };
    if (text.empty()) return bad("it is empty");
    if (text.front() == '-') return bad("it is negative");

    // Every quantity below stays within [0, kMaxDuration] nanoseconds, so no step can overflow:
    // a count is rejected as soon as it exceeds what the longest duration could hold in the
    // smallest unit, and every product and sum is checked against kMaxDuration before it is made.
    const std::int64_t max_ns = kMaxDuration.count();
    std::int64_t total_ns = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        if (!IsDigit(rest.front()))
            return bad(rest.front() == '.' ? "use whole numbers (e.g. 90s, not 1.5m)" : "expected a number");
        std::int64_t count = 0;
        while (!rest.empty() && IsDigit(rest.front())) {
            count = count * 10 + (rest.front() - '0');
            if (count > max_ns) return too_large();
            rest.remove_prefix(1);
        }
        if (!rest.empty() && rest.front() == '.') return bad("use whole numbers (e.g. 90s, not 1.5m)");
        const auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                       [&](const Unit& u) { return rest.starts_with(u.suffix); });
        if (unit == std::end(kUnits)) {
            return bad(rest.empty() ? "a unit is missing (ms, s, m or h)" : "unknown unit (use ms, s, m or h)");
        }
        rest.remove_prefix(unit->suffix.size());
        const std::int64_t unit_ns = unit->length.count();
        if (count > (max_ns - total_ns) / unit_ns) return too_large();
        total_ns += count * unit_ns;
    }
    if (total_ns == 0) return bad("it must be longer than zero");
    return core::Duration(total_ns);
}

std::string FormatDuration(core::Duration d) {
    if (d <= core::Duration::zero()) return "0s";
    if (d < std::chrono::seconds(1)) {
        return fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    }
    long long s = core::ToSeconds(d);
    const long long h = s / 3600;
    const long long m = (s % 3600) / 60;
    s %= 60;
    if (h > 0) return fmt::format("{}h{:02}m{:02}s", h, m, s);
    if (m > 0) return fmt::format("{}m{:02}s", m, s);
    return fmt::format("{}s", s);
}

}  // namespace railwatch::monitor
