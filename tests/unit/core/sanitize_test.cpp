#include "core/sanitize.hpp"

#include <gtest/gtest.h>

#include <string>

namespace railwatch::core {
namespace {

using namespace std::string_literals;

TEST(SanitizeText, DropsNulBytes) {
    EXPECT_EQ(SanitizeText("a\0b\0"s, 100), "ab");
}

TEST(SanitizeText, ReplacesInvalidUtf8AndKeepsValidText) {
    EXPECT_EQ(SanitizeText("ok \xC3\xA9 \xFF end", 100), "ok \xC3\xA9 \xEF\xBF\xBD end");
    EXPECT_EQ(SanitizeText("\xED\xA0\x80", 100), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    EXPECT_EQ(SanitizeText("cut \xE2\x82", 100), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(SanitizeText, CutsAtACharacterBoundary) {
    EXPECT_EQ(SanitizeText("ab\xC3\xA9", 3), "ab");
    EXPECT_EQ(SanitizeText("abcdef", 4), "abcd");
}

}  // namespace
}  // namespace railwatch::core
