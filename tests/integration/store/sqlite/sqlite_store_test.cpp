// The conformance suite on SQLite, plus what only SQLite has: WAL set-up, the rotation plan,
// crash safety under SIGKILL, and `railwatch migrate` (which defaults to SQLite).

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "conformance/conformance.hpp"
#include "store/sql/migrations.hpp"
#include "store/sql/statements.hpp"
#include "store/sqlite/wal_write_vfs.hpp"
#include "store/text.hpp"
#include "support/child_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/proc_io.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::store::test {
namespace {

using railwatch::test::ChildProcess;
using railwatch::test::ProcessIo;
using railwatch::test::RunCommand;
using railwatch::test::TempDir;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

TempDir& SharedDir() {
    static TempDir dir("railwatch-store-sqlite-");
    return dir;
}

StoreBackend SqliteBackend() {
    return StoreBackend{"Sqlite", [](const std::string& hint) {
                            static std::atomic<int> counter{0};
                            std::string name = hint;
                            std::replace(name.begin(), name.end(), '/', '_');
                            return "sqlite:" + SharedDir().File(name + "-" + std::to_string(++counter) + ".db");
                        }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(SqliteBackend()), BackendName);

Timestamp T(long long seconds) {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1}) + core::Seconds(seconds);
}

TEST(SqliteStore, DatabaseUsesWalJournal) {
    TempDir dir;
    const std::string path = dir.File("wal.db");
    auto store = OpenStore("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

// SQLite's plan for `sql`, one step per line.
std::string QueryPlan(SQLite::Database& db, const std::string& sql) {
    std::string out;
    SQLite::Statement q(db, "EXPLAIN QUERY PLAN " + sql);
    while (q.executeStep())
        out += q.getColumn(3).getString() + "\n";
    return out;
}

// Brings `db` to schema `version` as the store of that version left it: migrations 1..version
// applied and recorded (a database written by an older railwatch, for the migration tests).
void MigrateTo(SQLite::Database& db, std::size_t version) {
    const auto migrations = sql::Migrations(Backend::kSqlite);
    db.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at "
        "BIGINT NOT NULL)");
    for (std::size_t k = 0; k < version; ++k) {
        db.exec(std::string(migrations[k].sql));
        SQLite::Statement mark(db, "INSERT INTO schema_migrations VALUES (?, ?, 0)");
        mark.bind(1, migrations[k].version);
        mark.bind(2, std::string(migrations[k].name));
        mark.exec();
    }
}

TEST(SqliteStore, RotationAndDedupUseIndexesNotTableScans) {
    TempDir dir;
    const std::string path = dir.File("plan.db");
    auto store = OpenStore("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    auto plan = [&](const std::string& sql) { return QueryPlan(db, sql); };
    const std::string rotate = plan("DELETE FROM log_lines WHERE instance_id = 'i' AND seq >= 3 AND seq < 10");
    EXPECT_THAT(rotate, HasSubstr("SEARCH log_lines USING PRIMARY KEY (instance_id=? AND seq>? AND seq<?)"));
    EXPECT_THAT(rotate, Not(HasSubstr("SCAN")));
    const std::string recent =
        plan("SELECT message FROM log_lines WHERE instance_id = 'i' ORDER BY seq DESC LIMIT 100");
    EXPECT_THAT(recent, Not(HasSubstr("SCAN log_lines")));
    const std::string due = plan(
        "SELECT id FROM instances WHERE monitoring = 1 AND next_check_at IS NOT NULL AND next_check_at <= 5 ORDER BY "
        "next_check_at LIMIT 10");
    EXPECT_THAT(due, HasSubstr("instances_due"));
}

// A poll's check transitions in multi-row statements (timeline.cpp): each form finds every
// instance through its key, whatever the number of rows, and the feed's read after them walks the
// log's key from the position before; the forms cover any number of rows.
TEST(SqliteStore, CheckBatchStatementsFindEachRowThroughItsKey) {
    TempDir dir;
    const std::string path = dir.File("batch.db");
    auto store = OpenStore("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    for (std::size_t rows = 1; rows <= sql::kMaxRowsPerStatement; rows *= 2) {
        SCOPED_TRACE(rows);
        EXPECT_EQ(sql::RowsPerStatement(rows), rows);
        EXPECT_EQ(sql::Name(sql::InsertEventsStmt(rows)), "insert_events_" + std::to_string(rows));
        EXPECT_EQ(sql::Name(sql::UpdateFollowingStatesStmt(rows)), "update_following_states_" + std::to_string(rows));
        const std::string update = QueryPlan(db, sql::Sql(sql::UpdateFollowingStatesStmt(rows), Backend::kSqlite));
        EXPECT_THAT(update, HasSubstr("SEARCH instances USING INDEX sqlite_autoindex_instances_1 (id=?)"));
        EXPECT_THAT(update, Not(HasSubstr("SCAN instances")));
        const std::string insert = QueryPlan(db, sql::Sql(sql::InsertEventsStmt(rows), Backend::kSqlite));
        EXPECT_THAT(insert, Not(HasSubstr("SCAN deployment_events")));
    }
    EXPECT_EQ(sql::RowsPerStatement(3), 2u);
    EXPECT_EQ(sql::RowsPerStatement(55), 32u);
    EXPECT_EQ(sql::RowsPerStatement(1000), sql::kMaxRowsPerStatement);
    const std::string since = QueryPlan(db, sql::Sql(sql::Stmt::kFeedSince, Backend::kSqlite));
    EXPECT_THAT(since, HasSubstr("SEARCH instance_changes USING INTEGER PRIMARY KEY (rowid>?)"));
    EXPECT_THAT(since, Not(HasSubstr("TEMP B-TREE")));
}

// Migration 7: the instance list's recent checks and Uptime read health_checks_recent alone (no
// table row per check), and the index it replaces is gone (one index per inserted check, not two).
TEST(SqliteStore, RecentCheckSummariesUptimeAndRotationReadOnlyTheCoveringIndex) {
    TempDir dir;
    const std::string path = dir.File("checks.db");
    auto store = OpenStore("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    auto plan = [&](const std::string& sql) { return QueryPlan(db, sql); };
    const std::string recent =
        plan("SELECT at, ok, latency_ms FROM health_checks WHERE instance_id = 'i' ORDER BY at DESC, id DESC LIMIT 20");
    EXPECT_THAT(recent, HasSubstr("SEARCH health_checks USING COVERING INDEX health_checks_recent (instance_id=?)"));
    EXPECT_THAT(recent, Not(HasSubstr("TEMP B-TREE")));
    const std::string uptime = plan(
        "SELECT COUNT(*), COALESCE(SUM(ok), 0), MAX(at), MAX(CASE WHEN ok = 0 THEN at END) FROM health_checks "
        "WHERE instance_id = 'i' AND at >= 5");
    EXPECT_THAT(uptime, HasSubstr("USING COVERING INDEX health_checks_recent (instance_id=? AND at>?)"));
    // RecordProbes' rotation: the instance's old checks found through the same index.
    const std::string rotate = plan("DELETE FROM health_checks WHERE instance_id = 'i' AND at < 5");
    EXPECT_THAT(rotate, HasSubstr("health_checks_recent (instance_id=? AND at<?)"));
    EXPECT_THAT(rotate, Not(HasSubstr("SCAN")));
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 'health_checks_instance'").getInt(), 0);
}

// The inserts whose callers need the new row's id (a probe's check, a transition's event) answer
// it on SQLite from the connection's last rowid, not through RETURNING, whose rows SQLite keeps in a
// temporary b-tree opened at every run (~11 % of the writer's CPU while probes were stored: a
// pager allocated and dropped per statement). The conformance suite checks the ids themselves.
TEST(SqliteStore, InsertsThatAnswerTheirIdOpenNoTemporaryBtree) {
    TempDir dir;
    const std::string path = dir.File("ids.db");
    ASSERT_TRUE(OpenStore("sqlite:" + path));
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    const auto opcodes = [&](sql::Stmt stmt) {
        std::vector<std::string> out;
        SQLite::Statement q(db, "EXPLAIN " + sql::Sql(stmt, Backend::kSqlite));
        while (q.executeStep())
            out.push_back(q.getColumn(1).getString());
        return out;
    };
    for (const sql::Stmt stmt : {sql::Stmt::kInsertEvent, sql::Stmt::kInsertHealth}) {
        SCOPED_TRACE(std::string(sql::Name(stmt)));
        EXPECT_TRUE(sql::SqliteReturnsRowid(stmt));
        const auto program = opcodes(stmt);
        EXPECT_THAT(program, Contains("Insert"));
        EXPECT_THAT(program, Not(Contains("OpenEphemeral")));
        EXPECT_THAT(sql::Sql(stmt, Backend::kPostgres), HasSubstr("RETURNING id"));
    }
    // What the check above would see with RETURNING (so that it can fail).
    EXPECT_THAT(opcodes(sql::Stmt::kClaimOutbox), Contains("OpenEphemeral"));
}

// The feed's trigger (migration 9, rewritten by 11) marks a change of every column of instances
// but the schedule's and the log counters: a column added later must be added to its lists (the
// UPDATE OF list and the WHEN clause), or the engine's kept rows would miss changes of it. Also:
// the feed's reads use the log's key and never scan.
TEST(SqliteStore, ChangeFeedTriggerCoversEveryInstanceColumnButTheScheduleAndLogCounters) {
    TempDir dir;
    const std::string path = dir.File("feed.db");
    auto store = OpenStore("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    // The trigger's text with each run of white space as one space.
    std::string trigger;
    for (const char c :
         db.execAndGet("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'instances_changed'")
             .getString()) {
        const bool space = c == ' ' || c == '\n' || c == '\t';
        if (!space) {
            trigger += c;
        } else if (!trigger.empty() && trigger.back() != ' ') {
            trigger += ' ';
        }
    }
    const auto of_begin = trigger.find("UPDATE OF ");
    const auto of_end = trigger.find(" ON instances");
    ASSERT_NE(of_begin, std::string::npos);
    ASSERT_NE(of_end, std::string::npos);
    const std::string update_of = trigger.substr(of_begin + 9, of_end - of_begin - 9) + ",";  // " id, …, deleted_at,"
    const std::set<std::string> excluded = {"next_check_at", "log_seq", "log_first_seq"};
    SQLite::Statement columns(db, "SELECT name FROM pragma_table_info('instances')");
    int covered = 0;
    while (columns.executeStep()) {
        const std::string column = columns.getColumn(0).getString();
        const bool listed = update_of.find(" " + column + ",") != std::string::npos;
        const bool compared = trigger.find("NEW." + column + " IS NOT OLD." + column + " ") != std::string::npos;
        if (excluded.count(column) != 0) {
            EXPECT_FALSE(listed || compared) << column << " must not mark a change";
        } else {
            EXPECT_TRUE(listed) << column << " is missing from the trigger's UPDATE OF list";
            EXPECT_TRUE(compared) << column << " is missing from the trigger's WHEN clause";
            ++covered;
        }
    }
    EXPECT_EQ(covered, 24);
    EXPECT_THAT(trigger, HasSubstr("INSERT INTO instance_changes (instance_id) VALUES (NEW.id);"));
    // The feed's reads, as the store sends them: the log's two ends, then the changed rows through
    // the log's key, each id looked up.
    const std::string ends = QueryPlan(db, sql::Sql(sql::Stmt::kChangePosition, Backend::kSqlite));
    EXPECT_THAT(ends, HasSubstr("SEARCH instance_changes"));
    EXPECT_THAT(ends, Not(HasSubstr("SCAN instance_changes")));
    const std::string feed = QueryPlan(db, sql::Sql(sql::Stmt::kChangedInstances, Backend::kSqlite));
    EXPECT_THAT(feed, HasSubstr("SEARCH instance_changes USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"));
    EXPECT_THAT(feed, Not(HasSubstr("SCAN")));
    // A change marks its instance once, at the log's end, and the schedule marks nothing.
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%change_seq%'").getInt(), 0);
}

// The log keeps its newest 100,000 rows: each change drops those further back. A reader whose
// position lies before the oldest row kept gets every instance, and from the position it is
// then given, only what changed.
TEST(SqliteStore, ChangeFeedLogIsBoundedAndAReaderBehindItGetsEveryInstance) {
    TempDir dir;
    const std::string path = dir.File("bounded.db");
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    for (int n = 0; n < 3; ++n) {
        Instance i;
        i.id = "i" + std::to_string(n);
        i.service_id = "svc";
        i.environment_id = "env";
        i.created_at = T(0);
        ASSERT_TRUE(store->CreateInstance(i));
    }
    const auto start = store->ChangedInstances(std::nullopt);
    ASSERT_TRUE(start) << start.error().ToString();
    InstanceState state;
    state.progress = 40;
    ASSERT_TRUE(store->SaveState("i1", state));
    const auto first = store->ChangedInstances(start->next);
    ASSERT_TRUE(first) << first.error().ToString();
    ASSERT_EQ(first->instances.size(), 1u);
    EXPECT_EQ(first->instances[0].id, "i1");
    {
        // i1's change is the log's newest row (first->next - 1). 99,999 changes of an instance
        // that is not there, written behind the store's back, and i2's change make i1's the
        // 100,001st row from the end.
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        EXPECT_EQ(db.execAndGet("SELECT MAX(seq) FROM instance_changes").getInt64(), first->next - 1);
        db.exec(
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 99999) "
            "INSERT INTO instance_changes (instance_id) SELECT 'gone' FROM n");
    }
    state.progress = 50;
    ASSERT_TRUE(store->SaveState("i2", state));  // its trigger drops what lies 100,000 rows back
    {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM instance_changes").getInt(), 100000);
        EXPECT_EQ(db.execAndGet("SELECT MIN(seq) FROM instance_changes").getInt64(), first->next);
    }
    // i1's change lay behind the horizon: every instance comes back.
    const auto behind = store->ChangedInstances(start->next);
    ASSERT_TRUE(behind) << behind.error().ToString();
    std::vector<std::string> ids;
    for (const auto& i : behind->instances)
        ids.push_back(i.id);
    EXPECT_THAT(ids, ::testing::ElementsAre("i0", "i1", "i2"));
    // A reader that kept up gets i2 alone.
    const auto kept_up = store->ChangedInstances(first->next);
    ASSERT_TRUE(kept_up) << kept_up.error().ToString();
    ASSERT_EQ(kept_up->instances.size(), 1u);
    EXPECT_EQ(kept_up->instances[0].id, "i2");
    EXPECT_EQ(kept_up->next, behind->next);
    const auto after = store->ChangedInstances(behind->next);
    ASSERT_TRUE(after) << after.error().ToString();
    EXPECT_TRUE(after->instances.empty());
}

// A check's transition (only_if_following) tells where its change entered the feed, both when its
// due time is the stored one (one statement, nothing read first) and when it is not (the indexed
// columns read first), so that the engine holding the row is not handed it again.
TEST(SqliteStore, ACheckTransitionTellsWhereItsChangeEnteredTheFeedEitherWay) {
    TempDir dir;
    auto opened = OpenStore("sqlite:" + dir.File("position.db"));
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    Instance i;
    i.id = "i1";
    i.service_id = "svc";
    i.environment_id = "env";
    i.created_at = T(0);
    i.state.deployment_id = "d1";
    i.state.next_check_at = T(100);
    ASSERT_TRUE(store->CreateInstance(i));
    const auto start = store->ChangedInstances(std::nullopt);
    ASSERT_TRUE(start) << start.error().ToString();
    for (const long long due : {100, 200}) {
        Transition t;
        t.instance_id = "i1";
        t.deployment_id = "d1";
        t.to_status = "S" + std::to_string(due);
        t.at = T(due);
        t.state.status = core::InstanceStatus::kDeploying;
        t.state.deployment_status = t.to_status;
        t.state.next_check_at = T(due);
        t.only_if_following = true;
        const auto written = store->ApplyTransition(t);
        ASSERT_TRUE(written) << written.error().ToString();
        ASSERT_TRUE(written->applied);
        ASSERT_TRUE(written->change_position) << "due " << due;
        const auto held = store->ChangedInstances(start->next, {{"i1", *written->change_position}});
        ASSERT_TRUE(held) << held.error().ToString();
        EXPECT_TRUE(held->instances.empty()) << "due " << due;
        const auto row = store->GetInstance("i1");
        ASSERT_TRUE(row) << row.error().ToString();
        EXPECT_EQ(row->state.deployment_status, t.to_status);
        EXPECT_EQ(row->state.next_check_at, T(due));
    }
}

// Migration 2 moves leases into instance_leases and rebuilds log_lines: a database written by
// version 1 keeps its lease and its log lines, and the lease still works.
TEST(SqliteStore, MigrationTwoKeepsVersionOneLeasesAndLogLines) {
    TempDir dir;
    const std::string path = dir.File("v1.db");
    const auto ns = [](Timestamp t) { return std::to_string(t.time_since_epoch().count()); };
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        MigrateTo(db, 1);
        db.exec(
            "INSERT INTO instances (id, service_id, environment_id, status, monitoring, next_check_at, "
            "lease_owner, lease_until, log_seq, created_at) VALUES ('i1', 's', 'e', 'RUNNING', 1, " +
            ns(T(5)) + ", 'w1', " + ns(T(50)) + ", 1, 0), ('i2', 's', 'e', 'RUNNING', 1, " + ns(T(5)) +
            ", NULL, NULL, 0, 0)");
        db.exec("INSERT INTO log_lines VALUES ('i1', 1, 'd1', 'deploy', " + ns(T(7)) + ", 'info', 'hello', " +
                std::to_string(MessageHash("hello")) + ")");
    }
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    const auto i1 = store->GetInstance("i1");
    ASSERT_TRUE(i1) << i1.error().ToString();
    EXPECT_EQ(i1->lease_owner, "w1");
    EXPECT_EQ(i1->lease_until, T(50));
    ASSERT_TRUE(store->GetInstance("i2"));
    EXPECT_FALSE(store->GetInstance("i2")->lease_owner.has_value());
    const auto logs = store->RecentLogs("i1", 10, std::nullopt);
    ASSERT_TRUE(logs && logs->size() == 1u);
    EXPECT_EQ(logs->front().message, "hello");
    // i1's lease lives until T(50): only i2 is claimable before that, and w1 can still release i1.
    const auto claimed = store->ClaimDueInstances("w2", T(10), core::Seconds(1), 10);
    ASSERT_TRUE(claimed) << claimed.error().ToString();
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ(claimed->front().id, "i2");
    EXPECT_TRUE(store->ReleaseInstance("i1", "w1", T(100)));
    EXPECT_FALSE(store->GetInstance("i1")->lease_owner.has_value());
    // The rebuilt log_lines still deduplicates and numbers densely.
    const auto again = store->AppendLogs({LogLine{"i1", "d1", LogKind::kDeploy, T(7), "info", "hello"},
                                          LogLine{"i1", "d1", LogKind::kDeploy, T(8), "info", "next"}},
                                         10);
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(again->inserted, 1);
    EXPECT_EQ(again->duplicates, 1);
}

// Migration 3 adds instances.log_first_seq, the lowest seq still stored, filled from the lines of
// a version-2 database; rotation then starts there.
// Migration 11 turns the change feed into a log: a version 10 database's rows keep their values,
// the feed's positions go on growing from where version 10 left them, and changes after the
// migration are reported from a position read before it.
TEST(SqliteStore, MigrationElevenCarriesTheChangeFeedPositionOn) {
    TempDir dir;
    const std::string path = dir.File("v10.db");
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        MigrateTo(db, 10);
        db.exec(
            "INSERT INTO instances (id, service_id, environment_id, status, monitoring, log_seq, created_at) VALUES "
            "('i1', 's', 'e', 'RUNNING', 1, 0, 0), ('i2', 's', 'e', 'RUNNING', 1, 0, 0)");
        db.exec("UPDATE instances SET progress = 10");  // version 9's trigger marks both: change_seq 1 and 2
        db.exec("UPDATE instances SET progress = 20 WHERE id = 'i2'");  // 3
        ASSERT_EQ(db.execAndGet("SELECT MAX(change_seq) FROM instances").getInt(), 3);
    }
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    const auto i2 = store->GetInstance("i2");
    ASSERT_TRUE(i2) << i2.error().ToString();
    EXPECT_EQ(i2->state.progress, 20);
    // Version 10 would have answered 4 (one past its largest change_seq); the feed goes on from
    // there, and migration 15 changed both rows (their interval stored as 30: none), 4 and 5.
    const auto start = store->ChangedInstances(std::nullopt);
    ASSERT_TRUE(start) << start.error().ToString();
    EXPECT_EQ(start->next, 6);
    const auto migrated = store->ChangedInstances(4);
    ASSERT_TRUE(migrated) << migrated.error().ToString();
    ASSERT_EQ(migrated->instances.size(), 2u);
    EXPECT_EQ(migrated->instances[0].check_interval_s, std::nullopt);
    InstanceState state;
    state.progress = 30;
    ASSERT_TRUE(store->SaveState("i1", state));
    const auto changed = store->ChangedInstances(start->next);
    ASSERT_TRUE(changed) << changed.error().ToString();
    ASSERT_EQ(changed->instances.size(), 1u);
    EXPECT_EQ(changed->instances[0].id, "i1");
    EXPECT_EQ(changed->next, 7);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM pragma_table_info('instances') WHERE name = 'change_seq'").getInt(),
              0);
}

// Migration 14: the heartbeat's count of monitored instances reads the partial index alone, not
// every monitored row of the table (175 ms at 100,000 instances, 8.4 ms with it).
TEST(SqliteStore, TheCountOfMonitoredInstancesReadsOnlyItsPartialIndex) {
    TempDir dir;
    const std::string path = dir.File("plan.db");
    ASSERT_TRUE(OpenStore("sqlite:" + path));
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    const std::string statement(sql::Sql(sql::Stmt::kCountMonitored, Backend::kSqlite));
    const std::string count = QueryPlan(db, statement);
    EXPECT_THAT(count, HasSubstr("SEARCH instances USING INDEX instances_monitored (monitoring=?)"));
    EXPECT_THAT(count, Not(HasSubstr("SCAN instances")));
    // The index alone: the program reads no column and seeks no row of the table (its deferred
    // seek is never carried out), so no table page is read.
    SQLite::Statement program(db, "EXPLAIN " + statement);
    std::vector<std::string> opcodes;
    while (program.executeStep())
        opcodes.push_back(program.getColumn(1).getString());
    EXPECT_THAT(opcodes, Contains("AggStep"));
    for (const char* reads_the_table : {"Column", "SeekRowid", "NotExists", "Rowid"})
        EXPECT_THAT(opcodes, Not(Contains(reads_the_table)));
}

// Migration 13: a deployment's events are found through its followers and the events' unique key
// (instance_id, deployment_id, ...), never by reading the whole timeline; no index on
// deployment_id takes an entry per event.
TEST(SqliteStore, FinishedDeploymentsFindADeploymentsEventsThroughItsFollowers) {
    TempDir dir;
    const std::string path = dir.File("plan.db");
    ASSERT_TRUE(OpenStore("sqlite:" + path));
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    const std::string finished = QueryPlan(db, sql::Sql(sql::Stmt::kFinishedDeployments, Backend::kSqlite));
    EXPECT_THAT(finished, HasSubstr("SEARCH f USING PRIMARY KEY (deployment_id=?)"));
    EXPECT_THAT(finished, HasSubstr("SEARCH e USING COVERING INDEX sqlite_autoindex_deployment_events_1 "
                                    "(instance_id=? AND deployment_id=?)"));
    EXPECT_THAT(finished, HasSubstr("SEARCH w USING INDEX deployment_events_at"));
    for (const char* table : {"SCAN e", "SCAN c", "SCAN w", "SCAN f", "SCAN cf", "SCAN deployment_events"})
        EXPECT_THAT(finished, Not(HasSubstr(table)));
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 'deployment_events_deployment'").getInt(),
              0);
}

// Migration 13 fills the followers from a version 12 database's timeline and instances: its
// deployments are found as before, one two instances followed included, and one an instance
// followed since its creation (no event yet).
TEST(SqliteStore, MigrationThirteenFindsTheDeploymentsOfAVersionTwelveTimeline) {
    TempDir dir;
    const std::string path = dir.File("v12.db");
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        MigrateTo(db, 12);
        db.exec(
            "INSERT INTO instances (id, service_id, environment_id, deployment_id, status, monitoring, log_seq, "
            "created_at) VALUES ('a', 's', 'e', 'd2', 'DEPLOYING', 1, 0, 0), ('b', 's', 'e', 'd1', 'FAILED', 1, 0, 0), "
            "('c', 's', 'e', 'd9', 'DEPLOYING', 1, 0, 0)");
        SQLite::Statement event(db,
                                "INSERT INTO deployment_events (instance_id, deployment_id, to_status, at, source) "
                                "VALUES (?, ?, ?, ?, 'poll')");
        const auto add = [&](const char* instance, const char* deployment, const char* to, long long at) {
            event.bind(1, instance);
            event.bind(2, deployment);
            event.bind(3, to);
            event.bind(4, static_cast<std::int64_t>(T(at).time_since_epoch().count()));
            event.exec();
            event.reset();
        };
        add("b", "d1", "BUILDING", 5);
        add("a", "d1", "BUILDING", 10);
        add("a", "d1", "SUCCESS", 20);
        add("b", "d1", "FAILED", 25);
        add("a", "d2", "BUILDING", 30);
    }
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    const auto d1 = store->ListFinishedDeployments(T(0), T(30));
    ASSERT_TRUE(d1) << d1.error().ToString();
    ASSERT_EQ(d1->size(), 1u);
    EXPECT_EQ(d1->front().started_at, T(5));
    EXPECT_EQ(d1->front().finished_at, T(20));
    EXPECT_TRUE(d1->front().failed);
    Transition t;
    t.instance_id = "c";
    t.deployment_id = "d9";
    t.to_status = "SUCCESS";
    t.at = T(40);
    t.state.status = core::InstanceStatus::kRunning;
    ASSERT_TRUE(store->ApplyTransition(t));
    const auto d9 = store->ListFinishedDeployments(T(30), T(50));
    ASSERT_TRUE(d9) << d9.error().ToString();
    ASSERT_EQ(d9->size(), 1u);
    EXPECT_EQ(d9->front().started_at, T(40));
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement rows(db, "SELECT deployment_id || '/' || instance_id FROM deployment_followers ORDER BY 1");
    std::vector<std::string> followers;
    while (rows.executeStep())
        followers.push_back(rows.getColumn(0).getString());
    EXPECT_EQ(followers, (std::vector<std::string>{"d1/a", "d1/b", "d2/a", "d9/c"}));
}

// Migration 15: an instance that stored the built-in default (30 s, what AddInstance stored for
// "none" before) has no interval of its own; another value stays its own.
TEST(SqliteStore, MigrationFifteenTakesTheStoredDefaultIntervalAsNone) {
    TempDir dir;
    const std::string path = dir.File("v14.db");
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        MigrateTo(db, 14);
        db.exec(
            "INSERT INTO instances (id, service_id, environment_id, status, monitoring, check_interval_s, log_seq, "
            "created_at) VALUES ('a', 's', 'e', 'RUNNING', 1, 30, 0, 0), ('b', 's', 'e', 'RUNNING', 1, 45, 0, 0)");
    }
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    EXPECT_EQ(store->GetInstance("a")->check_interval_s, std::nullopt);
    EXPECT_EQ(store->GetInstance("b")->check_interval_s, 45);
    ASSERT_TRUE(store->SetMonitoring("b", true, 0, T(1)));  // 0: none again
    EXPECT_EQ(store->GetInstance("b")->check_interval_s, std::nullopt);
    ASSERT_TRUE(store->SetMonitoring("a", true, 30, T(1)));
    EXPECT_EQ(store->GetInstance("a")->check_interval_s, 30);
}

TEST(SqliteStore, MigrationThreeBoundsTheLogRotationOfAVersionTwoDatabase) {
    TempDir dir;
    const std::string path = dir.File("v2.db");
    const auto ns = [](Timestamp t) { return std::to_string(t.time_since_epoch().count()); };
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        MigrateTo(db, 2);
        // i1 stored 7 lines and rotation kept the newest 3; i2's lines were all deleted.
        db.exec(
            "INSERT INTO instances (id, service_id, environment_id, status, monitoring, log_seq, created_at) VALUES "
            "('i1', 's', 'e', 'RUNNING', 1, 7, 0), ('i2', 's', 'e', 'RUNNING', 1, 3, 0), "
            "('i3', 's', 'e', 'RUNNING', 1, 0, 0)");
        for (int seq = 5; seq <= 7; ++seq) {
            const std::string message = "line " + std::to_string(seq);
            db.exec("INSERT INTO log_lines VALUES ('i1', " + std::to_string(seq) + ", 'd1', 'deploy', " + ns(T(seq)) +
                    ", 'info', '" + message + "', " + std::to_string(MessageHash(message)) + ")");
        }
    }
    auto opened = OpenStore("sqlite:" + path);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT id, log_seq, log_first_seq FROM instances ORDER BY id");
        std::vector<std::string> got;
        while (q.executeStep()) {
            got.push_back(q.getColumn(0).getString() + " " + q.getColumn(1).getString() + " " +
                          q.getColumn(2).getString());
        }
        EXPECT_THAT(got, ::testing::ElementsAre("i1 7 5", "i2 3 4", "i3 0 1"));
    }
    // Appending keeps the newest max_logs, the pre-migration lines included.
    const auto r = store->AppendLogs({LogLine{"i1", "d1", LogKind::kDeploy, T(8), "info", "line 8"}}, 2);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->rotated, 2);
    const auto logs = store->RecentLogs("i1", 10, std::nullopt);
    ASSERT_TRUE(logs);
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ(logs->front().message, "line 7");
    EXPECT_EQ(logs->back().message, "line 8");
    const auto fresh = store->AppendLogs({LogLine{"i2", "d1", LogKind::kDeploy, T(9), "info", "again"}}, 2);
    ASSERT_TRUE(fresh) << fresh.error().ToString();
    EXPECT_EQ(fresh->rotated, 0);
    EXPECT_EQ(store->RecentLogs("i2", 10, std::nullopt)->size(), 1u);
}

TEST(SqliteStore, UnopenableFileIsAClearIoError) {
    const auto r = OpenStore("sqlite:/nonexistent-dir/for/sure/railwatch.db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::ErrorCode::kIo);
    EXPECT_THAT(r.error().message, HasSubstr("/nonexistent-dir/for/sure/railwatch.db"));
    EXPECT_THAT(r.error().message, HasSubstr("writable"));
}

TEST(SqliteStore, FileThatIsNotADatabaseIsAClearError) {
    TempDir dir;
    const std::string path = dir.File("garbage.db");
    std::ofstream(path) << std::string(8192, 'x');
    const auto r = OpenStore("sqlite:" + path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::ErrorCode::kIo);
    EXPECT_THAT(r.error().message, HasSubstr("not"));
}

TEST(SqliteStore, BadUrlNamesTheAcceptedForms) {
    const auto r = OpenStore("mysql://root@localhost/db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("sqlite:PATH"));
    EXPECT_THAT(r.error().message, HasSubstr("postgresql://"));
}

// --- crash safety -----------------------------------------------------------------------

constexpr int kCrashInstances = 8;
constexpr int kCrashThreads = 4;

Transition CrashTransition(long long i) {
    Transition t;
    t.instance_id = "i" + std::to_string(i % kCrashInstances);
    t.deployment_id = "d";
    t.to_status = "S" + std::to_string(i);
    t.at = T(i);
    t.state.status = core::InstanceStatus::kDeploying;
    t.state.retry_count = static_cast<int>(i);
    t.state.progress = static_cast<int>(i % 100);
    for (const char* suffix : {"a", "b"}) {
        const std::string key = "t-" + std::to_string(i) + "-" + suffix;
        t.outbox.push_back(OutboxMessage{"o" + key, "webhook", key, R"({"n":1})", T(i), std::nullopt});
    }
    return t;
}

// Runs in the forked child: writes transitions from several threads until killed, appending
// the number of each committed one to `progress_path`.
int CrashChild(const std::string& url, const std::string& progress_path) {
    auto store = OpenStore(url);
    if (!store) return 2;
    const int fd = open(progress_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return 3;
    std::vector<std::thread> threads;
    threads.reserve(kCrashThreads);
    for (int t = 0; t < kCrashThreads; ++t) {
        threads.emplace_back([&, t] {
            // Thread t writes instances t and t + 4 only, so each instance's writes are ordered.
            for (long long n = 0; n < 2'000'000; ++n) {
                const long long i = n * kCrashThreads + t;
                if (!(*store)->ApplyTransition(CrashTransition(i))) continue;
                const std::string line = std::to_string(i) + "\n";
                if (write(fd, line.data(), line.size()) < 0) return;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    return 0;
}

TEST(SqliteCrashSafety, SigkilledWriterLeavesOnlyWholeTransitions) {
    TempDir dir;
    const std::string path = dir.File("crash.db");
    const std::string url = "sqlite:" + path;
    const std::string progress = dir.File("committed.txt");
    {
        auto store = OpenStore(url);
        ASSERT_TRUE(store) << store.error().ToString();
        for (int k = 0; k < kCrashInstances; ++k) {
            Instance i;
            i.id = "i" + std::to_string(k);
            i.service_id = "svc";
            i.environment_id = "env";
            i.created_at = T(0);
            ASSERT_TRUE((*store)->CreateInstance(i));
        }
    }  // closed before forking: the child starts with no store threads in its image

    auto child = ChildProcess::Fork([&] { return CrashChild(url, progress); });
    // Let it commit a good number of transitions, then kill it mid-write (bounded wait).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::size_t committed_lines = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(progress);
        committed_lines = 0;
        for (std::string line; std::getline(in, line);)
            ++committed_lines;
        if (committed_lines >= 3000) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    child.Signal(SIGKILL);
    const auto status = child.Wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.signaled) << "the writer ended on its own: " << status.Describe();
    ASSERT_GE(committed_lines, 3000u) << "the writer committed too little before the deadline";

    std::set<long long> acknowledged;
    {
        std::ifstream in(progress);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty()) acknowledged.insert(std::stoll(line));
        }
    }

    // Reopening runs recovery (WAL replay); then check every row directly.
    auto reopened = OpenStore(url);
    ASSERT_TRUE(reopened) << reopened.error().ToString();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");

    std::map<long long, std::string> events;  // i → instance
    {
        SQLite::Statement q(db, "SELECT to_status, instance_id FROM deployment_events");
        while (q.executeStep())
            events[std::stoll(q.getColumn(0).getString().substr(1))] = q.getColumn(1).getString();
    }
    std::multiset<long long> outbox;
    {
        SQLite::Statement q(db, "SELECT dedup_key FROM outbox");
        while (q.executeStep()) {
            const std::string key = q.getColumn(0).getString();  // t-<i>-a
            outbox.insert(std::stoll(key.substr(2, key.rfind('-') - 2)));
        }
    }
    // Every acknowledged commit survived the kill.
    for (const long long i : acknowledged)
        EXPECT_TRUE(events.contains(i)) << "committed transition " << i << " was lost";
    EXPECT_GE(events.size(), acknowledged.size());
    // Whole or absent: each event has both outbox rows, each outbox row has its event.
    for (const auto& [i, instance] : events)
        EXPECT_EQ(outbox.count(i), 2u) << "transition " << i << " is partial";
    for (const long long i : outbox)
        EXPECT_TRUE(events.contains(i)) << "outbox row of transition " << i << " has no event";
    // Each instance shows the state of its newest recorded transition.
    std::map<std::string, long long> newest;
    for (const auto& [i, instance] : events)
        newest[instance] = std::max(newest[instance], i);
    for (int k = 0; k < kCrashInstances; ++k) {
        const std::string id = "i" + std::to_string(k);
        const auto got = (*reopened)->GetInstance(id);
        ASSERT_TRUE(got) << got.error().ToString();
        EXPECT_EQ(got->state.retry_count, newest.contains(id) ? newest[id] : 0) << id;
    }
}

// --- the writer's page cache ----------------------------------------------------------------

// A store file `name` in `dir` with a fleet of `count` instances, written straight into the file
// (the store's own writes would take far longer), instance-<n> following deployment-<n>; its URL.
std::string SeededFleet(const TempDir& dir, const std::string& name, int count) {
    const std::string path = dir.File(name);
    EXPECT_TRUE(OpenStore("sqlite:" + path)) << "the schema";
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    SQLite::Transaction tx(db);
    SQLite::Statement insert(db,
                             "INSERT INTO instances (id, service_id, environment_id, deployment_id, status, "
                             "deployment_status, created_at) VALUES (?, ?, ?, ?, 'DEPLOYING', 'BUILDING', 0)");
    for (int i = 0; i < count; ++i) {
        const std::string n = std::to_string(i);
        insert.bind(1, "instance-" + n);
        insert.bind(2, "service-" + n + std::string(60, 's'));
        insert.bind(3, "environment-" + n + std::string(60, 'e'));
        insert.bind(4, "deployment-" + n);
        insert.exec();
        insert.reset();
    }
    tx.commit();
    return "sqlite:" + path;
}

// A check's transition of instance-<i> of a SeededFleet (the deployment it follows) to `to_status`.
Transition FleetTransition(int i, std::string to_status, Timestamp at) {
    Transition t;
    t.instance_id = "instance-" + std::to_string(i);
    t.deployment_id = "deployment-" + std::to_string(i);
    t.to_status = std::move(to_status);
    t.at = at;
    t.state.status = core::InstanceStatus::kDeploying;
    t.state.deployment_status = t.to_status;
    return t;
}

// Opens the store at `url` with `options` and applies `rounds` rounds of transitions to the same
// 2,000 scattered instances of a fleet of `fleet` (chosen by `salt`), each applied; the I/O calls
// named `calls` (ProcessIo) of the rounds from `counted_from` on.
long long CallsOfRounds(const std::string& url, const StoreOptions& options, int fleet, int salt, int rounds,
                        int counted_from, std::string_view calls) {
    auto store = OpenStore(url, options);
    EXPECT_TRUE(store) << store.error().ToString();
    if (!store) return -1;
    long long counted = 0;
    for (int round = 0; round < rounds; ++round) {
        std::vector<Transition> transitions;
        transitions.reserve(2000);
        for (int k = 0; k < 2000; ++k) {
            transitions.push_back(FleetTransition((k * 7919 + salt) % fleet,
                                                  "S" + std::to_string(salt) + "-" + std::to_string(round), T(round)));
        }
        const long long before = ProcessIo(calls);
        for (const auto& applied : (*store)->ApplyTransitions(transitions))
            EXPECT_TRUE(applied && applied->applied);
        if (round >= counted_from) counted += ProcessIo(calls) - before;
    }
    return counted;
}

// StoreOptions::sqlite_cache_mib: the pages a fleet's transitions touch stay in the writer's
// cache from one group commit to the next. With SQLite's own 2 MiB most of them were read again
// each time (at 100,000 instances 10 read calls per transition against 3.3: docs/PERFORMANCE.md).
TEST(SqliteStore, TheWritersPageCacheKeepsTheFleetsPagesBetweenCommits) {
    TempDir dir;
    constexpr int kFleet = 20000;
    const std::string url = SeededFleet(dir, "cache.db", kFleet);
    // Two rounds over the same instances; the read calls of the second.
    StoreOptions small_cache;
    small_cache.sqlite_cache_mib = 0;  // SQLite's own 2 MiB
    const long long small = CallsOfRounds(url, small_cache, kFleet, 1, 2, 1, "syscr");
    const long long kept = CallsOfRounds(url, StoreOptions{}, kFleet, 2, 2, 1, "syscr");
    ASSERT_GT(small, 0) << "/proc/self/io is not readable";
    std::cout << "2,000 transitions over " << kFleet << " instances, again: " << small
              << " read calls with a 2 MiB page cache, " << kept << " with the default\n";
    // (No checkpoint comes within a round at the default checkpoint_pages: none reads the WAL.)
    EXPECT_LE(kept * 10, small);
}

// The writer's statement journals (the originals of the pages each savepoint of a group commit
// changes) go to the store's VFS, which holds them in memory (wal_write_vfs.hpp): not to SQLite's
// own in-memory journal, which allocated and freed them 1 KiB at a time (docs/PERFORMANCE.md).
TEST(SqliteStore, TheWritersStatementJournalsGoToTheVfsInMemory) {
    TempDir dir;
    constexpr int kFleet = 2000;
    const std::string url = SeededFleet(dir, "journal.db", kFleet);
    const std::uint64_t before = sqlite::StatementJournalsOpened();
    ASSERT_GE(CallsOfRounds(url, StoreOptions{}, kFleet, 1, 2, 0, "syscw"), 0) << "the store did not open";
    EXPECT_GT(sqlite::StatementJournalsOpened(), before);
}

// StoreOptions::sqlite_checkpoint_pages: a page changed again and again between checkpoints is
// copied into the database once per checkpoint, so a longer WAL writes fewer pages per transition
// (docs/PERFORMANCE.md, "Checkpoints every 10,000 WAL pages").
TEST(SqliteStore, ALongerWalCopiesTheFleetsPagesLessOften) {
    TempDir dir;
    constexpr int kFleet = 20000;
    StoreOptions often_options;
    often_options.sqlite_checkpoint_pages = 0;  // SQLite's 1,000
    const long long often =
        CallsOfRounds(SeededFleet(dir, "often.db", kFleet), often_options, kFleet, 3, 6, 0, "syscw");
    const long long longer =
        CallsOfRounds(SeededFleet(dir, "longer.db", kFleet), StoreOptions{}, kFleet, 3, 6, 0, "syscw");
    ASSERT_GT(often, 0) << "/proc/self/io is not readable";
    std::cout << "6 rounds of 2,000 transitions over " << kFleet << " instances: " << often
              << " write calls checkpointing every 1,000 WAL pages, " << longer << " with the default\n";
    EXPECT_LE(longer * 3, often);
}

// Migration 13: an event no longer takes an entry at a random place of an index on deployment_id,
// so a poll's transitions dirty one page fewer each, over a timeline already large (at 100,000
// instances ~0.7x the bytes written per transition: docs/PERFORMANCE.md, "Deployments found
// through their followers"). The same transitions on the same data, with that index put back.
TEST(SqliteStore, TransitionsWriteNoPageOfAnIndexOnDeployments) {
    TempDir dir;
    constexpr int kFleet = 20000;
    const auto bytes_written = [&](const std::string& name, bool deployment_index) {
        const std::string url = SeededFleet(dir, name, kFleet);
        {
            SQLite::Database db(dir.File(name), SQLite::OPEN_READWRITE);
            if (deployment_index)
                db.exec("CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id)");
            SQLite::Transaction tx(db);
            SQLite::Statement event(db,
                                    "INSERT INTO deployment_events (instance_id, deployment_id, to_status, at, source) "
                                    "VALUES (?, ?, 'SUCCESS', 0, 'poll')");
            for (int i = 0; i < kFleet * 5; ++i) {  // five earlier deployments each
                event.bind(1, "instance-" + std::to_string(i % kFleet));
                event.bind(2, "deployment-" + std::to_string(i % kFleet) + "-" + std::to_string(i / kFleet));
                event.exec();
                event.reset();
            }
            tx.commit();
        }
        auto store = OpenStore(url);
        EXPECT_TRUE(store) << store.error().ToString();
        if (!store) return -1LL;
        const long long before = ProcessIo("wchar");
        for (int poll = 0; poll < 40; ++poll) {  // 40 polls of 50 transitions each
            std::vector<Transition> transitions;
            transitions.reserve(50);
            for (int k = 0; k < 50; ++k)
                transitions.push_back(FleetTransition(((poll * 50 + k) * 7919) % kFleet, "DEPLOYING", T(poll)));
            for (const auto& applied : (*store)->ApplyTransitions(transitions))
                EXPECT_TRUE(applied && applied->applied);
        }
        return ProcessIo("wchar") - before;
    };
    const long long indexed = bytes_written("indexed.db", true);
    const long long followers = bytes_written("followers.db", false);
    ASSERT_GT(indexed, 0) << "/proc/self/io is not readable";
    std::cout << "2,000 transitions over " << kFleet << " instances in polls of 50: " << indexed
              << " bytes written with an index on the events' deployment_id, " << followers << " without\n";
    EXPECT_LE(followers * 10, indexed * 8);
}

// --- a full disk ------------------------------------------------------------------------

// Writers hit SQLITE_FULL in a database capped at a few pages (max_page_count: a small "disk").
// SQLite then rolls back the writer's WHOLE group-commit transaction, not only the failing
// request's savepoint. Afterwards the file must agree with every answer: each caller told ok has
// its rows, no caller told failed has any; the file is intact; and the store works again once
// space is freed.
TEST(SqliteDiskFull, EveryAnswerMatchesTheFileWhenTheDiskFills) {
    TempDir dir;
    const std::string path = dir.File("full.db");
    const std::string url = "sqlite:" + path;
    {
        auto store = OpenStore(url);
        ASSERT_TRUE(store) << store.error().ToString();
        Instance i;
        i.id = "i1";
        i.service_id = "svc";
        i.environment_id = "env";
        i.created_at = T(0);
        ASSERT_TRUE((*store)->CreateInstance(i));
    }
    std::int64_t pages = 0;
    {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        pages = db.execAndGet("PRAGMA page_count").getInt64();
    }
    StoreOptions options;
    options.sqlite_max_pages = pages + 40;  // room for ~100 of the rows below
    auto opened = OpenStore(url, options);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;

    // Half the writers record health checks (one insert), half apply transitions (an event, an
    // instance update and an outbox row: several statements). Each request carries a unique
    // marker; a writer stops after 5 failures in a row.
    constexpr int kWriters = 8;
    const std::string padding(1500, 'x');
    std::mutex mutex;
    std::set<std::string> told_ok, told_failed;
    std::vector<std::thread> threads;
    threads.reserve(kWriters);
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            int failures_in_a_row = 0;
            for (int n = 0; n < 2000 && failures_in_a_row < 5; ++n) {
                const std::string marker = "w" + std::to_string(w) + "-" + std::to_string(n);
                util::Result<void> r;
                if (w % 2 == 0) {
                    HealthCheck h;
                    h.instance_id = "i1";
                    h.at = T(n);
                    h.error = marker + " " + padding;
                    const auto id = store->RecordHealthCheck(h);
                    r = id ? util::Ok() : util::Result<void>(tl::unexpected(id.error()));
                } else {
                    Transition t;
                    t.instance_id = "i1";
                    t.deployment_id = "d1";
                    t.to_status = marker;
                    t.at = T(n);
                    t.outbox.push_back(OutboxMessage{"o-" + marker, "webhook", marker, padding, T(n), std::nullopt});
                    const auto applied = store->ApplyTransition(t);
                    r = applied ? util::Ok() : util::Result<void>(tl::unexpected(applied.error()));
                }
                std::lock_guard lock(mutex);
                if (r) {
                    told_ok.insert(marker);
                    failures_in_a_row = 0;
                } else {
                    EXPECT_EQ(r.error().code, util::ErrorCode::kIo) << r.error().ToString();
                    told_failed.insert(marker);
                    ++failures_in_a_row;
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    ASSERT_FALSE(told_failed.empty()) << "the database never filled up";
    ASSERT_FALSE(told_ok.empty());

    // What the file holds, read by a connection of its own.
    auto check_file = [&] {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
        std::set<std::string> health, events, outbox;
        SQLite::Statement h(db, "SELECT substr(error, 1, instr(error, ' ') - 1) FROM health_checks");
        while (h.executeStep())
            health.insert(h.getColumn(0).getString());
        SQLite::Statement e(db, "SELECT to_status FROM deployment_events");
        while (e.executeStep())
            events.insert(e.getColumn(0).getString());
        SQLite::Statement o(db, "SELECT dedup_key FROM outbox");
        while (o.executeStep())
            outbox.insert(o.getColumn(0).getString());
        EXPECT_EQ(events, outbox) << "a transition was stored in part";
        std::set<std::string> stored = health;
        stored.insert(events.begin(), events.end());
        for (const auto& marker : told_ok)
            EXPECT_TRUE(stored.contains(marker)) << marker << " was acknowledged but is not in the file";
        for (const auto& marker : told_failed)
            EXPECT_FALSE(stored.contains(marker)) << marker << " was reported failed but is in the file";
        return stored.size();
    };
    EXPECT_EQ(check_file(), told_ok.size());

    // Free space (another connection deletes the health checks: their pages go to the free list)
    // and the same store writes again.
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("DELETE FROM health_checks");
    }
    HealthCheck after;
    after.instance_id = "i1";
    after.at = T(5000);
    after.error = "after " + padding;
    const auto again = store->RecordHealthCheck(after);
    ASSERT_TRUE(again) << again.error().ToString();
    Transition t;
    t.instance_id = "i1";
    t.deployment_id = "d2";
    t.to_status = "SUCCESS";
    t.at = T(5000);
    ASSERT_TRUE(store->ApplyTransition(t));
    store.reset();
    // Reopened without the cap, it keeps working and the file is intact.
    auto reopened = OpenStore(url);
    ASSERT_TRUE(reopened) << reopened.error().ToString();
    EXPECT_EQ((*reopened)->RecentHealthChecks("i1", 10)->size(), 1u);
    EXPECT_TRUE((*reopened)->AppendLogs({LogLine{"i1", "d2", LogKind::kDeploy, T(5001), "info", "fine"}}));
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

// --- railwatch migrate ------------------------------------------------------------------

railwatch::test::CommandResult Railwatch(const std::vector<std::string>& args, const std::string& env_db = "",
                                         const std::string& cwd = "") {
    // sh keeps the environment explicit: RAILWATCH_DB unset unless given.
    std::string command = "unset RAILWATCH_DB; ";
    if (!cwd.empty()) command += "cd '" + cwd + "' && ";
    if (!env_db.empty()) command += "RAILWATCH_DB='" + env_db + "' ";
    command += "exec '" + std::string(RAILWATCH_BINARY) + "'";
    for (const auto& a : args)
        command += " '" + a + "'";
    return RunCommand({"sh", "-c", command}, std::chrono::seconds(60));
}

TEST(MigrateCommand, AppliesMigrationsOnceAndSaysSo) {
    TempDir dir;
    const std::string url = "sqlite:" + dir.File("m.db");
    auto first = Railwatch({"migrate", "--db", url});
    EXPECT_TRUE(first.status.Ok()) << first.output;
    EXPECT_THAT(first.output, HasSubstr("applied migration 1: initial schema"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 2: lease table, log_lines without foreign key"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 3: log rotation lower bound"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 4: open outbox index, disabled endpoints"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 5: narrow log dedup index (PostgreSQL)"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 6: stats history: event error class, engine minutes"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 7: covering index for recent health checks"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 8: schedule workers"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 11: change feed as a log (SQLite)"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 12: no index on instance status"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 15: no interval of its own stored as 0"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 16: Railway's steps of recent deployments"));
    EXPECT_THAT(first.output, HasSubstr("schema version 16"));
    auto second = Railwatch({"migrate", "--db", url});
    EXPECT_TRUE(second.status.Ok()) << second.output;
    EXPECT_THAT(second.output, HasSubstr("up to date"));
}

TEST(MigrateCommand, UsesRailwatchDbWhenNoFlagAndTheFlagWins) {
    TempDir dir;
    const std::string env_url = "sqlite:" + dir.File("env.db");
    const std::string flag_url = "sqlite:" + dir.File("flag.db");
    auto r = Railwatch({"migrate"}, env_url);
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("env.db")));
    r = Railwatch({"migrate", "--db", flag_url}, "sqlite:" + dir.File("not-this.db"));
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("flag.db")));
    EXPECT_FALSE(std::filesystem::exists(dir.File("not-this.db")));
}

TEST(MigrateCommand, DefaultsToRailwatchDbInTheWorkingDirectory) {
    TempDir dir;
    const auto r = Railwatch({"migrate"}, "", dir.path().string());
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("railwatch.db")));
}

TEST(MigrateCommand, BadUrlFailsWithAdvice) {
    const auto r = Railwatch({"migrate", "--db", "mongodb://x"});
    EXPECT_TRUE(r.status.exited);
    EXPECT_NE(r.status.code, 0);
    EXPECT_THAT(r.output, HasSubstr("sqlite:PATH"));
}

TEST(MigrateCommand, UnreachablePostgresNamesHostAndPortButNotThePassword) {
    const int port = railwatch::test::FreeLoopbackPort();  // nothing listens there
    const std::string url = "postgresql://rw:s3cr3t-pw@127.0.0.1:" + std::to_string(port) + "/railwatch";
    const auto r = Railwatch({"migrate", "--db", url});
    EXPECT_TRUE(r.status.exited);
    EXPECT_NE(r.status.code, 0);
    EXPECT_THAT(r.output, HasSubstr("127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(r.output, HasSubstr("is the server running"));
    EXPECT_THAT(r.output, Not(HasSubstr("s3cr3t-pw")));
}

}  // namespace
}  // namespace railwatch::store::test
