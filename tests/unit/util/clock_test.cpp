#include "util/clock.hpp"

#include <gtest/gtest.h>

#include <set>

#include "util/ids.hpp"
#include "util/result.hpp"

namespace railwatch::util {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, StartsAtTheGivenTimeAndMovesOnlyWhenTold) {
    FakeClock clock;
    const auto wall = clock.Now();
    const auto steady = clock.Steady();
    EXPECT_EQ(clock.Now(), wall);
    clock.Advance(1500ms);
    EXPECT_EQ(clock.Now() - wall, 1500ms);
    EXPECT_EQ(clock.Steady() - steady, 1500ms);
}

TEST(FakeClock, SetMovesWallTimeAndNeverMovesSteadyTimeBackwards) {
    FakeClock clock;
    const auto steady = clock.Steady();
    clock.Set(clock.Now() + 10s);
    EXPECT_EQ(clock.Steady() - steady, 10s);
    clock.Set(clock.Now() - 60s);
    EXPECT_EQ(clock.Steady() - steady, 10s);
}

TEST(SystemClock, WallTimeIsAfter2025AndSteadyTimeIsMonotonic) {
    SystemClock clock;
    EXPECT_GT(clock.Now(), FakeClock::DefaultStart() - std::chrono::hours(24 * 365));
    const auto a = clock.Steady();
    const auto b = clock.Steady();
    EXPECT_LE(a, b);
}

TEST(Ids, HavePrefixAndAreDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = NewId("ins");
        ASSERT_EQ(id.rfind("ins_", 0), 0u);
        ASSERT_EQ(id.size(), 24u);
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(Result, CarriesErrorCodeAndMessage) {
    Result<int> r = Fail(ErrorCode::kNotFound, "no instance ins_x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().ToString(), "not_found: no instance ins_x");
    Result<void> ok = Ok();
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace railwatch::util
