#include "monitor/duration.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace railwatch::monitor {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(ParseDuration, ReadsEachUnitAndPartsThatAddUp) {
    EXPECT_EQ(ParseDuration("90s").value(), seconds(90));
    EXPECT_EQ(ParseDuration("10m").value(), minutes(10));
    EXPECT_EQ(ParseDuration("2h").value(), hours(2));
    EXPECT_EQ(ParseDuration("250ms").value(), milliseconds(250));
    EXPECT_EQ(ParseDuration("1h30m").value(), minutes(90));
    EXPECT_EQ(ParseDuration("1m30s500ms").value(), milliseconds(90'500));
    EXPECT_EQ(ParseDuration("5s5s").value(), seconds(10));
    EXPECT_EQ(ParseDuration("007s").value(), seconds(7));
}

TEST(ParseDuration, AcceptsExactlyTheLongestDuration) {
    EXPECT_EQ(ParseDuration("8784h").value(), kMaxDuration);
    EXPECT_EQ(ParseDuration("8783h60m").value(), kMaxDuration);
    EXPECT_FALSE(ParseDuration("8784h1ms"));
}

struct BadDuration {
    const char* input;
    const char* why;
};

class ParseDurationRejects : public ::testing::TestWithParam<BadDuration> {};

TEST_P(ParseDurationRejects, WithAnErrorQuotingTheInput) {
    const BadDuration& bad = GetParam();
    const auto parsed = ParseDuration(bad.input);
    ASSERT_FALSE(parsed) << bad.input;
    EXPECT_EQ(parsed.error().code, util::ErrorCode::kInvalidArgument);
    const std::string input = bad.input;
    const std::string quoted = input.size() <= 40 ? input + "\"" : input.substr(0, 40) + "...\"";
    EXPECT_THAT(parsed.error().message, HasSubstr("invalid duration \"" + quoted));
    EXPECT_THAT(parsed.error().message, HasSubstr(bad.why));
    EXPECT_THAT(parsed.error().message, HasSubstr("use e.g. 90s, 10m, 1h30m or 500ms"));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ParseDurationRejects,
    ::testing::Values(BadDuration{"", "it is empty"}, BadDuration{"10", "a unit is missing"},
                      BadDuration{"soon", "expected a number"}, BadDuration{"-5s", "it is negative"},
                      BadDuration{"+5s", "expected a number"}, BadDuration{" 5s", "expected a number"},
                      BadDuration{"5 s", "unknown unit"}, BadDuration{"5d", "unknown unit"},
                      BadDuration{"1.5m", "whole numbers"}, BadDuration{"0s", "longer than zero"},
                      BadDuration{"0h0m", "longer than zero"}, BadDuration{"5s10", "a unit is missing"},
                      // Each of these overflowed int64 nanoseconds before (signed overflow, UB).
                      BadDuration{"9999999999h", "too large (at most 8784h00m00s)"},
                      BadDuration{"99999999999999999999s", "too large"},
                      BadDuration{"9223372036854775807ms", "too large"}, BadDuration{"2562047h", "too large"},
                      BadDuration{"5000h5000h", "too large"},
                      BadDuration{"1000000000h1000000000h1000000000h1000000000h", "too large"}));

TEST(ParseDuration, NeverOverflowsOnManyPartsThatEachFit) {
    // 9000 parts of 8784h: each part fits, their sum does not.
    std::string text;
    for (int i = 0; i < 9000; ++i)
        text += "8784h";
    const auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed);
    EXPECT_THAT(parsed.error().message, HasSubstr("too large"));
    EXPECT_THAT(parsed.error().message, HasSubstr("\"8784h8784h8784h8784h8784h8784h8784h8784h...\""));
}

TEST(ParseDuration, NeverOverflowsOnAnEndlessNumber) {
    const auto parsed = ParseDuration(std::string(10'000, '9') + "ms");
    ASSERT_FALSE(parsed);
    EXPECT_THAT(parsed.error().message, HasSubstr("too large"));
}

TEST(FormatDuration, ShowsHoursMinutesAndSeconds) {
    EXPECT_EQ(FormatDuration(hours(1) + minutes(2) + seconds(3)), "1h02m03s");
    EXPECT_EQ(FormatDuration(minutes(4) + seconds(5)), "4m05s");
    EXPECT_EQ(FormatDuration(seconds(12)), "12s");
    EXPECT_EQ(FormatDuration(milliseconds(12'999)), "12s");  // rounded down
    EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
    EXPECT_EQ(FormatDuration(core::Duration::zero()), "0s");
    EXPECT_EQ(FormatDuration(-seconds(5)), "0s");
    EXPECT_EQ(FormatDuration(kMaxDuration), "8784h00m00s");
}

}  // namespace
}  // namespace railwatch::monitor
