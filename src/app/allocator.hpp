#pragma once

#include <optional>
#include <string>

#include "railway/config.hpp"

namespace railwatch::app {

// How many malloc arenas `serve` lets glibc create unless the user chose. glibc gives a thread
// that meets contention an arena of its own, up to eight per core, and each keeps the memory its
// threads freed; serve's threads (pollers, job workers, curl, writer, prober, HTTP) then held
// 36–50 MiB more after ten minutes at 100,000 instances than with two arenas, at no CPU cost seen
// (docs/PERFORMANCE.md, "glibc's arenas").
inline constexpr int kServeMallocArenas = 2;

// The arena limit serve should set, or nullopt when the user set one through glibc's own
// variables (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in GLIBC_TUNABLES), which glibc has
// already applied and a later mallopt would override. Pure.
std::optional<int> MallocArenaLimitToSet(const railway::EnvLookup& env);

// Sets glibc's arena limit (mallopt M_ARENA_MAX) when MallocArenaLimitToSet says so. Call before
// any thread starts: threads that already own an arena keep it. Returns a line for the log, or
// nullopt when nothing was set (the user's choice, or not glibc).
std::optional<std::string> LimitMallocArenas(const railway::EnvLookup& env);

}  // namespace railwatch::app
