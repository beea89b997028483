// The page cache in front of SQLite's (store/sqlite/page_cache.hpp), on real files: installed
// before this binary's first database (so every SQLite test here runs through it, as serve does),
// it drops nothing SQLite needs dropped and skips the truncations that have nothing to drop.
#include "store/sqlite/page_cache.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "store/sqlite/wal_write_vfs.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::store::sqlite {
namespace {

using test::TempDir;

// Before any test of the binary opens a database: SQLite takes a page cache only then. Then the
// VFS, as the store does, whose first call sets SQLite's statement-journal spill (also only
// before SQLite initialises: wal_write_vfs.hpp) and initialises it.
class InstallFirst : public ::testing::Environment {
  public:
    void SetUp() override {
        installed = InstallPageCache();
        ASSERT_TRUE(WalWriteVfs());
    }
    static inline bool installed = false;
};
[[maybe_unused]] const auto* const kInstallFirst = ::testing::AddGlobalTestEnvironment(new InstallFirst);

// A writer as the store sets one up: WAL, a 32 MiB cache (the case that made the whole-cache
// walk costly), and a table whose index takes keys in random order, so that its leaves split
// into new pages whose numbers the balance swaps (through the temporary key).
std::unique_ptr<SQLite::Database> Writer(const std::string& path) {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
    EXPECT_EQ(db->execAndGet("PRAGMA journal_mode = WAL").getString(), "wal");
    db->exec("PRAGMA synchronous = NORMAL");
    db->exec("PRAGMA cache_size = -32768");
    db->exec("CREATE TABLE IF NOT EXISTS rows (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    db->exec("CREATE INDEX IF NOT EXISTS rows_v ON rows (v)");
    return db;
}

std::string Value(std::mt19937_64& random) {
    return std::to_string(random()) + std::string(60 + random() % 200, 'x');
}

// `count` rows of random values (keys chosen by SQLite) in the transaction under way.
void InsertValues(SQLite::Database& db, int count, std::mt19937_64& random) {
    SQLite::Statement insert(db, "INSERT INTO rows (v) VALUES (?)");
    for (int n = 0; n < count; ++n) {
        insert.bind(1, Value(random));
        insert.exec();
        insert.reset();
    }
}

std::map<std::int64_t, std::string> Stored(SQLite::Database& db) {
    std::map<std::int64_t, std::string> out;
    SQLite::Statement q(db, "SELECT k, v FROM rows");
    while (q.executeStep())
        out[q.getColumn(0).getInt64()] = q.getColumn(1).getString();
    return out;
}

// Each test: the cache installed, a writer on a fresh file, the counts as they were before it.
class PageCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(InstallFirst::installed);
        db_ = Writer(path_);
        before_ = PageCacheCountsNow();
    }

    TempDir dir_;
    const std::string path_ = dir_.File("pages.db");
    std::unique_ptr<SQLite::Database> db_;
    PageCacheCounts before_;
};

TEST(PageCache, IsInstalledBeforeTheFirstDatabaseOpens) {
    EXPECT_TRUE(InstallFirst::installed);
    EXPECT_TRUE(InstallPageCache());  // once for the process: the same answer again
}

// Commits that only add rows (the database never shrinks) have no page to drop: each
// one's truncation is skipped, where pcache1 would have walked its whole cache after every commit
// whose balance had parked a page at the temporary key.
TEST_F(PageCacheTest, CommitsThatLeaveTheDatabaseAsLongAsItWasSkipTheTruncation) {
    std::mt19937_64 random(11);
    constexpr int kCommits = 200;
    for (int tx = 0; tx < kCommits; ++tx) {
        SQLite::Transaction t(*db_);
        InsertValues(*db_, 40, random);
        t.commit();
    }
    const PageCacheCounts after = PageCacheCountsNow();
    EXPECT_GE(after.truncations_skipped - before_.truncations_skipped, static_cast<std::uint64_t>(kCommits));
    EXPECT_EQ(db_->execAndGet("PRAGMA integrity_check").getString(), "ok");
    EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM rows").getInt(), kCommits * 40);
}

// A rolled-back transaction that grew the database leaves pages past its end: that truncation
// is passed on, and what is read and written afterwards is the database's, not those pages'.
TEST_F(PageCacheTest, ARolledBackGrowthIsDropped) {
    std::mt19937_64 random(5);
    {
        SQLite::Transaction t(*db_);
        InsertValues(*db_, 3000, random);
        // Destroyed without commit: rolled back.
    }
    EXPECT_GT(PageCacheCountsNow().truncations_passed, before_.truncations_passed);
    EXPECT_EQ(db_->execAndGet("SELECT COUNT(*) FROM rows").getInt(), 0);
    db_->exec("INSERT INTO rows (k, v) VALUES (1, 'after')");
    EXPECT_EQ(db_->execAndGet("SELECT v FROM rows WHERE k = 1").getString(), "after");
    EXPECT_EQ(db_->execAndGet("PRAGMA integrity_check").getString(), "ok");
}

// Inserts, updates and deletes in random order, some transactions and savepoints rolled back,
// the database shrinking (VACUUM) now and then: what the database holds is what a model of the
// committed work holds, and it stays intact — read by this connection (through its cache) and
// by a fresh one.
TEST_F(PageCacheTest, RandomWorkWithRollbacksKeepsTheDatabaseExact) {
    std::mt19937_64 random(23);
    std::map<std::int64_t, std::string> model;
    std::int64_t next_key = 1;
    for (int tx = 0; tx < 300; ++tx) {
        std::map<std::int64_t, std::string> work = model;
        db_->exec("BEGIN IMMEDIATE");
        const int steps = 1 + static_cast<int>(random() % 80);
        for (int s = 0; s < steps; ++s) {
            const auto op = random() % 10;
            if (op < 5 || work.empty()) {
                const std::int64_t k = next_key++;
                const std::string v = Value(random);
                SQLite::Statement q(*db_, "INSERT INTO rows (k, v) VALUES (?, ?)");
                q.bind(1, k);
                q.bind(2, v);
                q.exec();
                work[k] = v;
            } else {
                auto it = work.begin();
                std::advance(it, static_cast<long>(random() % work.size()));
                if (op < 8) {
                    const std::string v = Value(random);
                    SQLite::Statement q(*db_, "UPDATE rows SET v = ? WHERE k = ?");
                    q.bind(1, v);
                    q.bind(2, it->first);
                    q.exec();
                    it->second = v;
                } else {
                    SQLite::Statement q(*db_, "DELETE FROM rows WHERE k = ?");
                    q.bind(1, it->first);
                    q.exec();
                    work.erase(it);
                }
            }
            if (s % 17 == 16 && random() % 3 == 0) {
                // A savepoint's work undone: the transaction goes on without it.
                db_->exec("SAVEPOINT undone");
                SQLite::Statement q(*db_, "INSERT INTO rows (k, v) VALUES (?, ?)");
                for (int n = 0; n < 200; ++n) {
                    q.bind(1, next_key + 1'000'000 + std::int64_t{n});
                    q.bind(2, Value(random));
                    q.exec();
                    q.reset();
                }
                db_->exec("ROLLBACK TO undone");
                db_->exec("RELEASE undone");
            }
        }
        if (random() % 5 == 0) {
            db_->exec("ROLLBACK");
        } else {
            db_->exec("COMMIT");
            model = std::move(work);
        }
        if (tx % 60 == 59) db_->exec("VACUUM");  // the database shrinks: pages past its new end
        if (tx % 25 == 24) {
            ASSERT_EQ(Stored(*db_), model) << "after transaction " << tx;
        }
    }
    EXPECT_EQ(Stored(*db_), model);
    EXPECT_EQ(db_->execAndGet("PRAGMA integrity_check").getString(), "ok");
    db_.reset();
    SQLite::Database fresh(path_, SQLite::OPEN_READONLY);
    EXPECT_EQ(Stored(fresh), model);
}

}  // namespace
}  // namespace railwatch::store::sqlite
