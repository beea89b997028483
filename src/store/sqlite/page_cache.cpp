#include "store/sqlite/page_cache.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <new>

namespace railwatch::store::sqlite {
namespace {

// SQLite's default page cache (pcache1), as it handed itself out before we installed ours.
sqlite3_pcache_methods2 g_default{};

std::atomic<std::uint64_t> g_passed{0};
std::atomic<std::uint64_t> g_skipped{0};

// A page moved (xRekey) to a key past the bound, not moved away again yet.
struct Moved {
    sqlite3_pcache_page* page = nullptr;
    unsigned key = 0;
};

// One cache: pcache1's, and a bound on its pages' keys. Every page has a key ≤ `bound`, or is one
// of `moved`; when more pages are moved past the bound than `moved` holds, `lost` says that
// nothing is known (every truncation is passed on, and the next one restores the bound). SQLite
// calls a cache's methods from one thread at a time (the connection's).
struct Cache {
    sqlite3_pcache* inner = nullptr;
    unsigned bound = 0;
    std::array<Moved, 4> moved{};  // balance_nonroot parks one page at a time
    std::size_t moved_count = 0;
    bool lost = false;
};

Cache& Of(sqlite3_pcache* cache) {
    return *reinterpret_cast<Cache*>(cache);
}

void Forget(Cache& c, sqlite3_pcache_page* page) {
    for (std::size_t i = 0; i < c.moved_count; ++i) {
        if (c.moved[i].page == page) {
            c.moved[i] = c.moved[--c.moved_count];
            return;
        }
    }
}

int Init(void*) {
    return g_default.xInit(g_default.pArg);
}

void Shutdown(void*) {
    if (g_default.xShutdown != nullptr) g_default.xShutdown(g_default.pArg);
}

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
    auto* c = new (std::nothrow) Cache();
    if (c == nullptr) return nullptr;
    c->inner = g_default.xCreate(page_size, extra_size, purgeable);
    if (c->inner == nullptr) {
        delete c;
        return nullptr;
    }
    return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* cache, int pages) {
    g_default.xCachesize(Of(cache).inner, pages);
}

int Pagecount(sqlite3_pcache* cache) {
    return g_default.xPagecount(Of(cache).inner);
}

sqlite3_pcache_page* Fetch(sqlite3_pcache* cache, unsigned key, int create) {
    Cache& c = Of(cache);
    sqlite3_pcache_page* page = g_default.xFetch(c.inner, key, create);
    if (page != nullptr && key > c.bound) c.bound = key;
    return page;
}

void Unpin(sqlite3_pcache* cache, sqlite3_pcache_page* page, int discard) {
    Cache& c = Of(cache);
    if (discard != 0) Forget(c, page);
    g_default.xUnpin(c.inner, page, discard);
}

void Rekey(sqlite3_pcache* cache, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
    Cache& c = Of(cache);
    Forget(c, page);
    if (new_key > c.bound) {
        if (c.moved_count < c.moved.size()) {
            c.moved[c.moved_count++] = Moved{page, new_key};
        } else {
            c.lost = true;
        }
    }
    g_default.xRekey(c.inner, page, old_key, new_key);
}

void Truncate(sqlite3_pcache* cache, unsigned limit) {
    Cache& c = Of(cache);
    unsigned highest = c.bound;
    for (std::size_t i = 0; i < c.moved_count; ++i)
        highest = std::max(highest, c.moved[i].key);
    if (!c.lost && highest < limit) {
        g_skipped.fetch_add(1, std::memory_order_relaxed);
        return;  // no page at or past the limit: nothing to drop
    }
    g_passed.fetch_add(1, std::memory_order_relaxed);
    g_default.xTruncate(c.inner, limit);
    // Every page left has a key below the limit.
    c.bound = c.lost ? (limit == 0 ? 0 : limit - 1) : std::min(highest, limit == 0 ? 0 : limit - 1);
    c.moved_count = 0;
    c.lost = false;
}

void Destroy(sqlite3_pcache* cache) {
    Cache* c = &Of(cache);
    g_default.xDestroy(c->inner);
    delete c;
}

void Shrink(sqlite3_pcache* cache) {
    if (g_default.xShrink != nullptr) g_default.xShrink(Of(cache).inner);
}

bool Install() {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_default) != SQLITE_OK) return false;
    if (g_default.xCreate == nullptr || g_default.xFetch == nullptr || g_default.xTruncate == nullptr) return false;
    sqlite3_pcache_methods2 ours{};
    ours.iVersion = g_default.iVersion;
    ours.pArg = nullptr;
    ours.xInit = g_default.xInit != nullptr ? Init : nullptr;
    ours.xShutdown = Shutdown;
    ours.xCreate = Create;
    ours.xCachesize = Cachesize;
    ours.xPagecount = Pagecount;
    ours.xFetch = Fetch;
    ours.xUnpin = Unpin;
    ours.xRekey = Rekey;
    ours.xTruncate = Truncate;
    ours.xDestroy = Destroy;
    ours.xShrink = Shrink;
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &ours) == SQLITE_OK;
}

}  // namespace

bool InstallPageCache() {
    static const bool installed = Install();
    return installed;
}

PageCacheCounts PageCacheCountsNow() {
    return PageCacheCounts{g_passed.load(std::memory_order_relaxed), g_skipped.load(std::memory_order_relaxed)};
}

}  // namespace railwatch::store::sqlite
