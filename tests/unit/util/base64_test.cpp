// Standard base64 (util/base64.hpp): every length round-trips, padding optional, garbage refused.
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace railwatch::util {
namespace {

TEST(Base64, RoundTripsEveryLengthAndRejectsGarbage) {
    std::string bytes;
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(Base64Decode(Base64Encode(bytes)).value(), bytes) << i;
        bytes += static_cast<char>(i * 37);
    }
    EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(Base64Decode("Zm9vYg").value(), "foob");  // padding optional
    EXPECT_FALSE(Base64Decode("Zm9v!mFy"));
    EXPECT_FALSE(Base64Decode("Zm9vY"));
}

}  // namespace
}  // namespace railwatch::util
