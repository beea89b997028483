#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// The GLIBC_TUNABLES value under which glibc's malloc backs its heaps with transparent huge
// pages (glibc.malloc.hugetlb=1, glibc 2.35 and later: MADV_HUGEPAGE on what it takes from the
// kernel), or nullopt when serve should leave malloc as it is: the user chose
// (glibc.malloc.hugetlb in GLIBC_TUNABLES), or the kernel gives none (`thp_enabled`, the text of
// /sys/kernel/mm/transparent_hugepage/enabled, selects "never" or is empty). Serve's fleet is
// ~200 MiB of entries, rows and indexes that a check visits at random: on 4 KiB pages most
// visits miss the TLB (docs/PERFORMANCE.md, "Malloc on transparent huge pages"). Pure.
std::optional<std::string> TunablesForHugePages(const railway::EnvLookup& env, std::string_view thp_enabled);

// Restarts this process (execv of /proc/self/exe with the same arguments) with
// TunablesForHugePages in its environment, when that says to: glibc reads its tunables only as a
// process starts. Call first thing, before any thread or file; the process id stays. Returns only
// when nothing was done (nullopt) or the restart failed (a line for the log: serve goes on as it
// is).
std::optional<std::string> RestartWithHugePages(const railway::EnvLookup& env);

// A line for the log when malloc runs on transparent huge pages (glibc.malloc.hugetlb=1 in
// GLIBC_TUNABLES), else nullopt.
std::optional<std::string> HugePagesInUse(const railway::EnvLookup& env);

}  // namespace railwatch::app
