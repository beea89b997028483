// The WAL-gathering VFS (store/sqlite/wal_write_vfs.hpp) on real files: what a writer commits
// through it is visible to another connection at once and on file in the right place, a killed
// writer loses no committed transaction, and a write that fails fails its own transaction only.
#include "store/sqlite/wal_write_vfs.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/proc_io.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::store::sqlite {
namespace {

using test::ProcessIo;
using test::TempDir;

std::string Vfs() {
    const auto vfs = WalWriteVfs();
    EXPECT_TRUE(vfs) << vfs.error().ToString();
    return vfs ? *vfs : std::string();
}

// The rows of `db` as (tx, n, body's hash), in order: what a rolled-back change must leave as it was.
std::vector<std::string> Contents(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT tx || ':' || n || ':' || hex(substr(body, 1, 16)) FROM rows ORDER BY tx, n");
    std::vector<std::string> out;
    while (q.executeStep())
        out.push_back(q.getColumn(0).getString());
    return out;
}

// A writer through the VFS: WAL, synchronous NORMAL as the store sets them, a tiny page cache so
// that big transactions spill frames before their commit, and frequent checkpoints.
std::unique_ptr<SQLite::Database> Writer(const std::string& path, int autocheckpoint = 64) {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000, Vfs());
    EXPECT_EQ(db->execAndGet("PRAGMA journal_mode = WAL").getString(), "wal");
    db->exec("PRAGMA synchronous = NORMAL");
    db->exec("PRAGMA cache_size = 16");
    db->exec("PRAGMA wal_autocheckpoint = " + std::to_string(autocheckpoint));
    db->exec("CREATE TABLE IF NOT EXISTS rows (tx INTEGER NOT NULL, n INTEGER NOT NULL, body BLOB NOT NULL)");
    db->exec("CREATE INDEX IF NOT EXISTS rows_tx ON rows (tx, n)");
    return db;
}

// Inserts `count` rows of transaction `tx` (~1.5 KiB each) and rewrites some earlier rows, in one
// transaction.
void Commit(SQLite::Database& db, int tx, int count) {
    SQLite::Transaction t(db);
    SQLite::Statement insert(db, "INSERT INTO rows (tx, n, body) VALUES (?, ?, randomblob(1500))");
    for (int n = 0; n < count; ++n) {
        insert.bind(1, tx);
        insert.bind(2, n);
        insert.exec();
        insert.reset();
    }
    db.exec("UPDATE rows SET body = randomblob(1500) WHERE rowid % 97 = " + std::to_string(tx % 97));
    t.commit();
}

std::string IntegrityOf(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);  // the default VFS
    return db.execAndGet("PRAGMA integrity_check").getString();
}

std::map<int, int> RowsPerTransaction(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT tx, COUNT(*) FROM rows GROUP BY tx");
    std::map<int, int> out;
    while (q.executeStep())
        out[q.getColumn(0).getInt()] = q.getColumn(1).getInt();
    return out;
}

TEST(WalWriteVfs, EveryCommitIsSeenByAnotherConnectionAtOnceAndTheFileStaysIntact) {
    TempDir dir;
    const std::string path = dir.File("gather.db");
    auto writer = Writer(path);
    SQLite::Database reader(path, SQLite::OPEN_READONLY);  // the default VFS reads what was gathered
    std::mt19937 random(7);
    std::map<int, int> expected;
    for (int tx = 1; tx <= 300; ++tx) {
        // Mostly small commits, some of hundreds of pages (spilled before their commit frame).
        const int count = tx % 25 == 0 ? 400 : static_cast<int>(random() % 12) + 1;
        Commit(*writer, tx, count);
        expected[tx] = count;
        SQLite::Statement seen(reader, "SELECT COUNT(*) FROM rows WHERE tx = ?");
        seen.bind(1, tx);
        ASSERT_TRUE(seen.executeStep());
        ASSERT_EQ(seen.getColumn(0).getInt(), count) << "transaction " << tx;
    }
    writer.reset();
    EXPECT_EQ(IntegrityOf(path), "ok");
    EXPECT_EQ(RowsPerTransaction(path), expected);
}

// The point of it: the same commits cost a fraction of the write calls of the default VFS's two
// a frame (no checkpoints here, so only the WAL is written).
TEST(WalWriteVfs, EachCommitsFramesGoOutInOneWrite) {
    TempDir dir;
    const auto calls_for = [&](const std::string& name, const std::string& vfs) {
        SQLite::Database db(dir.File(name), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000, vfs);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec("PRAGMA wal_autocheckpoint = 0");
        db.exec("CREATE TABLE rows (tx INTEGER NOT NULL, n INTEGER NOT NULL, body BLOB NOT NULL)");
        db.exec("CREATE INDEX rows_tx ON rows (tx, n)");
        const long long before = ProcessIo("syscw");
        for (int tx = 1; tx <= 50; ++tx)
            Commit(db, tx, 10);
        return ProcessIo("syscw") - before;
    };
    const long long plain = calls_for("plain.db", "");
    const long long gathered = calls_for("gathered.db", Vfs());
    ASSERT_GT(plain, 0) << "/proc/self/io is not readable";
    std::cout << "50 commits: " << plain << " write calls through the default VFS, " << gathered << " gathered\n";
    EXPECT_LE(gathered * 4, plain);
    EXPECT_GE(gathered, 50);  // at least one a commit
}

// A child process commits through the VFS and reports each commit on a pipe; it is killed at a
// random point. Every reported transaction is on file whole, none is there in part.
TEST(WalWriteVfs, AKilledWriterLosesNoCommittedTransaction) {
    for (int run = 0; run < 3; ++run) {
        TempDir dir;
        const std::string path = dir.File("killed.db");
        { Writer(path); }
        int pipe_fds[2];
        ASSERT_EQ(pipe(pipe_fds), 0);
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            close(pipe_fds[0]);
            auto db = Writer(path, 1000);
            for (int tx = 1; tx < 1'000'000; ++tx) {
                Commit(*db, tx, tx % 10 == 0 ? 150 : 3);
                if (write(pipe_fds[1], &tx, sizeof(tx)) != sizeof(tx)) _exit(3);
            }
            _exit(0);
        }
        close(pipe_fds[1]);
        std::mt19937 random(static_cast<unsigned>(run) + 11);
        const int kill_after = 50 + static_cast<int>(random() % 150);
        std::vector<int> committed;
        int tx = 0;
        while (static_cast<int>(committed.size()) < kill_after && read(pipe_fds[0], &tx, sizeof(tx)) == sizeof(tx))
            committed.push_back(tx);
        kill(child, SIGKILL);
        while (read(pipe_fds[0], &tx, sizeof(tx)) == sizeof(tx))  // reported before it died
            committed.push_back(tx);
        close(pipe_fds[0]);
        int status = 0;
        waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself: " << status;

        EXPECT_EQ(IntegrityOf(path), "ok") << "run " << run;
        const auto rows = RowsPerTransaction(path);
        for (const int done : committed) {
            const auto it = rows.find(done);
            ASSERT_NE(it, rows.end()) << "run " << run << ": committed transaction " << done << " lost";
            EXPECT_EQ(it->second, done % 10 == 0 ? 150 : 3) << done;
        }
        for (const auto& [t, count] : rows)
            EXPECT_EQ(count, t % 10 == 0 ? 150 : 3) << "run " << run << ": transaction " << t << " in part";
    }
}

// The file-size limit (RLIMIT_FSIZE) stands in for a full disk: the gathered write of a commit
// fails (EFBIG), that transaction fails, the earlier ones stay, and once the limit is lifted the
// same connection commits again.
TEST(WalWriteVfs, AFailedWriteFailsItsTransactionAndNoOther) {
    TempDir dir;
    const std::string path = dir.File("full.db");
    { Writer(path); }
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN);
        auto db = Writer(path, 0);  // no checkpoints: only the WAL grows
        int tx = 1;
        for (; tx <= 10; ++tx)
            Commit(*db, tx, 3);
        struct stat wal {};
        if (stat((path + "-wal").c_str(), &wal) != 0) _exit(10);
        rlimit limit{};
        getrlimit(RLIMIT_FSIZE, &limit);
        const rlimit lowered{static_cast<rlim_t>(wal.st_size) + rlim_t{64} * 1024, limit.rlim_max};
        if (setrlimit(RLIMIT_FSIZE, &lowered) != 0) _exit(11);
        int failed_at = 0;
        for (; tx <= 200 && failed_at == 0; ++tx) {
            try {
                Commit(*db, tx, 20);  // ~30 KiB a commit: the third or so crosses the limit
            } catch (const SQLite::Exception& e) {
                failed_at = tx;
                std::fprintf(stderr, "transaction %d failed: %s\n", tx, e.what());
            }
        }
        if (failed_at == 0) _exit(12);
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(13);
        try {
            Commit(*db, 1000, 3);
        } catch (const SQLite::Exception& e) {
            std::fprintf(stderr, "after the limit was lifted: %s\n", e.what());
            _exit(14);
        }
        db.reset();
        _exit(100 + failed_at);
    }
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    const int code = WEXITSTATUS(status);
    ASSERT_GT(code, 100) << "the child's step " << code << " failed";
    const int failed_at = code - 100;

    EXPECT_EQ(IntegrityOf(path), "ok");
    std::map<int, int> expected;
    for (int tx = 1; tx <= 10; ++tx)
        expected[tx] = 3;
    for (int tx = 11; tx < failed_at; ++tx)
        expected[tx] = 20;
    expected[1000] = 3;
    EXPECT_EQ(RowsPerTransaction(path), expected) << "failed at " << failed_at;
}

// What SQLite's own checks see through the VFS: a database written and checkpointed through it
// reads the same through the default VFS, and the WAL is gone after the last connection closes.
TEST(WalWriteVfs, TheLastConnectionCheckpointsAndRemovesTheLog) {
    TempDir dir;
    const std::string path = dir.File("close.db");
    {
        auto writer = Writer(path, 0);
        for (int tx = 1; tx <= 20; ++tx)
            Commit(*writer, tx, 5);
    }
    struct stat wal {};
    EXPECT_NE(stat((path + "-wal").c_str(), &wal), 0) << "the WAL was left behind";
    EXPECT_EQ(IntegrityOf(path), "ok");
    EXPECT_EQ(RowsPerTransaction(path).size(), 20u);
}

// Statement journals (the originals of what a savepoint or a statement changed) are held by the
// VFS in memory: a savepoint rolled back inside a transaction, a nested one, and a statement that
// fails on its last row are undone exactly, page for page, while the rest of the transaction
// commits — with journals small (a few pages) and large (past SQLite's 64 KiB), and a page cache
// of 16 pages, so that pages are also written and read back around them.
TEST(WalWriteVfs, StatementJournalsUndoExactlyWhatTheirSavepointOrStatementChanged) {
    TempDir dir;
    const std::string path = dir.File("journal.db");
    auto db = Writer(path);
    db->exec("CREATE UNIQUE INDEX rows_once ON rows (tx, n)");
    for (int tx = 1; tx <= 4; ++tx)
        Commit(*db, tx, 40);  // ~240 KiB in ~60 pages
    const std::uint64_t opened_before = StatementJournalsOpened();

    const auto before = Contents(*db);
    SQLite::Transaction t(*db);
    db->exec("INSERT INTO rows (tx, n, body) VALUES (5, 0, randomblob(1500))");
    auto kept = Contents(*db);  // what the transaction keeps

    db->exec("SAVEPOINT small");
    db->exec("UPDATE rows SET body = randomblob(1500) WHERE tx = 2 AND n < 3");
    db->exec("ROLLBACK TO small");
    db->exec("RELEASE small");
    EXPECT_EQ(Contents(*db), kept) << "a savepoint of a few pages";

    db->exec("SAVEPOINT large");
    db->exec("UPDATE rows SET body = randomblob(1500)");  // every page: far past 64 KiB
    db->exec("SAVEPOINT inner");
    db->exec("DELETE FROM rows WHERE tx = 3");
    db->exec("ROLLBACK TO inner");
    db->exec("RELEASE inner");
    EXPECT_EQ(Contents(*db).size(), kept.size()) << "the inner savepoint's delete is undone";
    db->exec("ROLLBACK TO large");
    db->exec("RELEASE large");
    EXPECT_EQ(Contents(*db), kept) << "a savepoint of every page, with one nested in it";

    // A statement whose last row breaks a constraint: its earlier rows are undone, the
    // transaction goes on.
    EXPECT_THROW(db->exec("INSERT INTO rows (tx, n, body) SELECT 6, n, randomblob(1500) FROM rows WHERE tx = 1 "
                          "UNION ALL SELECT 5, 0, x'00'"),
                 SQLite::Exception);
    EXPECT_EQ(Contents(*db), kept) << "a failed statement";
    db->exec("INSERT INTO rows (tx, n, body) VALUES (5, 1, randomblob(1500))");
    t.commit();

    EXPECT_GT(StatementJournalsOpened(), opened_before) << "no statement journal went through the VFS";
    EXPECT_EQ(IntegrityOf(path), "ok");
    const auto after = Contents(*db);
    ASSERT_EQ(after.size(), before.size() + 2);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));
}

}  // namespace
}  // namespace railwatch::store::sqlite
