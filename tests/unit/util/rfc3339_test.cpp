#include "util/rfc3339.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace railwatch::util {
namespace {

using namespace std::chrono;

core::Timestamp At(int y, unsigned mo, unsigned d, int h, int mi, int s, long long ns = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{ns};
}

TEST(Rfc3339, ParsesRailwayLogTimestampWithNanoseconds) {
    auto t = ParseRfc3339("2026-11-29T02:36:45.123456789Z");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(*t, At(2026, 11, 29, 2, 36, 45, 123456789));
}

TEST(Rfc3339, ParsesWithoutFraction) {
    auto t = ParseRfc3339("2026-01-01T00:00:00Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, At(2026, 1, 1, 0, 0, 0));
}

TEST(Rfc3339, ShortFractionsAreScaled) {
    EXPECT_EQ(*ParseRfc3339("2026-01-01T00:00:00.5Z"), At(2026, 1, 1, 0, 0, 0, 500000000));
    EXPECT_EQ(*ParseRfc3339("2026-01-01T00:00:00.123Z"), At(2026, 1, 1, 0, 0, 0, 123000000));
}

TEST(Rfc3339, FractionsLongerThanNanosecondsAreTruncated) {
    EXPECT_EQ(*ParseRfc3339("2026-01-01T00:00:00.1234567899Z"), At(2026, 1, 1, 0, 0, 0, 123456789));
}

TEST(Rfc3339, AppliesPositiveAndNegativeOffsets) {
    EXPECT_EQ(*ParseRfc3339("2026-11-29T10:36:45+08:00"), At(2026, 11, 29, 2, 36, 45));
    EXPECT_EQ(*ParseRfc3339("2026-11-28T21:06:45-05:30"), At(2026, 11, 29, 2, 36, 45));
}

TEST(Rfc3339, AcceptsLowercaseSeparatorsAndSpace) {
    EXPECT_EQ(*ParseRfc3339("2026-11-29t02:36:45z"), At(2026, 11, 29, 2, 36, 45));
    EXPECT_EQ(*ParseRfc3339("2026-11-29 02:36:45Z"), At(2026, 11, 29, 2, 36, 45));
}

TEST(Rfc3339, LeapSecondIsTheNextMinute) {
    EXPECT_EQ(*ParseRfc3339("2016-12-31T23:59:60Z"), At(2017, 1, 1, 0, 0, 0));
}

TEST(Rfc3339, LeapDayIsValidOnlyInLeapYears) {
    EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z"));
    EXPECT_FALSE(ParseRfc3339("2026-02-29T00:00:00Z"));
}

class Rfc3339Invalid : public ::testing::TestWithParam<const char*> {};

TEST_P(Rfc3339Invalid, IsRejectedWithAParseErrorQuotingTheInput) {
    const std::string input = GetParam();
    auto t = ParseRfc3339(input);
    ASSERT_FALSE(t) << input;
    EXPECT_EQ(t.error().code, ErrorCode::kParse);
    EXPECT_NE(t.error().message.find("invalid RFC 3339"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Inputs, Rfc3339Invalid,
                         ::testing::Values("", "2026-11-29", "2026-11-29T02:36:45", "2026-13-01T00:00:00Z",
                                           "2026-11-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T02:60:00Z",
                                           "2026-11-29T02:36:45.Z", "2026-11-29T02:36:45+0800",
                                           "2026-11-29T02:36:45Zjunk", "2026-11-29X02:36:45Z", "abcd-ef-ghTij:kl:mnZ",
                                           "2026-11-29T02:36:45+25:00"));

TEST(Rfc3339, FormatsEachPrecision) {
    const auto t = At(2026, 11, 29, 2, 36, 45, 123456789);
    EXPECT_EQ(FormatRfc3339(t, TimePrecision::kSeconds), "2026-11-29T02:36:45Z");
    EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMillis), "2026-11-29T02:36:45.123Z");
    EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMicros), "2026-11-29T02:36:45.123456Z");
    EXPECT_EQ(FormatRfc3339(t, TimePrecision::kNanos), "2026-11-29T02:36:45.123456789Z");
}

TEST(Rfc3339, AppendAddsTheSameTextAfterWhatIsThere) {
    const auto t = At(2026, 11, 29, 2, 36, 45, 123456789);
    std::string out = "at ";
    AppendRfc3339(out, t, TimePrecision::kMillis);
    out += ", ";
    AppendRfc3339(out, t, TimePrecision::kNanos);
    EXPECT_EQ(out, "at 2026-11-29T02:36:45.123Z, 2026-11-29T02:36:45.123456789Z");
}

TEST(Rfc3339, FormatsTimesBeforeTheEpoch) {
    EXPECT_EQ(FormatRfc3339(At(1969, 12, 31, 23, 59, 59, 500000000)), "1969-12-31T23:59:59.500Z");
}

TEST(Rfc3339, RoundTripsAtNanosecondPrecision) {
    for (long long ns : {0LL, 1LL, 999999999LL, 123000000LL}) {
        const auto t = At(2030, 6, 15, 12, 0, 1, ns);
        auto parsed = ParseRfc3339(FormatRfc3339(t, TimePrecision::kNanos));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, t);
    }
}

// Every day of the representable range, at each precision Railway sends, reads back as the
// instant <chrono>'s calendar gives: the parser reads the digits itself.
TEST(Rfc3339, EveryDayOfTheRangeReadsAsTheCalendarSaysAtEachPrecision) {
    const sys_days first = year{1678} / 1 / 1;
    const sys_days last = year{2261} / 12 / 31;
    int count = 0;
    for (sys_days day = first; day <= last; day += days{1}) {
        const core::Timestamp t = day + hours{23} + minutes{59} + seconds{58} + nanoseconds{987654321};
        for (const TimePrecision precision : {TimePrecision::kSeconds, TimePrecision::kMillis, TimePrecision::kNanos}) {
            const std::string text = FormatRfc3339(t, precision);
            const auto parsed = ParseRfc3339(text);
            ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
            const auto kept = precision == TimePrecision::kSeconds  ? floor<seconds>(t)
                              : precision == TimePrecision::kMillis ? floor<milliseconds>(t)
                                                                    : t;
            ASSERT_EQ(*parsed, kept) << text;
        }
        ++count;
    }
    EXPECT_EQ(count, 213'301);
}

TEST(Rfc3339, TheCenturyRuleDecidesTheLeapDay) {
    EXPECT_FALSE(ParseRfc3339("1900-02-29T00:00:00Z"));
    EXPECT_FALSE(ParseRfc3339("2100-02-29T00:00:00Z"));
    EXPECT_EQ(*ParseRfc3339("2000-02-29T00:00:00Z"), At(2000, 2, 29, 0, 0, 0));
    EXPECT_EQ(*ParseRfc3339("2000-03-01T00:00:00Z") - *ParseRfc3339("2000-02-28T00:00:00Z"), hours{48});
    EXPECT_EQ(*ParseRfc3339("2100-03-01T00:00:00Z") - *ParseRfc3339("2100-02-28T00:00:00Z"), hours{24});
}

TEST(Rfc3339, AnOffsetCutShortIsRejected) {
    for (const char* input : {"2026-11-29T02:36:45+08", "2026-11-29T02:36:45+08:", "2026-11-29T02:36:45+08:0",
                              "2026-11-29T02:36:45+0a:00", "2026-11-29T02:36:45-08:6x"}) {
        const auto t = ParseRfc3339(input);
        ASSERT_FALSE(t) << input;
        EXPECT_NE(t.error().message.find("±HH:MM"), std::string::npos) << t.error().message;
    }
}

TEST(Rfc3339, AcceptsTheFirstAndLastRepresentableNanosecond) {
    const auto first = ParseRfc3339("1677-09-21T00:12:43.145224192Z");
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, core::Timestamp::min());
    const auto last = ParseRfc3339("2262-04-11T23:47:16.854775807Z");
    ASSERT_TRUE(last) << last.error().message;
    EXPECT_EQ(*last, core::Timestamp::max());
    // An offset can bring a time from just outside the range into it.
    const auto shifted = ParseRfc3339("2262-04-12T00:47:16.854775807+01:00");
    ASSERT_TRUE(shifted);
    EXPECT_EQ(*shifted, core::Timestamp::max());
}

TEST(Rfc3339, FormatsTheEndsOfTheRangeWithoutOverflowing) {
    EXPECT_EQ(FormatRfc3339(core::Timestamp::min(), TimePrecision::kNanos), "1677-09-21T00:12:43.145224192Z");
    EXPECT_EQ(FormatRfc3339(core::Timestamp::max(), TimePrecision::kNanos), "2262-04-11T23:47:16.854775807Z");
}

class Rfc3339OutOfRange : public ::testing::TestWithParam<const char*> {};

// Each of these overflowed int64 nanoseconds before (signed overflow: UB, caught by UBSan).
TEST_P(Rfc3339OutOfRange, IsRejectedWithAClearError) {
    const std::string input = GetParam();
    auto t = ParseRfc3339(input);
    ASSERT_FALSE(t) << input << " parsed as " << FormatRfc3339(*t);
    EXPECT_EQ(t.error().code, ErrorCode::kParse);
    EXPECT_NE(t.error().message.find("\"" + input + "\""), std::string::npos) << t.error().message;
    const bool five_digits = input.size() > 4 && input[4] != '-';
    EXPECT_NE(
        t.error().message.find(five_digits ? "more than four digits" : "outside the range railwatch can represent"),
        std::string::npos)
        << t.error().message;
}

INSTANTIATE_TEST_SUITE_P(Inputs, Rfc3339OutOfRange,
                         ::testing::Values("1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808Z",
                                           "2262-04-11T23:47:16.854775807-00:01", "1677-09-21T00:12:43.145224192+00:01",
                                           "1000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2263-01-01T00:00:00Z",
                                           "9999-12-31T23:59:59.999999999Z", "99999-01-01T00:00:00Z",
                                           "123456789-01-01T00:00:00Z"));

TEST(Rfc3339, LongGarbageIsQuotedShortened) {
    const std::string input(1000, 'x');
    auto t = ParseRfc3339(input);
    ASSERT_FALSE(t);
    EXPECT_LT(t.error().message.size(), 200u);
}

}  // namespace
}  // namespace railwatch::util
