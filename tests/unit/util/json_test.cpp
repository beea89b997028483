#include "util/json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace railwatch::util {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
    EXPECT_EQ(JsonString("plain"), "\"plain\"");
    EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(JsonString("l1\nl2\r\t\b\f"), "\"l1\\nl2\\r\\t\\b\\f\"");
    EXPECT_EQ(JsonString(std::string_view("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(JsonString(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonString, RoundTripsThroughAJsonParserForEveryByteBelow0x80) {
    std::string all;
    for (int c = 0; c < 0x80; ++c)
        all.push_back(static_cast<char>(c));
    all += "héllo ✓";
    const auto parsed = nlohmann::json::parse(JsonString(all));
    EXPECT_EQ(parsed.get<std::string>(), all);
}

TEST(JsonString, AppendsToWhatIsThere) {
    std::string out = "{\"k\":";
    AppendJsonString(out, "v");
    out += '}';
    EXPECT_EQ(nlohmann::json::parse(out)["k"], "v");
}

}  // namespace
}  // namespace railwatch::util
