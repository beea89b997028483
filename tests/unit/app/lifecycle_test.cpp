#include "app/lifecycle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace railwatch::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Adds a component that records "start NAME" / "stop NAME"; `fail` makes its start fail.
void AddRecorded(Lifecycle& life, std::vector<std::string>& log, const std::string& name, bool fail = false) {
    life.Add(
        name,
        [&log, name, fail]() -> util::Result<void> {
            log.push_back("start " + name);
            if (fail) return util::Fail(util::ErrorCode::kUnavailable, "port in use");
            return util::Ok();
        },
        [&log, name] { log.push_back("stop " + name); });
}

TEST(Lifecycle, StartsInOrderAndStopsInReverseOrder) {
    std::vector<std::string> log;
    Lifecycle life;
    AddRecorded(life, log, "store");
    AddRecorded(life, log, "monitor");
    AddRecorded(life, log, "api");
    ASSERT_TRUE(life.Start());
    EXPECT_THAT(life.Running(), ElementsAre("store", "monitor", "api"));
    life.Stop();
    EXPECT_THAT(log,
                ElementsAre("start store", "start monitor", "start api", "stop api", "stop monitor", "stop store"));
    EXPECT_TRUE(life.Running().empty());
}

TEST(Lifecycle, WhenAStartFailsTheStartedOnesStopInReverseExactlyOnce) {
    std::vector<std::string> log;
    {
        Lifecycle life;
        AddRecorded(life, log, "store");
        AddRecorded(life, log, "monitor");
        AddRecorded(life, log, "api", /*fail=*/true);
        AddRecorded(life, log, "never");
        const auto started = life.Start();
        ASSERT_FALSE(started);
        EXPECT_EQ(started.error().code, util::ErrorCode::kUnavailable);
        EXPECT_THAT(started.error().message, HasSubstr("starting api failed: port in use"));
        life.Stop();  // nothing left to stop
    }                 // nor in the destructor
    EXPECT_THAT(log, ElementsAre("start store", "start monitor", "start api", "stop monitor", "stop store"));
}

TEST(Lifecycle, StopTwiceAndTheDestructorStopEachComponentOnce) {
    std::vector<std::string> log;
    {
        Lifecycle life;
        AddRecorded(life, log, "a");
        AddRecorded(life, log, "b");
        ASSERT_TRUE(life.Start());
        life.Stop();
        life.Stop();
    }
    EXPECT_THAT(log, ElementsAre("start a", "start b", "stop b", "stop a"));
}

TEST(Lifecycle, TheDestructorStopsWhatIsRunning) {
    std::vector<std::string> log;
    {
        Lifecycle life;
        AddRecorded(life, log, "a");
        AddRecorded(life, log, "b");
        ASSERT_TRUE(life.Start());
    }
    EXPECT_THAT(log, ElementsAre("start a", "start b", "stop b", "stop a"));
}

TEST(Lifecycle, AThrowingStartIsAFailureAndAThrowingStopDoesNotSkipTheOthers) {
    std::vector<std::string> log;
    Lifecycle life;
    AddRecorded(life, log, "a");
    life.Add(
        "b",
        [&log]() -> util::Result<void> {
            log.push_back("start b");
            return util::Ok();
        },
        [&log] {
            log.push_back("stop b");
            throw std::runtime_error("boom");
        });
    life.Add(
        "c", []() -> util::Result<void> { throw std::runtime_error("cannot bind"); },
        [&log] { log.push_back("stop c"); });
    const auto started = life.Start();
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code, util::ErrorCode::kInternal);
    EXPECT_THAT(started.error().message, HasSubstr("starting c failed: cannot bind"));
    EXPECT_THAT(log, ElementsAre("start a", "start b", "stop b", "stop a"));
}

TEST(Lifecycle, ComponentsWithoutStartOrStopAreAllowed) {
    std::vector<std::string> log;
    Lifecycle life;
    life.Add("clock", nullptr, nullptr);
    AddRecorded(life, log, "a");
    ASSERT_TRUE(life.Start());
    EXPECT_THAT(life.Running(), ElementsAre("clock", "a"));
    life.Stop();
    EXPECT_THAT(log, ElementsAre("start a", "stop a"));
}

TEST(Lifecycle, StartTwiceIsRefused) {
    Lifecycle life;
    ASSERT_TRUE(life.Start());
    EXPECT_FALSE(life.Start());
}

}  // namespace
}  // namespace railwatch::app
