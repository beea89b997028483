#include "app/allocator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace railwatch::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

railway::EnvLookup EnvOf(std::map<std::string, std::string, std::less<>> values) {
    return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        if (auto it = values.find(name); it != values.end()) return it->second;
        return std::nullopt;
    };
}

TEST(MallocArenas, ServeLimitsThemUnlessTheUserChose) {
    EXPECT_THAT(MallocArenaLimitToSet(EnvOf({})), Optional(kServeMallocArenas));
    EXPECT_THAT(MallocArenaLimitToSet(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.tcache_count=0"}})),
                Optional(kServeMallocArenas));
    EXPECT_EQ(MallocArenaLimitToSet(EnvOf({{"MALLOC_ARENA_MAX", "8"}})), std::nullopt);
    EXPECT_EQ(MallocArenaLimitToSet(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.mxfast=0:glibc.malloc.arena_max=4"}})),
              std::nullopt);
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
TEST(HugePages, ServeAsksGlibcForThemWhenTheKernelGivesThemAndTheUserDidNotChoose) {
    const std::string madvise = "always [madvise] never";
    EXPECT_THAT(TunablesForHugePages(EnvOf({}), madvise), Optional(std::string("glibc.malloc.hugetlb=1")));
    EXPECT_THAT(TunablesForHugePages(EnvOf({}), "[always] madvise never"),
                Optional(std::string("glibc.malloc.hugetlb=1")));
    // The user's other tunables kept, this one added.
    EXPECT_THAT(TunablesForHugePages(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.arena_max=4"}}), madvise),
                Optional(std::string("glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1")));
    // The user's choice, either way, stands (and the restarted process sees its own: no loop).
    EXPECT_EQ(TunablesForHugePages(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.hugetlb=0"}}), madvise), std::nullopt);
    EXPECT_EQ(
        TunablesForHugePages(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.mxfast=0:glibc.malloc.hugetlb=1"}}), madvise),
        std::nullopt);
    // A name that only begins like it is another tunable.
    EXPECT_THAT(TunablesForHugePages(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.hugetlbx=1"}}), madvise),
                Optional(std::string("glibc.malloc.hugetlbx=1:glibc.malloc.hugetlb=1")));
    // The kernel gives none: nothing to ask for.
    EXPECT_EQ(TunablesForHugePages(EnvOf({}), "always madvise [never]"), std::nullopt);
    EXPECT_EQ(TunablesForHugePages(EnvOf({}), ""), std::nullopt);
}

TEST(HugePages, TheLogSaysWhenMallocRunsOnThem) {
    EXPECT_EQ(HugePagesInUse(EnvOf({})), std::nullopt);
    EXPECT_EQ(HugePagesInUse(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.hugetlb=0"}})), std::nullopt);
    EXPECT_THAT(HugePagesInUse(EnvOf({{"GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}})),
                Optional(HasSubstr("malloc on transparent huge pages (glibc.malloc.hugetlb=1")));
}
#endif

// Under ASan or TSan malloc is the sanitizer's, with no glibc arenas to count.
#if defined(__GLIBC__) && defined(M_ARENA_MAX) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// The number of arenas glibc has made, from malloc_info's report (one <heap> per arena).
int ArenasInUse() {
    char* text = nullptr;
    std::size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    if (out == nullptr || malloc_info(0, out) != 0) return -1;
    std::fclose(out);
    const std::string report(text, size);
    std::free(text);
    int arenas = 0;
    for (std::size_t at = report.find("<heap nr="); at != std::string::npos; at = report.find("<heap nr=", at + 1))
        ++arenas;
    return arenas;
}

// Eight threads that each allocate while all of them are alive; exits with the arena count.
[[noreturn]] void ExitWithArenasAfterEightThreads() {
    constexpr int kThreads = 8;
    std::latch allocated(kThreads);
    std::latch done(1);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            void* block = std::malloc(256);
            allocated.count_down();
            done.wait();
            std::free(block);
        });
    }
    allocated.wait();
    const int arenas = ArenasInUse();
    done.count_down();
    for (auto& thread : threads)
        thread.join();
    std::_Exit(arenas);
}

// The children re-run this binary ("threadsafe"), so no arena of an earlier test is inherited.
TEST(MallocArenasDeathTest, ThreadsStartedAfterTheLimitShareTwoArenas) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const auto line = LimitMallocArenas(EnvOf({}));
            if (!line || line->find("limited to 2 arenas") == std::string::npos) std::_Exit(100);
            ExitWithArenasAfterEightThreads();
        },
        ::testing::ExitedWithCode(kServeMallocArenas), "");
}

// The measure itself: without the limit the same threads get arenas of their own.
TEST(MallocArenasDeathTest, WithoutTheLimitThreadsGetArenasOfTheirOwn) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            if (LimitMallocArenas(EnvOf({{"MALLOC_ARENA_MAX", "8"}}))) std::_Exit(100);
            ExitWithArenasAfterEightThreads();
        },
        [](int status) {
            return WIFEXITED(status) && WEXITSTATUS(status) > kServeMallocArenas && WEXITSTATUS(status) < 100;
        },
        "");
}
#endif

}  // namespace
}  // namespace railwatch::app
