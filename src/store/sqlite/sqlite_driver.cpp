#include "store/sqlite/sqlite_driver.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include "store/sqlite/page_cache.hpp"
#include "store/sqlite/wal_write_vfs.hpp"
#include "util/thread_name.hpp"

namespace railwatch::store::sqlite {
namespace {

using sql::DbError;
using sql::ExecResult;
using sql::Param;
using sql::Row;
using sql::Stmt;
using sql::Value;
using util::ErrorCode;

ErrorCode CodeFor(int rc) {
    switch (rc & 0xFF) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return ErrorCode::kUnavailable;
        case SQLITE_CONSTRAINT:
            return ErrorCode::kConflict;
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return ErrorCode::kIo;
        case SQLITE_TOOBIG:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
            return ErrorCode::kInvalidArgument;
        default:
            return ErrorCode::kInternal;
    }
}

std::string Advice(int rc) {
    switch (rc & 0xFF) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return "another process holds the database lock; retry later";
        case SQLITE_FULL:
            return "the disk is full; free space";
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_CANTOPEN:
            return "check that the file and its directory are writable";
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return "the file is not a healthy SQLite database; restore it from a backup or point RAILWATCH_DB "
                   "elsewhere";
        case SQLITE_IOERR:
            return "the disk reported an I/O error; check it";
        default:
            return "this is a bug in railwatch; please report it";
    }
}

[[noreturn]] void Throw(sqlite3* db, int rc, std::string_view context) {
    // A row that refers to a missing one is kNotFound, as PostgreSQL's 23503 (postgres_driver.cpp),
    // not the kConflict of other constraints.
    if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_FOREIGNKEY) {
        throw DbError(ErrorCode::kNotFound,
                      fmt::format("SQLite {} failed: {} (it refers to a missing row)", context, sqlite3_errmsg(db)));
    }
    throw DbError(CodeFor(rc), fmt::format("SQLite {} failed: {} ({})", context, sqlite3_errmsg(db), Advice(rc)));
}

// A statement outside the statement table failed (a script, a transaction statement).
[[noreturn]] void ThrowFailed(int rc, std::string_view message) {
    throw DbError(CodeFor(rc), fmt::format("SQLite failed: {} ({})", message, Advice(rc)));
}

// $N → ?N (SQLite's numbered parameters), for SQL that is not in the statement table.
std::string ToSqliteParams(const std::string& sql) {
    std::string out = sql;
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
    }
    return out;
}

// The transaction statements every read and write sends, prepared once per connection: run
// through sqlite3_exec, each was parsed and compiled again at every use.
enum class Control { kBegin, kBeginImmediate, kCommit, kRollback, kSavepoint, kRelease, kRollbackTo, kCount };

constexpr std::array<const char*, static_cast<std::size_t>(Control::kCount)> kControlSql = {
    "BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT job", "RELEASE job", "ROLLBACK TO job"};

// One connection with its cached prepared statements. Used by one thread at a time.
class Connection {
  public:
    Connection(const std::string& path, int flags, int busy_timeout_ms, const std::string& vfs)
        : db_(path, flags, busy_timeout_ms, vfs) {}

    ~Connection() {
        for (sqlite3_stmt* s : cache_)
            sqlite3_finalize(s);
        for (sqlite3_stmt* s : control_)
            sqlite3_finalize(s);
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    SQLite::Database& db() { return db_; }
    sqlite3* handle() { return db_.getHandle(); }

    sqlite3_stmt* Prepared(Stmt stmt) {
        auto& slot = cache_.at(static_cast<std::size_t>(stmt));
        if (slot == nullptr) {
            const std::string& text = sql::Sql(stmt, Backend::kSqlite);
            const int rc = sqlite3_prepare_v3(handle(), text.c_str(), static_cast<int>(text.size()),
                                              SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
            if (rc != SQLITE_OK) Throw(handle(), rc, fmt::format("preparing {}", sql::Name(stmt)));
        }
        return slot;
    }

    ExecResult Run(sqlite3_stmt* s, std::span<const Param> params, std::string_view what) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int index = static_cast<int>(i) + 1;
            int rc = SQLITE_OK;
            const Param& p = params[i];
            if (const auto* n = std::get_if<std::int64_t>(&p)) {
                rc = sqlite3_bind_int64(s, index, *n);
            } else if (const auto* d = std::get_if<double>(&p)) {
                rc = sqlite3_bind_double(s, index, *d);
            } else if (const auto* t = std::get_if<std::string_view>(&p)) {
                // SQLITE_STATIC: the text outlives this call (Param's contract); no copy.
                rc = sqlite3_bind_text64(s, index, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
            } else {
                rc = sqlite3_bind_null(s, index);
            }
            if (rc != SQLITE_OK) Throw(handle(), rc, fmt::format("binding parameter {} of {}", index, what));
        }
        ExecResult out;
        const int columns = sqlite3_column_count(s);
        while (true) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) {
                sqlite3_reset(s);
                Throw(handle(), rc, std::string(what));
            }
            Row row;
            row.values.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) {
                switch (sqlite3_column_type(s, c)) {
                    case SQLITE_INTEGER:
                        row.values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(s, c)));
                        break;
                    case SQLITE_FLOAT:
                        row.values.emplace_back(sqlite3_column_double(s, c));
                        break;
                    case SQLITE_NULL:
                        row.values.emplace_back(std::monostate{});
                        break;
                    default: {
                        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
                        const int bytes = sqlite3_column_bytes(s, c);
                        row.values.emplace_back(
                            std::string(text == nullptr ? "" : text, static_cast<std::size_t>(bytes)));
                        break;
                    }
                }
            }
            out.rows.push_back(std::move(row));
        }
        if (!sqlite3_stmt_readonly(s)) out.affected = sqlite3_changes64(handle());
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);  // drop pointers to the caller's text
        return out;
    }

    // Runs one transaction statement; throws DbError as ExecScript does.
    void Run(Control which) {
        auto& slot = control_.at(static_cast<std::size_t>(which));
        if (slot == nullptr) {
            const int rc = sqlite3_prepare_v3(handle(), kControlSql.at(static_cast<std::size_t>(which)), -1,
                                              SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
            if (rc != SQLITE_OK) Throw(handle(), rc, "preparing a transaction statement");
        }
        const int rc = sqlite3_step(slot);
        if (rc == SQLITE_DONE) {
            sqlite3_reset(slot);
            return;
        }
        const std::string message = sqlite3_errmsg(handle());
        sqlite3_reset(slot);
        ThrowFailed(rc, message);
    }

    void ExecScript(const std::string& sql) {
        char* error = nullptr;
        const int rc = sqlite3_exec(handle(), sql.c_str(), nullptr, nullptr, &error);
        if (rc != SQLITE_OK) {
            const std::string message = error ? error : sqlite3_errstr(rc);
            sqlite3_free(error);
            ThrowFailed(rc, message);
        }
    }

  private:
    SQLite::Database db_;
    std::array<sqlite3_stmt*, static_cast<std::size_t>(Stmt::kCount)> cache_{};
    std::array<sqlite3_stmt*, static_cast<std::size_t>(Control::kCount)> control_{};
};

class SqliteTx final : public sql::Tx {
  public:
    explicit SqliteTx(Connection& c) : c_(c) {}

    ExecResult Exec(Stmt stmt, std::span<const Param> params) override {
        ExecResult out = c_.Run(c_.Prepared(stmt), params, sql::Name(stmt));
        if (sql::SqliteReturnsRowid(stmt) && out.affected == 1) {
            Row row;
            row.values.emplace_back(static_cast<std::int64_t>(sqlite3_last_insert_rowid(c_.handle())));
            out.rows.push_back(std::move(row));
        }
        return out;
    }

    ExecResult ExecRaw(const std::string& text, std::span<const Param> params) override {
        if (params.empty() && text.find('$') == std::string::npos) {
            // May hold several statements (migrations); those return no rows we need, except a
            // single SELECT, which goes the prepared way below.
            if (!text.starts_with("SELECT")) {
                c_.ExecScript(text);
                return {};
            }
        }
        const std::string converted = ToSqliteParams(text);
        sqlite3_stmt* s = nullptr;
        const int rc =
            sqlite3_prepare_v2(c_.handle(), converted.c_str(), static_cast<int>(converted.size()), &s, nullptr);
        if (rc != SQLITE_OK) Throw(c_.handle(), rc, "preparing a statement");
        struct Finalize {
            sqlite3_stmt* s;
            ~Finalize() { sqlite3_finalize(s); }
        } finalize{s};
        return c_.Run(s, params, "a statement");
    }

  private:
    Connection& c_;
};

class SqliteDriver final : public sql::Driver {
  public:
    SqliteDriver(std::string path, const StoreOptions& options) : path_(std::move(path)), options_(options) {}

    ~SqliteDriver() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (writer_thread_.joinable()) writer_thread_.join();
    }

    util::Result<void> Open() {
        const int busy_ms =
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.busy_timeout).count());
        // SQLite's page cache without a walk through it at every commit (page_cache.hpp): before
        // the first database this process opens, or never (then SQLite's own, only slower).
        (void)InstallPageCache();
        // Each commit's WAL frames in one write (wal_write_vfs.hpp): the writer's system calls.
        const auto vfs = WalWriteVfs();
        if (!vfs) return tl::unexpected(vfs.error());
        try {
            // Each connection is used by one thread at a time (the writer thread, or a reader taken
            // from the pool under readers_mutex_), so SQLite's per-call connection mutex is not
            // needed (SQLITE_OPEN_NOMUTEX); it cost ~10 % of a log ingest.
            writer_ = std::make_unique<Connection>(
                path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLITE_OPEN_NOMUTEX, busy_ms, *vfs);
            auto& db = writer_->db();
            const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
            if (mode != "wal") {
                return util::Fail(ErrorCode::kIo, fmt::format("SQLite database {} cannot use WAL mode (journal_mode "
                                                              "is \"{}\"): put it on a local file system",
                                                              path_, mode));
            }
            db.exec("PRAGMA synchronous = NORMAL");
            // The statement journal, which keeps the pages a savepoint (one per write of a group
            // commit) or a statement changes, goes to the VFS, which holds it in memory
            // (wal_write_vfs.hpp): on file it spilled after 64 KiB and then cost two write calls a
            // page; SQLite's own in-memory journal (temp_store = MEMORY) four allocations and a
            // memory barrier a page (docs/PERFORMANCE.md). Its other temporary files on file.
            db.exec("PRAGMA temp_store = FILE");
            // The writer's page cache: SQLite's default 2 MiB held a small part of the pages a
            // group commit's transitions touch at 100,000 instances, so their pages were read again
            // (10 read calls per transition) and dirty pages spilled into the WAL before the commit
            // (5.8 write calls); at 32 MiB 3.3 and 3.2, the writer's CPU 0.77x (docs/PERFORMANCE.md).
            // Memory grows with the pages touched, up to this.
            if (options_.sqlite_cache_mib > 0) {
                db.exec(fmt::format("PRAGMA cache_size = {}", -std::int64_t{options_.sqlite_cache_mib} * 1024));
            }
            // Checkpoints after this many WAL pages (SQLite's default: 1,000): a page the fleet's
            // transitions change again and again (an instance's row, an index's leaf) is copied into
            // the database once per checkpoint, so a longer WAL copies fewer pages per transition.
            // That pays only while those pages stay in the writer's cache (else they are read back):
            // at 100,000 10,000 pages against 1,000 took the writer's CPU to ~0.7x (docs/PERFORMANCE.md).
            if (options_.sqlite_checkpoint_pages > 0) {
                db.exec(fmt::format("PRAGMA wal_autocheckpoint = {}", options_.sqlite_checkpoint_pages));
            }
            db.exec("PRAGMA foreign_keys = ON");
            if (options_.sqlite_max_pages > 0) {
                db.exec(fmt::format("PRAGMA max_page_count = {}", options_.sqlite_max_pages));
            }
            for (int i = 0; i < std::max(1, options_.connections); ++i) {
                auto reader =
                    std::make_unique<Connection>(path_, SQLite::OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, busy_ms, *vfs);
                reader->db().exec("PRAGMA foreign_keys = ON");
                reader->db().exec("PRAGMA query_only = ON");
                readers_.push_back(reader.get());
                owned_readers_.push_back(std::move(reader));
            }
        } catch (const SQLite::Exception& e) {
            return util::Fail(ErrorCode::kIo,
                              fmt::format("cannot open SQLite database \"{}\": {} ({})", path_, e.what(),
                                          Advice(e.getErrorCode() == 0 ? SQLITE_CANTOPEN : e.getErrorCode())));
        }
        writer_thread_ = std::thread([this] { WriterLoop(); });
        return util::Ok();
    }

    Backend backend() const override { return Backend::kSqlite; }
    std::string Describe() const override { return "sqlite:" + path_; }

    util::Result<void> Write(const std::function<void(sql::Tx&)>& work) override {
        return std::move(WriteEach(std::span(&work, 1)).front());
    }

    // All jobs are queued at once, so that the writer takes them into one transaction (as many
    // as max_batch allows), each in its own savepoint (RunBatch). The caller is woken once, when
    // the last of them is done (not once per job).
    std::vector<util::Result<void>> WriteEach(std::span<const std::function<void(sql::Tx&)>> works) override {
        std::vector<util::Result<void>> results(works.size(), util::Ok());
        Group group;
        group.remaining = works.size();
        std::vector<Job> jobs;
        jobs.reserve(works.size());
        for (std::size_t i = 0; i < works.size(); ++i)
            jobs.push_back(Job{&works[i], &results[i], &group});
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                return std::vector<util::Result<void>>(works.size(),
                                                       util::Fail(ErrorCode::kCancelled, "the store is closing"));
            }
            for (Job& job : jobs)
                queue_.push_back(&job);
        }
        wake_.notify_one();
        std::unique_lock lock(group.mutex);
        group.done.wait(lock, [&] { return group.remaining == 0; });
        return results;
    }

    util::Result<void> Read(const std::function<void(sql::Tx&)>& work) override {
        Connection* c = nullptr;
        {
            std::unique_lock lock(readers_mutex_);
            readers_free_.wait(lock, [this] { return !readers_.empty(); });
            c = readers_.back();
            readers_.pop_back();
        }
        util::Result<void> result;
        try {
            c->Run(Control::kBegin);
            try {
                SqliteTx tx(*c);
                work(tx);
            } catch (...) {
                c->Run(Control::kRollback);
                throw;
            }
            c->Run(Control::kCommit);
        } catch (const DbError& e) {
            result = tl::unexpected(e.error());
        } catch (const std::exception& e) {
            result = util::Fail(ErrorCode::kInternal, fmt::format("SQLite read failed: {}", e.what()));
        }
        {
            std::lock_guard lock(readers_mutex_);
            readers_.push_back(c);
        }
        readers_free_.notify_one();
        return result;
    }

  private:
    // The jobs of one WriteEach call: its caller waits until none remains.
    struct Group {
        std::mutex mutex;
        std::condition_variable done;
        std::size_t remaining = 0;  // guarded by mutex
    };
    struct Job {
        const std::function<void(sql::Tx&)>* work;
        util::Result<void>* result;  // the caller's, written before the job counts as done
        Group* group;
    };

    void WriterLoop() {
        util::NameThisThread("rw-sqlite-write");
        std::vector<Job*> batch;
        std::vector<util::Result<void>> results;
        while (true) {
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty() && stopping_) return;
                batch.clear();
                while (!queue_.empty() && batch.size() < static_cast<std::size_t>(std::max(1, options_.max_batch))) {
                    batch.push_back(queue_.front());
                    queue_.pop_front();
                }
            }
            RunBatch(batch, results);
            // Results first, then each group told how many of its jobs ended here; a group whose
            // last job this was is woken (once). A job is gone once its group may have seen it
            // done: nothing of it is read after that.
            for (std::size_t i = 0; i < batch.size(); ++i)
                *batch[i]->result = std::move(results[i]);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                Group* group = batch[i]->group;
                std::size_t ended = 1;
                while (i + 1 < batch.size() && batch[i + 1]->group == group) {
                    ++ended;
                    ++i;
                }
                std::lock_guard lock(group->mutex);
                group->remaining -= ended;
                // Notified under the lock: the waiter may return and destroy the group as soon as
                // the lock is released.
                if (group->remaining == 0) group->done.notify_one();
            }
        }
    }

    // One BEGIN IMMEDIATE … COMMIT for the whole batch; each job inside a savepoint, so that a
    // job that fails rolls back only itself. SQLite may instead roll back the WHOLE transaction
    // when a statement fails with SQLITE_FULL, SQLITE_IOERR or SQLITE_NOMEM (a full disk, a
    // failing disk): the savepoints are gone then, and the connection is back in autocommit
    // mode, where a further job would commit on its own. So after every job the writer checks
    // that the transaction still stands. If it does not, the job that broke it fails with its
    // error, the jobs before it in this transaction (rolled back with it, through no fault of
    // their own) run again in a fresh transaction with the jobs not run yet, and nothing runs
    // in autocommit mode. A job's result is final only once its transaction committed: a failed
    // COMMIT fails every job of that transaction (none of their writes is in the file).
    void RunBatch(const std::vector<Job*>& batch, std::vector<util::Result<void>>& results) {
        results.assign(batch.size(), util::Ok());
        Connection& c = *writer_;
        std::vector<std::size_t> pending(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i)
            pending[i] = i;
        while (!pending.empty()) {
            try {
                c.Run(Control::kBeginImmediate);
            } catch (const DbError& e) {
                for (const std::size_t i : pending)
                    results[i] = tl::unexpected(e.error());
                return;
            }
            std::vector<std::size_t> done;  // ran in this transaction without error
            std::vector<std::size_t> rerun;
            for (std::size_t k = 0; k < pending.size(); ++k) {
                const std::size_t i = pending[k];
                results[i] = RunJob(c, *batch[i]);
                if (InTransaction(c)) {
                    if (results[i]) done.push_back(i);
                    continue;
                }
                // The transaction is gone. A job that reported success although it ended the
                // transaction (it cannot know: its writes were undone) fails as well.
                if (results[i]) {
                    results[i] = util::Fail(ErrorCode::kIo,
                                            "SQLite rolled back the write transaction (disk full or I/O error?); "
                                            "the change was not saved: retry later");
                }
                rerun = std::move(done);
                rerun.insert(rerun.end(), pending.begin() + static_cast<std::ptrdiff_t>(k) + 1, pending.end());
                done.clear();
                break;
            }
            if (!rerun.empty() || !InTransaction(c)) {
                pending = std::move(rerun);
                continue;
            }
            try {
                c.Run(Control::kCommit);
            } catch (const DbError& e) {
                if (InTransaction(c)) {
                    try {
                        c.Run(Control::kRollback);
                    } catch (const DbError&) {
                        // Nothing else to undo: the jobs fail below either way.
                    }
                }
                for (const std::size_t i : done)
                    results[i] = tl::unexpected(e.error());
            }
            pending.clear();
        }
    }

    static bool InTransaction(Connection& c) { return sqlite3_get_autocommit(c.handle()) == 0; }

    // Runs one job inside SAVEPOINT job … RELEASE job. A job that fails is rolled back to its
    // savepoint; if even that fails, the whole transaction is rolled back, so that its partial
    // writes cannot be committed with the others (RunBatch then re-runs the others).
    static util::Result<void> RunJob(Connection& c, Job& job) {
        try {
            c.Run(Control::kSavepoint);
        } catch (const DbError& e) {
            return tl::unexpected(e.error());
        }
        util::Result<void> result;
        try {
            SqliteTx tx(c);
            (*job.work)(tx);
            c.Run(Control::kRelease);
            return util::Ok();
        } catch (const DbError& e) {
            result = tl::unexpected(e.error());
        } catch (const std::exception& e) {
            result = util::Fail(ErrorCode::kInternal, fmt::format("SQLite write failed: {}", e.what()));
        }
        if (InTransaction(c)) {
            try {
                c.Run(Control::kRollbackTo);
                c.Run(Control::kRelease);
            } catch (const DbError&) {
                try {
                    c.Run(Control::kRollback);
                } catch (const DbError&) {
                    // Already rolled back by SQLite; RunBatch sees autocommit mode either way.
                }
            }
        }
        return result;
    }

    std::string path_;
    StoreOptions options_;
    std::unique_ptr<Connection> writer_;
    std::vector<std::unique_ptr<Connection>> owned_readers_;

    std::mutex readers_mutex_;
    std::condition_variable readers_free_;
    std::vector<Connection*> readers_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job*> queue_;
    bool stopping_ = false;
    std::thread writer_thread_;
};

}  // namespace

util::Result<std::unique_ptr<sql::Driver>> OpenSqliteDriver(const std::string& path, const StoreOptions& options) {
    auto driver = std::make_unique<SqliteDriver>(path, options);
    if (auto r = driver->Open(); !r) return tl::unexpected(r.error());
    return std::unique_ptr<sql::Driver>(std::move(driver));
}

}  // namespace railwatch::store::sqlite
