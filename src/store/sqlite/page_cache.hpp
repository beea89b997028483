#pragma once

#include <cstdint>

/// SQLite's own page cache with one thing less: a commit that has no page to drop does not look
/// through the whole cache for one.
namespace railwatch::store::sqlite {

/// Installs (once; thread-safe) a page cache in front of SQLite's default one (pcache1) for the
/// whole process. Every call is pcache1's own except `xTruncate`, which is skipped when no page of
/// the cache can have a key at or past the limit. Why: every commit asks the cache to drop the
/// pages past the database's end (pager_end_transaction); a B-tree balance that swaps two new
/// pages' numbers parks one at a temporary key far past the end (balance_nonroot: the locking
/// page's number, 262,145 with 4 KiB pages), and pcache1 remembers that key as its largest, so
/// the next commit walks every bucket and every page of a 32 MiB cache (~8,000 pages) to drop
/// nothing — a quarter of the writer's CPU at 100,000 instances (docs/PERFORMANCE.md). Here each
/// cache keeps an upper bound on its pages' keys (the largest fetched, or moved to and not moved
/// away again), so a truncation below it is passed on and one above it costs nothing.
///
/// SQLite takes a page cache only before it initialises: call this before the process opens its
/// first database. Returns false when SQLite was already initialised (or refused the cache):
/// then pcache1 serves alone, as correct and only slower at commits.
bool InstallPageCache();

/// What the installed cache did since the process started (all caches together; for tests and
/// diagnostics). Thread-safe.
struct PageCacheCounts {
    std::uint64_t truncations_passed = 0;   ///< handed to pcache1 (a page may lie past the limit)
    std::uint64_t truncations_skipped = 0;  ///< none could: nothing done
};
PageCacheCounts PageCacheCountsNow();

}  // namespace railwatch::store::sqlite
