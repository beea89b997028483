#include "app/allocator.hpp"

#include <fmt/core.h>

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace railwatch::app {

std::optional<int> MallocArenaLimitToSet(const railway::EnvLookup& env) {
    if (env("MALLOC_ARENA_MAX")) return std::nullopt;
    if (auto tunables = env("GLIBC_TUNABLES");
        tunables && tunables->find("glibc.malloc.arena_max=") != std::string::npos)
        return std::nullopt;
    return kServeMallocArenas;
}

std::optional<std::string> LimitMallocArenas(const railway::EnvLookup& env) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    const std::optional<int> limit = MallocArenaLimitToSet(env);
    if (!limit) return std::nullopt;
    if (mallopt(M_ARENA_MAX, *limit) != 1) return fmt::format("could not limit malloc to {} arenas", *limit);
    return fmt::format("malloc limited to {} arenas (set MALLOC_ARENA_MAX to choose)", *limit);
#else
    (void)env;
    return std::nullopt;
#endif
}

}  // namespace railwatch::app
