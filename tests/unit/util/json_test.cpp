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

// Eight bytes are looked at together until one may need escaping: a character to escape at any
// place of a text (within the first word, the last, across words, after UTF-8) is escaped, and
// the text is written as nlohmann's writer writes it.
TEST(JsonString, EscapesACharacterAtAnyPlaceOfALongText) {
    const std::string base = "3f2a9c1e-5b7d-4e8f-9a0b-10000000000é✓ok";
    for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\0'}) {
        for (std::size_t at = 0; at <= base.size(); ++at) {
            if (at < base.size() && (static_cast<unsigned char>(base[at]) & 0xC0) == 0x80)
                continue;  // inside a UTF-8 character
            std::string text = base;
            text.insert(at, 1, special);
            EXPECT_EQ(JsonString(text), nlohmann::json(text).dump()) << "at " << at << ", byte " << int(special);
        }
    }
    for (std::size_t size = 0; size <= 24; ++size) {  // plain texts of every length around the words
        const std::string text(size, 'x');
        EXPECT_EQ(JsonString(text), "\"" + text + "\"");
    }
}

TEST(JsonString, AppendsToWhatIsThere) {
    std::string out = "{\"k\":";
    AppendJsonString(out, "v");
    out += '}';
    EXPECT_EQ(nlohmann::json::parse(out)["k"], "v");
}

}  // namespace
}  // namespace railwatch::util
