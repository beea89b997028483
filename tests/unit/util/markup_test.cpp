#include "util/markup.hpp"

#include <gtest/gtest.h>

namespace railwatch::util {
namespace {

TEST(EscapeMarkup, EscapesTheFiveCharactersMarkupGivesMeaningAndKeepsTheRest) {
    EXPECT_EQ(EscapeMarkup("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    EXPECT_EQ(EscapeMarkup("plain text, é ✓"), "plain text, é ✓");
    EXPECT_EQ(EscapeMarkup(""), "");
    EXPECT_EQ(EscapeMarkup("&amp;"), "&amp;amp;");  // escaping is not undone or skipped
}

}  // namespace
}  // namespace railwatch::util
