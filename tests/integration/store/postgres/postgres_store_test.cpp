// The conformance suite on a real PostgreSQL started for this binary, plus what only a shared
// server has: several workers claiming with leases, a server that dies mid-test, and
// `railwatch migrate` against PostgreSQL.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "conformance/conformance.hpp"
#include "store/sql/migrations.hpp"
#include "store/text.hpp"
#include "support/child_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::store::test {
namespace {

using railwatch::test::PostgresCluster;
using ::testing::HasSubstr;
using ::testing::Not;
using util::ErrorCode;

// One cluster for the whole binary; every test gets its own database.
PostgresCluster* g_cluster = nullptr;

class ClusterEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        auto started = PostgresCluster::Start();
        ASSERT_TRUE(started) << "could not start PostgreSQL for the tests: " << started.error().message;
        cluster_ = std::move(*started);
        g_cluster = cluster_.get();
    }
    void TearDown() override {
        g_cluster = nullptr;
        cluster_.reset();  // stops the server and deletes its directory
    }

  private:
    std::unique_ptr<PostgresCluster> cluster_;
};

[[maybe_unused]] const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

std::string FreshDatabase(const std::string& hint) {
    static std::atomic<int> counter{0};
    std::string name = "t" + std::to_string(++counter) + "_";
    for (const char c : hint) {
        if (name.size() >= 60) break;
        name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a')
                                       : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
    }
    if (g_cluster == nullptr) {
        ADD_FAILURE() << "no PostgreSQL cluster";
        return "postgresql://nobody@127.0.0.1:1/none";
    }
    const auto created = g_cluster->CreateDatabase(name);
    EXPECT_TRUE(created) << created.error().message;
    return g_cluster->Url(name);
}

StoreBackend PostgresBackend() {
    return StoreBackend{"Postgres", FreshDatabase};
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance, ::testing::Values(PostgresBackend()), BackendName);

Timestamp T(long long seconds) {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1}) + core::Seconds(seconds);
}

std::unique_ptr<Store> Open(const std::string& url, int connections = 2) {
    StoreOptions options;
    options.connections = connections;
    auto opened = OpenStore(url, options);
    EXPECT_TRUE(opened) << opened.error().ToString();
    return opened ? std::move(*opened) : nullptr;
}

// --- leases -----------------------------------------------------------------------------

// 4 workers, each with its own Store (its own connections, as separate processes would have),
// claim 2,000 due instances. Each instance must be claimed exactly once per due time; then a
// worker that stops while holding leases loses them to the others once the leases expire.
TEST(PostgresLeases, FourWorkersClaimEachDueInstanceExactlyOnce) {
    const std::string url = FreshDatabase("leases");
    constexpr int kInstances = 2000;
    constexpr int kWorkers = 4;
    {
        auto seed = Open(url, 1);
        ASSERT_NE(seed, nullptr);
        for (int n = 0; n < kInstances; ++n) {
            Instance i;
            i.id = "inst-" + std::to_string(n);
            i.service_id = "svc";
            i.environment_id = "env";
            i.created_at = T(0);
            i.state.next_check_at = T(n % 50);  // 50 different due times, all ≤ T(100)
            ASSERT_TRUE(seed->CreateInstance(i));
        }
    }
    std::vector<std::unique_ptr<Store>> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.push_back(Open(url, 1));
        ASSERT_NE(workers.back(), nullptr);
    }

    // Round 1: at T(100) everyone claims and releases with the next check at T(1000).
    std::mutex mutex;
    std::map<std::string, int> claims;
    std::map<int, int> per_worker;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    threads.reserve(kWorkers);
    for (int w = 0; w < kWorkers; ++w) {
        threads.emplace_back([&, w] {
            const std::string owner = "worker-" + std::to_string(w);
            for (int round = 0; round < 1000; ++round) {
                auto batch = workers[w]->ClaimDueInstances(owner, T(100), core::Seconds(30), 25);
                if (!batch) {
                    ++errors;
                    return;
                }
                if (batch->empty()) return;
                {
                    std::lock_guard lock(mutex);
                    for (const auto& i : *batch) {
                        ++claims[i.id];
                        ++per_worker[w];
                    }
                }
                for (const auto& i : *batch) {
                    if (!workers[w]->ReleaseInstance(i.id, owner, T(1000))) ++errors;
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(claims.size(), static_cast<std::size_t>(kInstances));
    for (const auto& [id, count] : claims)
        ASSERT_EQ(count, 1) << id << " was claimed " << count << " times for one due time";
    int busy_workers = 0;
    for (const auto& [w, count] : per_worker)
        busy_workers += count > 0 ? 1 : 0;
    EXPECT_GE(busy_workers, 2) << "the claims were not actually concurrent";

    // Nothing is due again before T(1000).
    EXPECT_TRUE(workers[0]->ClaimDueInstances("worker-0", T(999), core::Seconds(30), 100)->empty());

    // Round 2 at T(1000): worker 3 claims 300 and then dies without releasing (its Store is
    // destroyed, its connections closed). The others take everything else now and worker 3's
    // instances only after its 30 s lease expires.
    auto dead = workers[3]->ClaimDueInstances("worker-3", T(1000), core::Seconds(30), 300);
    ASSERT_TRUE(dead);
    ASSERT_EQ(dead->size(), 300u);
    std::set<std::string> held_by_dead;
    for (const auto& i : *dead)
        held_by_dead.insert(i.id);
    workers[3].reset();

    auto drain = [&](Timestamp now, std::set<std::string>& got) {
        std::vector<std::thread> ts;
        ts.reserve(3);
        for (int w = 0; w < 3; ++w) {
            ts.emplace_back([&, w] {
                const std::string owner = "worker-" + std::to_string(w);
                for (int round = 0; round < 1000; ++round) {
                    auto batch = workers[w]->ClaimDueInstances(owner, now, core::Seconds(30), 25);
                    if (!batch || batch->empty()) return;
                    std::lock_guard lock(mutex);
                    for (const auto& i : *batch)
                        EXPECT_TRUE(got.insert(i.id).second) << i.id << " claimed twice";
                }
            });
        }
        for (auto& t : ts)
            t.join();
    };
    std::set<std::string> before_expiry;
    drain(T(1010), before_expiry);
    EXPECT_EQ(before_expiry.size(), static_cast<std::size_t>(kInstances - 300));
    for (const auto& id : held_by_dead)
        EXPECT_FALSE(before_expiry.contains(id)) << id << " was taken while its lease lived";
    std::set<std::string> after_expiry;
    drain(T(1031), after_expiry);
    EXPECT_EQ(after_expiry, held_by_dead);
}

// --- a dead database --------------------------------------------------------------------

TEST(PostgresOutage, StoppedServerGivesUnavailableThenRecovers) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string url = FreshDatabase("outage");
    auto store = Open(url, 2);
    ASSERT_NE(store, nullptr);
    Instance i;
    i.id = "i1";
    i.service_id = "svc";
    i.environment_id = "env";
    i.created_at = T(0);
    ASSERT_TRUE(store->CreateInstance(i));

    ASSERT_TRUE(g_cluster->Stop());
    const auto read = store->GetInstance("i1");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, ErrorCode::kUnavailable) << read.error().ToString();
    EXPECT_THAT(read.error().message, HasSubstr("127.0.0.1:" + std::to_string(g_cluster->port())));
    EXPECT_THAT(read.error().message, HasSubstr("is the server running"));
    const auto write = store->ApplyTransition(Transition{"i1", "d1", std::nullopt, "SUCCESS", T(1), "poll", {}, {}});
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().code, ErrorCode::kUnavailable) << write.error().ToString();

    ASSERT_TRUE(g_cluster->Restart()) << g_cluster->LogTail();
    // The pool replaces its broken connections on the next call.
    const auto again = store->GetInstance("i1");
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_TRUE(store->ApplyTransition(Transition{"i1", "d1", std::nullopt, "SUCCESS", T(1), "poll", {}, {}}));
    EXPECT_EQ(store->ListEvents("i1", 10)->size(), 1u);
}

TEST(PostgresOutage, UnreachableServerAtOpenIsUnavailableWithoutThePassword) {
    const int port = railwatch::test::FreeLoopbackPort();
    const auto r = OpenStore("postgresql://rw:hunter2@127.0.0.1:" + std::to_string(port) + "/db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(r.error().message, HasSubstr("127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(r.error().message, Not(HasSubstr("hunter2")));
}

TEST(PostgresOutage, MissingDatabaseSaysWhichOne) {
    ASSERT_NE(g_cluster, nullptr);
    const auto r = OpenStore(g_cluster->Url("no_such_database"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(r.error().message, HasSubstr("no_such_database"));
}

// --- the test cluster itself -----------------------------------------------------------

bool AcceptsConnections(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

// A test binary killed by ctest's timeout (SIGKILL: no destructor runs) must not leave its
// server running: the cluster's watchdog stops it and deletes its directory.
TEST(PostgresTestCluster, ServerStopsWhenTheProcessThatStartedItIsKilled) {
    railwatch::test::TempDir scratch;
    const std::string info = scratch.File("cluster.txt");
    auto child = railwatch::test::ChildProcess::Fork([&] {
        auto started = PostgresCluster::Start();
        if (!started) return 2;
        {
            std::ofstream out(info + ".tmp");
            out << (*started)->port() << "\n" << (*started)->directory() << "\n";
        }
        std::filesystem::rename(info + ".tmp", info);
        while (true)
            pause();  // until killed
    });
    int port = 0;
    std::string directory;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline && port == 0) {
        std::ifstream in(info);
        if (!(in >> port >> directory)) port = 0;
        if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_NE(port, 0) << "the child did not start its cluster";
    ASSERT_TRUE(AcceptsConnections(port));
    ASSERT_TRUE(std::filesystem::exists(directory));

    child.Signal(SIGKILL);
    EXPECT_TRUE(child.Wait(std::chrono::seconds(10)).signaled);
    const auto stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < stop_deadline &&
           (AcceptsConnections(port) || std::filesystem::exists(directory)))
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(AcceptsConnections(port)) << "the server outlived its test process";
    EXPECT_FALSE(std::filesystem::exists(directory)) << directory << " was left behind";
}

// Migration 3 on a version-2 PostgreSQL database: log_first_seq is filled from the stored lines,
// and the set-based append rotates from there.
TEST(PostgresMigrate, MigrationThreeBoundsTheLogRotationOfAVersionTwoDatabase) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string name = "v2_to_v3";
    ASSERT_TRUE(g_cluster->CreateDatabase(name));
    const auto run = [&](const std::string& sql) {
        const auto r = g_cluster->Psql(sql, name);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::string();
    };
    run(std::string(sql::Migrations(Backend::kPostgres)[0].sql));
    run(std::string(sql::Migrations(Backend::kPostgres)[1].sql));
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT "
        "NULL); INSERT INTO schema_migrations VALUES (1, 'initial schema', 0), (2, 'lease table, log_lines without "
        "foreign key', 0)");
    run("INSERT INTO instances (id, service_id, environment_id, status, monitoring, log_seq, created_at) VALUES "
        "('i1', 's', 'e', 'RUNNING', 1, 7, 0), ('i2', 's', 'e', 'RUNNING', 1, 3, 0)");
    for (int seq = 5; seq <= 7; ++seq) {
        const std::string message = "line " + std::to_string(seq);
        run("INSERT INTO log_lines VALUES ('i1', " + std::to_string(seq) + ", 'd1', 'deploy', " +
            std::to_string(T(seq).time_since_epoch().count()) + ", 'info', '" + message + "', " +
            std::to_string(MessageHash(message)) + ")");
    }
    auto store = Open(g_cluster->Url(name));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value_or(0), static_cast<int>(sql::Migrations(Backend::kPostgres).size()));
    EXPECT_EQ(run("SELECT string_agg(id || ' ' || log_first_seq, ',' ORDER BY id) FROM instances"), "i1 5,i2 4\n");
    const auto r = store->AppendLogs({LogLine{"i1", "d1", LogKind::kDeploy, T(8), "info", "line 8"}}, 2);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->rotated, 2);
    const auto logs = store->RecentLogs("i1", 10, std::nullopt);
    ASSERT_TRUE(logs);
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ(logs->front().message, "line 7");
    EXPECT_EQ(logs->back().message, "line 8");
}

// Migration 5 on a version-4 PostgreSQL database holding lines: the wide unique dedup index gives
// way to log_lines_ts, and the lines stored before it still count as duplicates (same instance,
// deployment, kind, timestamp and message), while a line differing only in deployment, kind or
// message is new; numbering goes on from log_seq and the newest timestamps are still found.
TEST(PostgresMigrate, MigrationFiveKeepsDeduplicatingLinesStoredBeforeIt) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string name = "v4_to_v5";
    ASSERT_TRUE(g_cluster->CreateDatabase(name));
    const auto run = [&](const std::string& sql) {
        const auto r = g_cluster->Psql(sql, name);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::string();
    };
    for (int v = 0; v < 4; ++v)
        run(std::string(sql::Migrations(Backend::kPostgres)[static_cast<std::size_t>(v)].sql));
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT "
        "NULL); INSERT INTO schema_migrations VALUES (1, 'initial schema', 0), (2, 'lease table, log_lines without "
        "foreign key', 0), (3, 'log rotation lower bound', 0), (4, 'open outbox index, disabled endpoints', 0)");
    run("INSERT INTO instances (id, service_id, environment_id, status, monitoring, log_seq, log_first_seq, "
        "created_at) VALUES ('i1', 's', 'e', 'RUNNING', 1, 2, 1, 0)");
    const auto stored = [](int seq) {
        return LogLine{"i1", "d1", LogKind::kDeploy, T(seq), "info", "line " + std::to_string(seq)};
    };
    for (int seq = 1; seq <= 2; ++seq) {
        const LogLine l = stored(seq);
        run("INSERT INTO log_lines VALUES ('i1', " + std::to_string(seq) + ", 'd1', 'deploy', " +
            std::to_string(l.timestamp.time_since_epoch().count()) + ", 'info', '" + l.message + "', " +
            std::to_string(MessageHash(l.message)) + ")");
    }
    auto store = Open(g_cluster->Url(name));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    EXPECT_EQ(run("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = "
                  "'log_lines'"),
              "log_lines_pkey,log_lines_ts\n");

    LogLine other_deployment = stored(2);
    other_deployment.deployment_id = "d2";
    LogLine other_kind = stored(2);
    other_kind.kind = LogKind::kBuild;
    LogLine other_message = stored(2);
    other_message.message = "line 2 again";
    const auto r =
        store->AppendLogs({stored(1), stored(2), other_deployment, other_kind, other_message, stored(3)}, 100);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->duplicates, 2);
    EXPECT_EQ(r->inserted, 4);
    EXPECT_EQ(run("SELECT string_agg(seq || ' ' || message, ',' ORDER BY seq) FROM log_lines"),
              "1 line 1,2 line 2,3 line 2,4 line 2,5 line 2 again,6 line 3\n");
    EXPECT_EQ(store->LatestLogTimestamp("i1", "d1", LogKind::kDeploy).value_or(std::nullopt), T(3));
    EXPECT_EQ(store->LatestLogTimestamp("i1", "d2", LogKind::kDeploy).value_or(std::nullopt), T(2));
    EXPECT_EQ(store->LatestLogTimestamp("i1", "d1", LogKind::kBuild).value_or(std::nullopt), T(2));
}

// Migration 7 on a version-6 PostgreSQL database holding checks: health_checks_recent replaces
// health_checks_instance, the checks stored before it come back (newest first, the latest on
// equal times), and the list's statement can read that index alone (an index-only scan; the
// planner is kept off the sequential scan a table this small would get).
TEST(PostgresMigrate, MigrationSevenServesRecentChecksStoredBeforeItFromTheIndexAlone) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string name = "v6_to_v7";
    ASSERT_TRUE(g_cluster->CreateDatabase(name));
    const auto run = [&](const std::string& sql) {
        const auto r = g_cluster->Psql(sql, name);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::string();
    };
    for (int v = 0; v < 6; ++v)
        run(std::string(sql::Migrations(Backend::kPostgres)[static_cast<std::size_t>(v)].sql));
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT "
        "NULL); INSERT INTO schema_migrations VALUES (1, 'initial schema', 0), (2, 'lease table, log_lines without "
        "foreign key', 0), (3, 'log rotation lower bound', 0), (4, 'open outbox index, disabled endpoints', 0), "
        "(5, 'narrow log dedup index (PostgreSQL)', 0), (6, 'stats history: event error class, engine minutes', 0)");
    run("INSERT INTO instances (id, service_id, environment_id, status, monitoring, log_seq, log_first_seq, "
        "created_at) VALUES ('i1', 's', 'e', 'RUNNING', 1, 0, 1, 0)");
    const auto ns = [](Timestamp t) { return std::to_string(t.time_since_epoch().count()); };
    run("INSERT INTO health_checks (instance_id, at, ok, http_status, latency_ms, error) VALUES ('i1', " + ns(T(1)) +
        ", 1, 200, 30, NULL), ('i1', " + ns(T(2)) + ", 0, NULL, NULL, 'refused'), ('i1', " + ns(T(2)) +
        ", 1, 200, 31, NULL)");
    auto store = Open(g_cluster->Url(name));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    EXPECT_EQ(run("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = "
                  "'health_checks'"),
              "health_checks_pkey,health_checks_recent\n");
    const std::vector<std::string> ids = {"i1"};
    const auto lists = store->RecentCheckSummariesOf(ids, 2);
    ASSERT_TRUE(lists) << lists.error().ToString();
    ASSERT_EQ(lists->size(), 1u);
    const std::vector<CheckSummary> expected = {{T(2), true, 31}, {T(2), false, std::nullopt}};
    EXPECT_EQ(lists->at(0), expected);
    run("VACUUM health_checks");
    EXPECT_THAT(run("SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN SELECT at, ok, latency_ms FROM "
                    "health_checks WHERE instance_id = 'i1' ORDER BY at DESC, id DESC LIMIT 20"),
                HasSubstr("Index Only Scan Backward using health_checks_recent"));
}

// Migration 9's trigger marks a change of every column of instances but the schedule's and the
// log counters: a column added later must be added to its UPDATE OF list and its WHEN clause, or
// the engine's kept rows would miss changes of it.
TEST(PostgresMigrate, ChangeFeedTriggerCoversEveryInstanceColumnButTheScheduleAndLogCounters) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string url = FreshDatabase("feed_trigger");
    auto store = Open(url);
    ASSERT_NE(store, nullptr);
    const std::string name = url.substr(url.rfind('/') + 1);
    const auto run = [&](const std::string& sql) {
        const auto r = g_cluster->Psql(sql, name);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::string();
    };
    const std::string columns = run(
        "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = "
        "'instances' AND column_name NOT IN ('next_check_at', 'log_seq', 'log_first_seq', 'change_seq')");
    const std::string update_of =
        run("SELECT string_agg(event_object_column, ',' ORDER BY event_object_column) FROM "
            "information_schema.triggered_update_columns WHERE trigger_name = 'instances_changed'");
    EXPECT_EQ(std::count(columns.begin(), columns.end(), ','), 23) << columns;
    EXPECT_EQ(update_of, columns);
    const std::string when = run("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'instances_changed'");
    std::string column;
    for (const char c : columns + ",") {
        if (c != ',' && c != '\n') {
            column += c;
            continue;
        }
        if (column.empty()) continue;
        // PostgreSQL keeps ROW(old…) IS DISTINCT FROM ROW(new…) as one comparison per column.
        EXPECT_NE(when.find("(old." + column + " IS DISTINCT FROM new." + column + ")"), std::string::npos)
            << column << " is missing from the trigger's WHEN clause";
        column.clear();
    }
    EXPECT_THAT(when, Not(HasSubstr("next_check_at")));
    EXPECT_THAT(when, Not(HasSubstr("log_seq")));
}

// Migration 15 on a version-14 PostgreSQL database: the stored default (30 s) becomes none, another
// interval stays the instance's own.
TEST(PostgresMigrate, MigrationFifteenTakesTheStoredDefaultIntervalAsNone) {
    ASSERT_NE(g_cluster, nullptr);
    const std::string name = "v14_to_v15";
    ASSERT_TRUE(g_cluster->CreateDatabase(name));
    const auto run = [&](const std::string& sql) {
        const auto r = g_cluster->Psql(sql, name);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::string();
    };
    const auto migrations = sql::Migrations(Backend::kPostgres);
    std::string versions;
    for (std::size_t v = 0; v < 14; ++v) {
        run(std::string(migrations[v].sql));
        versions += fmt::format("{}({}, '{}', 0)", v == 0 ? "" : ", ", migrations[v].version, migrations[v].name);
    }
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT "
        "NULL); INSERT INTO schema_migrations VALUES " +
        versions);
    run("INSERT INTO instances (id, service_id, environment_id, status, monitoring, check_interval_s, log_seq, "
        "log_first_seq, created_at) VALUES ('a', 's', 'e', 'RUNNING', 1, 30, 0, 1, 0), "
        "('b', 's', 'e', 'RUNNING', 1, 45, 0, 1, 0)");
    auto store = Open(g_cluster->Url(name));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value_or(0), 16);
    EXPECT_EQ(store->GetInstance("a")->check_interval_s, std::nullopt);
    EXPECT_EQ(store->GetInstance("b")->check_interval_s, 45);
    EXPECT_EQ(run("SELECT string_agg(id || ' ' || check_interval_s, ',' ORDER BY id) FROM instances"), "a 0,b 45\n");
}

TEST(PostgresMigrate, MigrateCommandWorksAgainstPostgres) {
    const std::string url = FreshDatabase("cli");
    const auto first = railwatch::test::RunCommand({RAILWATCH_BINARY, "migrate", "--db", url});
    EXPECT_TRUE(first.status.Ok()) << first.output;
    EXPECT_THAT(first.output, HasSubstr("applied migration 1: initial schema"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 2: lease table, log_lines without foreign key"));
    EXPECT_THAT(first.output, HasSubstr("applied migration 3: log rotation lower bound"));
    const auto second = railwatch::test::RunCommand({RAILWATCH_BINARY, "migrate", "--db", url});
    EXPECT_TRUE(second.status.Ok()) << second.output;
    EXPECT_THAT(second.output, HasSubstr("up to date"));
}

}  // namespace
}  // namespace railwatch::store::test
