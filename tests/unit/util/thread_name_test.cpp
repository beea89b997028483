#include "util/thread_name.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace railwatch::util {
namespace {

std::string NameSeenInAThreadNamed(std::string_view name) {
    std::string seen;
    std::thread thread([&] {
        NameThisThread(name);
        seen = ThisThreadName();
    });
    thread.join();
    return seen;
}

TEST(ThreadName, AThreadReadsBackTheNameItWasGiven) {
    EXPECT_EQ(NameSeenInAThreadNamed("rw-poll-3"), "rw-poll-3");
}

TEST(ThreadName, ANameLongerThanTheSystemKeepsIsCutAtFifteenBytes) {
    EXPECT_EQ(NameSeenInAThreadNamed("rw-a-much-longer-name-than-fits"), "rw-a-much-longe");
}

TEST(ThreadName, NamingOneThreadLeavesTheOthersAlone) {
    const std::string before = ThisThreadName();
    (void)NameSeenInAThreadNamed("rw-other");
    EXPECT_EQ(ThisThreadName(), before);
}

}  // namespace
}  // namespace railwatch::util
