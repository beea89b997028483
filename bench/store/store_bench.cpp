// Store throughput on both backends, each next to the raw rate of the same rows measured in the
// same run: SQLite, one prepared statement per row in one transaction (no dedup, no rotation, no
// store layers); PostgreSQL, libpq COPY into a bare table and the same multi-row insert without
// dedup and rotation. Plus the cost of giving 1,000 claimed instances back one by one vs batched. PostgreSQL runs in a
// throw-away cluster started by this binary (see tests/support/postgres_cluster.hpp); fsync is off there, so its
// figures are an upper bound.
//
//   build/bench/bench_store --benchmark_counters_tabular=true
//
// Every figure is wall-clock (UseRealTime): the store works on its own threads, so the calling
// thread's CPU time would flatter it. The CPU column is the whole process's CPU time per
// iteration (MeasureProcessCPUTime, all threads): on a shared machine it shows the work done,
// independent of how much of the wall time the process had to wait for a core.

#include <SQLiteCpp/SQLiteCpp.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "store/store.hpp"
#include "store/text.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace railwatch;
using store::LogLine;
using store::Timestamp;

constexpr int kInstances = 10;
constexpr int kLinesPerBatch = 1000;  // one AppendLogs call: every instance gets 90 new lines
constexpr int kInstancesPerBatch = 10;
constexpr int kWarmupBatches = 12;     // fills every instance past max_logs: rotation runs in every timed batch
constexpr int kDuplicatePercent = 10;  // lines re-sent from the previous batch (Railway overlap)

test::TempDir* g_dir = nullptr;
test::PostgresCluster* g_cluster = nullptr;
std::atomic<int> g_counter{0};

Timestamp T(long long ns) {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1}) + nanoseconds(ns);
}

// The PostgreSQL server's CPU use over a benchmark's timed loop, reported per 1,000 lines: the
// server's work, which (unlike wall time) does not depend on how busy the machine is.
class ServerCpu {
  public:
    explicit ServerCpu(bool postgres) {
        if (postgres && g_cluster != nullptr) start_ = g_cluster->ServerCpuSeconds();
    }
    void Report(benchmark::State& state, long long lines) const {
        if (!start_ || lines == 0) return;
        const auto end = g_cluster->ServerCpuSeconds();
        if (!end) return;
        state.counters["server_cpu_ms/1k"] = (*end - *start_) * 1000.0 * 1000.0 / static_cast<double>(lines);
    }

  private:
    std::optional<double> start_;
};

std::string FreshUrl(bool postgres) {
    const int n = ++g_counter;
    if (!postgres) return "sqlite:" + g_dir->File("bench-" + std::to_string(n) + ".db");
    const std::string name = "bench_" + std::to_string(n);
    if (!g_cluster->CreateDatabase(name)) return {};
    return g_cluster->Url(name);
}

// `deploying`: each instance follows its own deployment (dep-<id>), in progress; `running` too,
// RUNNING it as a SUCCESS deployment (a settled fleet).
std::unique_ptr<store::Store> OpenWithInstances(const std::string& url, int count, bool due = false,
                                                bool deploying = false, bool running = false) {
    auto opened = store::OpenStore(url);
    if (!opened) {
        std::cerr << opened.error().ToString() << "\n";
        return nullptr;
    }
    for (int n = 0; n < count; ++n) {
        store::Instance i;
        i.id = "inst-" + std::to_string(n);
        i.service_id = "svc";
        i.environment_id = "env";
        i.created_at = T(0);
        i.monitoring = true;
        i.state.next_check_at = due ? T(n) : T(1'000'000'000'000LL);
        if (deploying) {
            i.state.deployment_id = "dep-" + i.id;
            i.state.status = running ? core::InstanceStatus::kRunning : core::InstanceStatus::kDeploying;
            if (running) i.state.deployment_status = "SUCCESS";
        }
        if (!(*opened)->CreateInstance(i)) return nullptr;
    }
    return std::move(*opened);
}

// Deterministic batches: batch b covers instances (b*10 .. b*10+9) % 100 with fresh lines, and
// repeats 10 % of the previous batch's lines (which the store must drop).
class LogWorkload {
  public:
    /// `first_instance`: the writer's instances are inst-<first_instance> .. +kInstances-1.
    explicit LogWorkload(int first_instance = 0) : first_instance_(first_instance) {}

    std::vector<LogLine> Next() {
        std::vector<LogLine> out;
        out.reserve(kLinesPerBatch);
        const int dup = kLinesPerBatch * kDuplicatePercent / 100;
        for (int k = 0; k < dup && k < static_cast<int>(previous_.size()); ++k)
            out.push_back(previous_[static_cast<std::size_t>(k) * previous_.size() / dup]);
        std::vector<LogLine> fresh;
        const int per_instance = (kLinesPerBatch - static_cast<int>(out.size())) / kInstancesPerBatch;
        for (int j = 0; j < kInstancesPerBatch; ++j) {
            const std::string instance =
                "inst-" + std::to_string(first_instance_ + (batch_ * kInstancesPerBatch + j) % kInstances);
            for (int k = 0; k < per_instance; ++k) {
                ++seq_;
                fresh.push_back(
                    LogLine{instance, "dep-1", store::LogKind::kDeploy, T(seq_ * 1000), "info",
                            "2026-01-01 GET /api/v1/items?page=" + std::to_string(seq_) +
                                " 200 12ms user-agent=Mozilla/5.0 request-id=" + std::to_string(seq_ * 7919)});
            }
        }
        out.insert(out.end(), fresh.begin(), fresh.end());
        previous_ = std::move(fresh);
        ++batch_;
        return out;
    }

  private:
    int first_instance_ = 0;
    long long seq_ = 0;
    int batch_ = 0;
    std::vector<LogLine> previous_;
};

void LogIngest(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    auto s = OpenWithInstances(FreshUrl(postgres), kInstances);
    if (!s) return state.SkipWithError("cannot open the store");
    LogWorkload work;
    for (int b = 0; b < kWarmupBatches; ++b) {
        if (!s->AppendLogs(work.Next(), store::kDefaultMaxLogs)) return state.SkipWithError("warm-up failed");
    }
    long long lines = 0, inserted = 0, dups = 0, rotated = 0;
    const ServerCpu server(postgres);
    for (auto _ : state) {
        state.PauseTiming();
        auto batch = work.Next();
        state.ResumeTiming();
        auto r = s->AppendLogs(batch, store::kDefaultMaxLogs);
        if (!r) return state.SkipWithError(r.error().message.c_str());
        lines += static_cast<long long>(batch.size());
        inserted += r->inserted;
        dups += r->duplicates;
        rotated += r->rotated;
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
    state.counters["inserted"] = static_cast<double>(inserted);
    state.counters["dups"] = static_cast<double>(dups);
    state.counters["rotated"] = static_cast<double>(rotated);
    server.Report(state, lines);
}

// Several writers on one store, each appending its own instances' lines (the engine's job workers
// collect logs of different instances at once). Thread 0 opens the store and warms every
// writer's instances up before the timed loop's start barrier; lines/s is the writers' total.
// Each batch is generated inside the timed loop (PauseTiming does not suit threads): the figure
// includes that client work, which the one-writer run above leaves out.
struct SharedIngest {
    std::unique_ptr<store::Store> store;
    std::vector<LogWorkload> work;
    std::optional<ServerCpu> server;
    bool ok = false;
};
std::unique_ptr<SharedIngest> g_ingest;

void LogIngestWriters(benchmark::State& state, bool postgres) {
    const int writers = state.threads();
    if (state.thread_index() == 0) {
        g_ingest = std::make_unique<SharedIngest>();
        if (!postgres || g_cluster != nullptr) {
            g_ingest->store = OpenWithInstances(FreshUrl(postgres), kInstances * writers);
            for (int w = 0; w < writers; ++w)
                g_ingest->work.emplace_back(w * kInstances);
            g_ingest->ok = g_ingest->store != nullptr;
            for (int b = 0; g_ingest->ok && b < kWarmupBatches; ++b) {
                for (auto& work : g_ingest->work)
                    g_ingest->ok = g_ingest->ok && g_ingest->store->AppendLogs(work.Next(), store::kDefaultMaxLogs);
            }
            g_ingest->server.emplace(postgres);
        }
    }
    long long lines = 0;
    for (auto _ : state) {  // its first step waits for every thread: thread 0 has set up
        if (!g_ingest->ok) {
            state.SkipWithError("cannot open or warm up the store");
            break;
        }
        auto batch = g_ingest->work[static_cast<std::size_t>(state.thread_index())].Next();
        if (auto r = g_ingest->store->AppendLogs(batch, store::kDefaultMaxLogs); !r) {
            state.SkipWithError(r.error().message.c_str());
            break;
        }
        lines += static_cast<long long>(batch.size());
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
    if (state.thread_index() == 0 && g_ingest->server) {
        // Thread 0's loop ends with the others' (same iteration count): close enough for CPU/1k.
        g_ingest->server->Report(state, lines * writers);
    }
}

// The raw rate: the same fresh rows, one prepared INSERT executed per row inside one transaction
// per batch, seq precomputed, no dedup lookup beyond the unique index, no rotation.
void RawLogInsertSqlite(benchmark::State& state) {
    const std::string url = FreshUrl(false);
    if (!OpenWithInstances(url, kInstances)) return state.SkipWithError("cannot create the schema");
    SQLite::Database db(url.substr(7), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    SQLite::Statement insert(db,
                             "INSERT INTO log_lines (instance_id, seq, deployment_id, kind, ts, severity, message, "
                             "msg_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    LogWorkload work;
    long long lines = 0, seq = 0;
    auto insert_batch = [&](const std::vector<LogLine>& batch) {
        SQLite::Transaction tx(db);
        for (const auto& l : batch) {
            insert.bind(1, l.instance_id);
            insert.bind(2, static_cast<int64_t>(++seq));
            insert.bind(3, l.deployment_id);
            insert.bind(4, "deploy");
            insert.bind(5, static_cast<int64_t>(l.timestamp.time_since_epoch().count()));
            insert.bind(6, l.severity);
            insert.bind(7, l.message);
            insert.bind(8, static_cast<int64_t>(store::MessageHash(l.message)));
            insert.exec();  // duplicates hit the unique index and are skipped, as in the store
            insert.reset();
        }
        tx.commit();
    };
    for (int b = 0; b < kWarmupBatches; ++b)
        insert_batch(work.Next());
    for (auto _ : state) {
        state.PauseTiming();
        auto batch = work.Next();
        state.ResumeTiming();
        insert_batch(batch);
        lines += static_cast<long long>(batch.size());
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
}

// A PostgreSQL array literal ({"a","b"} / {1,2}), as the store binds its batches.
std::string ArrayLiteral(const std::vector<std::string>& values) {
    std::string out = "{";
    for (const auto& v : values) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char ch : v) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

std::string ArrayLiteral(const std::vector<long long>& values) {
    std::string out = "{";
    for (const long long v : values) {
        if (out.size() > 1) out += ',';
        out += std::to_string(v);
    }
    return out + "}";
}

// PostgreSQL raw rate 1: every line of each batch (duplicates included) streamed with libpq COPY
// into a bare table with the same columns and no key, index or constraint: the fastest way
// PostgreSQL takes rows in, with nothing checked.
void RawLogCopyPostgres(benchmark::State& state) {
    if (g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const std::string url = FreshUrl(true);
    if (!OpenWithInstances(url, kInstances)) return state.SkipWithError("cannot create the schema");
    pqxx::connection c(url);
    {
        pqxx::work w(c);
        w.exec(
            "CREATE TABLE log_lines_raw (instance_id TEXT, seq BIGINT, deployment_id TEXT, kind TEXT, ts BIGINT, "
            "severity TEXT, message TEXT, msg_hash BIGINT)");
        w.commit();
    }
    const std::vector<std::string> columns = {"instance_id", "seq",      "deployment_id", "kind",
                                              "ts",          "severity", "message",       "msg_hash"};
    LogWorkload work;
    long long lines = 0, seq = 0;
    auto copy_batch = [&](const std::vector<LogLine>& batch) {
        pqxx::work w(c);
        pqxx::stream_to stream(w, "log_lines_raw", columns);
        for (const auto& l : batch) {
            stream << std::make_tuple(l.instance_id, ++seq, l.deployment_id, std::string("deploy"),
                                      static_cast<long long>(l.timestamp.time_since_epoch().count()), l.severity,
                                      l.message, static_cast<long long>(store::MessageHash(l.message)));
        }
        stream.complete();
        w.commit();
    };
    for (int b = 0; b < kWarmupBatches; ++b)
        copy_batch(work.Next());
    const ServerCpu server(true);
    for (auto _ : state) {
        state.PauseTiming();
        auto batch = work.Next();
        state.ResumeTiming();
        copy_batch(batch);
        lines += static_cast<long long>(batch.size());
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
    server.Report(state, lines);
}

// PostgreSQL raw rate 2: the store's multi-row insert without what makes it the store's: no lock,
// no duplicate check, sequence numbers computed here, no log_seq update, no rotation. The same
// table and indexes; since migration 5 none of them is unique, so the re-sent lines go in too.
void RawLogUnnestInsertPostgres(benchmark::State& state) {
    if (g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const std::string url = FreshUrl(true);
    if (!OpenWithInstances(url, kInstances)) return state.SkipWithError("cannot create the schema");
    pqxx::connection c(url);
    c.prepare("ins",
              "INSERT INTO log_lines (instance_id, seq, deployment_id, kind, ts, severity, message, msg_hash) "
              "SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[]), CAST($3 AS TEXT[]), CAST($4 AS "
              "TEXT[]), CAST($5 AS BIGINT[]), CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), CAST($8 AS BIGINT[]))");
    LogWorkload work;
    long long lines = 0, seq = 0;
    auto insert_batch = [&](const std::vector<LogLine>& batch) {
        std::vector<std::string> instances, deployments, kinds, severities, messages;
        std::vector<long long> seqs, stamps, hashes;
        for (const auto& l : batch) {
            instances.push_back(l.instance_id);
            seqs.push_back(++seq);
            deployments.push_back(l.deployment_id);
            kinds.push_back("deploy");
            stamps.push_back(static_cast<long long>(l.timestamp.time_since_epoch().count()));
            severities.push_back(l.severity);
            messages.push_back(l.message);
            hashes.push_back(static_cast<long long>(store::MessageHash(l.message)));
        }
        pqxx::work w(c);
        w.exec_prepared("ins", ArrayLiteral(instances), ArrayLiteral(seqs), ArrayLiteral(deployments),
                        ArrayLiteral(kinds), ArrayLiteral(stamps), ArrayLiteral(severities), ArrayLiteral(messages),
                        ArrayLiteral(hashes));
        w.commit();
    };
    for (int b = 0; b < kWarmupBatches; ++b)
        insert_batch(work.Next());
    const ServerCpu server(true);
    for (auto _ : state) {
        state.PauseTiming();
        auto batch = work.Next();
        state.ResumeTiming();
        insert_batch(batch);
        lines += static_cast<long long>(batch.size());
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
    server.Report(state, lines);
}

store::Transition MakeTransition(long long i) {
    store::Transition t;
    t.instance_id = "inst-" + std::to_string(i % kInstances);
    t.deployment_id = "dep-" + std::to_string(i / 4);
    t.to_status = (i % 2 == 0) ? "DEPLOYING" : "SUCCESS";
    t.at = T(i);
    t.state.status = core::InstanceStatus::kDeploying;
    t.state.deployment_status = t.to_status;
    t.state.progress = static_cast<int>(i % 100);
    t.outbox.push_back(store::OutboxMessage{"out-" + std::to_string(i), "webhook", "t-" + std::to_string(i),
                                            R"({"event":"deployment.status","n":1})", T(i), std::nullopt});
    return t;
}

// Transitions from `threads` concurrent callers (the SQLite writer groups them into one
// transaction; PostgreSQL uses a pool of 4).
void Transitions(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const int threads = static_cast<int>(state.range(0));
    auto s = OpenWithInstances(FreshUrl(postgres), kInstances);
    if (!s) return state.SkipWithError("cannot open the store");
    std::atomic<long long> next{0};
    long long done = 0;
    constexpr int kPerIteration = 2000;
    for (auto _ : state) {
        std::vector<std::thread> pool;
        std::atomic<int> failures{0};
        pool.reserve(threads);
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&] {
                for (int k = 0; k < kPerIteration / threads; ++k) {
                    if (!s->ApplyTransition(MakeTransition(next++))) ++failures;
                }
            });
        }
        for (auto& th : pool)
            th.join();
        if (failures > 0) return state.SkipWithError("a transition failed");
        done += static_cast<long long>(kPerIteration / threads) * threads;
    }
    state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}

// Raw: the same rows (event, instance update, outbox row) by prepared statements, 500
// transitions per transaction.
void RawTransitionsSqlite(benchmark::State& state) {
    const std::string url = FreshUrl(false);
    if (!OpenWithInstances(url, kInstances)) return state.SkipWithError("cannot create the schema");
    SQLite::Database db(url.substr(7), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    SQLite::Statement event(db,
                            "INSERT INTO deployment_events (instance_id, deployment_id, from_status, to_status, at, "
                            "source) VALUES (?, ?, NULL, ?, ?, 'poll')");
    SQLite::Statement update(db,
                             "UPDATE instances SET status = 'DEPLOYING', deployment_id = ?, deployment_status = ?, "
                             "progress = ? WHERE id = ?");
    SQLite::Statement outbox(db,
                             "INSERT INTO outbox (id, channel, dedup_key, payload, status, attempts, next_attempt_at, "
                             "created_at) VALUES (?, 'webhook', ?, ?, 'pending', 0, ?, ?)");
    long long i = 0, done = 0;
    for (auto _ : state) {
        for (int chunk = 0; chunk < 4; ++chunk) {
            SQLite::Transaction tx(db);
            for (int k = 0; k < 500; ++k, ++i) {
                const auto t = MakeTransition(i);
                event.bind(1, t.instance_id);
                event.bind(2, t.deployment_id);
                event.bind(3, t.to_status);
                event.bind(4, static_cast<int64_t>(t.at.time_since_epoch().count()));
                event.exec();
                event.reset();
                update.bind(1, t.deployment_id);
                update.bind(2, t.to_status);
                update.bind(3, t.state.progress);
                update.bind(4, t.instance_id);
                update.exec();
                update.reset();
                const auto& o = t.outbox[0];
                outbox.bind(1, o.id);
                outbox.bind(2, o.dedup_key);
                outbox.bind(3, o.payload);
                outbox.bind(4, static_cast<int64_t>(o.created_at.time_since_epoch().count()));
                outbox.bind(5, static_cast<int64_t>(o.created_at.time_since_epoch().count()));
                outbox.exec();
                outbox.reset();
            }
            tx.commit();
        }
        done += 2000;
    }
    state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}

// Transitions at fleet scale, as the engine writes them: a status change of a random instance
// out of range(0) (an event row and the instance's state, no outbox row) that leaves its
// indexed columns as they were (BUILDING -> DEPLOYING of the deployment it follows, the due
// time parked), written only while the instance follows that deployment (only_if_following),
// range(1) per call:
// 1 = ApplyTransition one after another, more = ApplyTransitions with that many (a poll batch's
// transitions in one call).
// What this process has written so far (Linux's /proc/self/io: bytes handed to write system
// calls and their count, every thread): the SQLite writer's WAL frames and checkpoints. Unlike
// CPU time on a shared machine, these do not vary from run to run, so they show a schema
// change's effect on the pages a transition dirties. Zeros where /proc is missing.
struct WrittenSoFar {
    double bytes = 0;
    double calls = 0;
};

WrittenSoFar ReadWrittenSoFar() {
    WrittenSoFar w;
    std::ifstream io("/proc/self/io");
    std::string key;
    double value = 0;
    while (io >> key >> value) {
        if (key == "wchar:") w.bytes = value;
        if (key == "syscw:") w.calls = value;
    }
    return w;
}

// Probe results of a fleet of running services (the health prober's writes, docs/ENGINE.md,
// "Health"): RecordProbes of `per_call` results at a time, each of a random instance of `fleet`,
// with an unchanged health (the common case); `rotate` 1: each record also deletes the instance's
// results past keep (none here: the time of a look, not of deleting), 0: none does (the prober
// rotates an instance at most once an hour).
void FleetProbeResults(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const int fleet = static_cast<int>(state.range(0));
    const int per_call = static_cast<int>(state.range(1));
    const bool rotate = state.range(2) == 1;
    auto s = OpenWithInstances(FreshUrl(postgres), fleet, false, true, /*running=*/true);
    if (!s) return state.SkipWithError("cannot open the store");
    long long n = 0, done = 0;
    std::vector<store::ProbeRecord> batch;
    for (int k = 0; k < fleet; ++k) {  // each instance HEALTHY already, as a settled fleet's
        store::ProbeRecord r;
        r.check.instance_id = "inst-" + std::to_string(k);
        r.check.at = T(++n);
        r.check.ok = true;
        r.health = "HEALTHY";
        r.deployment_id = "dep-" + r.check.instance_id;
        r.deployment_status = "SUCCESS";
        batch.push_back(std::move(r));
    }
    for (const auto& result : s->RecordProbes(batch)) {
        if (!result) return state.SkipWithError("a probe result was not stored");
    }
    std::uint64_t seed = 42;
    for (auto _ : state) {
        state.PauseTiming();
        batch.clear();
        for (int k = 0; k < per_call; ++k) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;  // a fixed sequence of instances
            store::ProbeRecord r;
            r.check.instance_id = "inst-" + std::to_string((seed >> 33) % static_cast<std::uint64_t>(fleet));
            r.check.at = T(++n);
            r.check.ok = true;
            r.check.http_status = 200;
            r.check.latency_ms = 12;
            r.health = "HEALTHY";
            r.deployment_id = "dep-" + r.check.instance_id;
            r.deployment_status = "SUCCESS";
            if (rotate) r.keep_since = T(0);
            batch.push_back(std::move(r));
        }
        state.ResumeTiming();
        for (const auto& result : s->RecordProbes(batch)) {
            if (!result) return state.SkipWithError("a probe result was not stored");
        }
        done += per_call;
    }
    state.counters["us/result"] =
        benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void FleetTransitions(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const int fleet = static_cast<int>(state.range(0));
    const int per_call = static_cast<int>(state.range(1));
    auto s = OpenWithInstances(FreshUrl(postgres), fleet, false, true);
    if (!s) return state.SkipWithError("cannot open the store");
    std::uint64_t seed = 42;
    long long n = 0, done = 0;
    const auto next = [&] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;  // a fixed sequence of instances
        store::Transition t;
        t.instance_id = "inst-" + std::to_string((seed >> 33) % static_cast<std::uint64_t>(fleet));
        t.deployment_id = "dep-" + t.instance_id;
        t.from_status = "BUILDING";
        t.to_status = "DEPLOYING";
        t.at = T(++n);
        t.state.status = core::InstanceStatus::kDeploying;
        t.state.deployment_status = t.to_status;
        t.state.progress = 60;
        t.state.deployment_updated_at = t.at;
        t.state.next_check_at = T(1'000'000'000'000LL);
        t.only_if_following = true;  // a check's answer, as the engine writes it
        return t;
    };
    std::vector<store::Transition> batch;
    WrittenSoFar written;  // by the timed parts only
    for (auto _ : state) {
        state.PauseTiming();
        batch.clear();
        for (int k = 0; k < per_call * 20; ++k)
            batch.push_back(next());
        const WrittenSoFar before = ReadWrittenSoFar();
        state.ResumeTiming();
        if (per_call == 1) {
            for (const auto& t : batch) {
                if (!s->ApplyTransition(t)) return state.SkipWithError("a transition failed");
            }
        } else {
            for (std::size_t k = 0; k < batch.size(); k += static_cast<std::size_t>(per_call)) {
                const auto results =
                    s->ApplyTransitions(std::span(batch).subspan(k, static_cast<std::size_t>(per_call)));
                for (const auto& r : results) {
                    if (!r) return state.SkipWithError("a transition failed");
                }
            }
        }
        state.PauseTiming();
        const WrittenSoFar after = ReadWrittenSoFar();
        written.bytes += after.bytes - before.bytes;
        written.calls += after.calls - before.calls;
        state.ResumeTiming();
        done += static_cast<long long>(batch.size());
    }
    state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
    state.counters["us/transition"] =
        benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    if (done > 0) {
        state.counters["KiB_written/transition"] = written.bytes / 1024.0 / static_cast<double>(done);
        state.counters["writes/transition"] = written.calls / static_cast<double>(done);
    }
}

// Claiming 1,000 due rows out of 20,000 instances; the claimed rows are released (outside the
// timing) before the next iteration.
void ClaimDue(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const std::string url = FreshUrl(postgres);
    auto s = OpenWithInstances(url, 20000, /*due=*/false);
    if (!s) return state.SkipWithError("cannot open the store");
    // Make 1,000 of them due.
    for (int n = 0; n < 1000; ++n) {
        store::InstanceState st;
        st.next_check_at = T(n);
        if (!s->SaveState("inst-" + std::to_string(n * 20), st)) return state.SkipWithError("SaveState failed");
    }
    long long claimed = 0;
    for (auto _ : state) {
        auto got = s->ClaimDueInstances("bench", T(2'000'000), core::Seconds(30), 1000);
        if (!got || got->size() != 1000) return state.SkipWithError("claim did not return 1,000 rows");
        claimed += static_cast<long long>(got->size());
        state.PauseTiming();
        for (const auto& i : *got) {
            if (!s->ReleaseInstance(i.id, "bench", i.state.next_check_at)) return state.SkipWithError("release failed");
        }
        state.ResumeTiming();
    }
    state.counters["rows"] = static_cast<double>(claimed);
}

// Giving back 1,000 claimed instances with their next check time: one ReleaseInstance (one
// transaction) per instance, or one ReleaseInstances (one transaction) for all. The claim before
// each iteration is outside the timing.
void Release1000(benchmark::State& state, bool postgres, bool batched) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    auto s = OpenWithInstances(FreshUrl(postgres), 1000, /*due=*/true);
    if (!s) return state.SkipWithError("cannot open the store");
    long long released = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto got = s->ClaimDueInstances("bench", T(2'000'000), core::Seconds(30), 1000);
        if (!got || got->size() != 1000) return state.SkipWithError("claim did not return 1,000 rows");
        std::vector<store::InstanceRelease> batch;
        for (const auto& i : *got)
            batch.push_back({i.id, i.state.next_check_at});
        state.ResumeTiming();
        if (batched) {
            auto r = s->ReleaseInstances("bench", batch);
            if (!r || r->released != 1000) return state.SkipWithError("batched release failed");
        } else {
            for (const auto& r : batch) {
                if (!s->ReleaseInstance(r.id, "bench", r.next_check_at)) return state.SkipWithError("release failed");
            }
        }
        released += 1000;
    }
    state.counters["rows"] = static_cast<double>(released);
}

// The fresh read of kept instances before their checks (Monitor::TakeKeptDue: Instances::
// GetInstances of up to 400 ids per round) out of a fleet of 100,000: what each check paid for
// reading its row again before the change feed, and what a row read again still costs
// (docs/PERFORMANCE.md, "Engine"). Ids in a fixed pseudo-random order,
// as due times scatter them.
void GetKeptInstances(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    constexpr int kFleet = 100000;
    constexpr int kPerRound = 400;
    auto s = OpenWithInstances(FreshUrl(postgres), kFleet);
    if (!s) return state.SkipWithError("cannot open the store");
    std::uint64_t lcg = 0x9E3779B97F4A7C15ULL;
    long long read = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<std::string> ids;
        ids.reserve(kPerRound);
        std::vector<bool> taken(kFleet);
        while (static_cast<int>(ids.size()) < kPerRound) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            const int n = static_cast<int>((lcg >> 33) % kFleet);
            if (taken[static_cast<std::size_t>(n)]) continue;
            taken[static_cast<std::size_t>(n)] = true;
            ids.push_back("inst-" + std::to_string(n));
        }
        state.ResumeTiming();
        auto rows = s->GetInstances(ids);
        if (!rows || rows->size() != ids.size()) return state.SkipWithError("GetInstances did not return every row");
        read += static_cast<long long>(rows->size());
    }
    state.counters["instances/s"] = benchmark::Counter(static_cast<double>(read), benchmark::Counter::kIsRate);
    state.counters["us/instance"] =
        benchmark::Counter(static_cast<double>(read), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The change feed a round reads instead (Instances::ChangedInstances, Monitor::FollowChanges), in
// a fleet of 100,000: `changed` rows written since the last read (state.range(0); 0: a quiet
// round). Per read, and per changed row.
void ChangedInstancesOfFleet(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    constexpr int kFleet = 100000;
    const int changed = static_cast<int>(state.range(0));
    auto s = OpenWithInstances(FreshUrl(postgres), kFleet);
    if (!s) return state.SkipWithError("cannot open the store");
    auto start = s->ChangedInstances(std::nullopt);
    if (!start) return state.SkipWithError("no change feed position");
    std::int64_t position = start->next;
    std::uint64_t lcg = 0x9E3779B97F4A7C15ULL;
    int progress = 0;
    long long rows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        progress = progress % 100 + 1;
        for (int k = 0; k < changed; ++k) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            store::InstanceState state_written;
            state_written.progress = progress;
            if (!s->SaveState("inst-" + std::to_string((lcg >> 33) % kFleet), state_written))
                return state.SkipWithError("SaveState failed");
        }
        state.ResumeTiming();
        auto changes = s->ChangedInstances(position);
        if (!changes) return state.SkipWithError("ChangedInstances failed");
        if (static_cast<int>(changes->instances.size()) > changed)
            return state.SkipWithError("more rows than were changed");
        position = changes->next;
        rows += static_cast<long long>(changes->instances.size());
    }
    state.counters["rows/read"] = benchmark::Counter(
        static_cast<double>(rows) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1)));
}

// The kept claims' heartbeat (Schedule::Heartbeat) of a worker holding `held` instances
// (state.range(0)): its worker row renewed (its leases are held while that row lives), workers
// gone let go, the live workers' loads counted, in one transaction; the monitor runs one every
// third of a lease (40 s by default), on its scheduler thread. Per heartbeat, and per lease held
// (until migration 10 it rewrote every lease and every held instance's stored due time).
void HeartbeatOfHeld(benchmark::State& state, bool postgres) {
    if (postgres && g_cluster == nullptr) return state.SkipWithError("no PostgreSQL cluster");
    const int held = static_cast<int>(state.range(0));
    auto s = OpenWithInstances(FreshUrl(postgres), held, true);
    if (!s) return state.SkipWithError("cannot open the store");
    const auto lease = std::chrono::seconds(120);
    for (int taken = 0; taken < held;) {
        auto kept = s->KeepDueInstances("bench", T(1'000'000'000'000LL), lease, 5000);
        if (!kept || kept->empty()) return state.SkipWithError("KeepDueInstances took nothing");
        taken += static_cast<int>(kept->size());
    }
    long long beats = 0;
    for (auto _ : state) {
        ++beats;
        auto load = s->Heartbeat("bench", T(1'000'000'000'000LL) + std::chrono::seconds(beats), lease);
        if (!load || load->workers.empty()) return state.SkipWithError("Heartbeat failed");
    }
    state.counters["us/lease"] = benchmark::Counter(static_cast<double>(beats) * held,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
    test::TempDir dir("railwatch-bench-store-");
    g_dir = &dir;
    std::unique_ptr<test::PostgresCluster> cluster;
    if (auto started = test::PostgresCluster::Start()) {
        cluster = std::move(*started);
        g_cluster = cluster.get();
    } else {
        std::cerr << "PostgreSQL benchmarks skipped: " << started.error().message << "\n";
    }

    benchmark::RegisterBenchmark("sqlite/log_ingest_dedup_rotate", LogIngest, false)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("sqlite/log_raw_prepared_insert", RawLogInsertSqlite)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("sqlite/transitions", Transitions, false)
        ->Arg(1)
        ->Arg(8)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("sqlite/transitions_raw_prepared", RawTransitionsSqlite)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    // SQLite only: PostgreSQL's ApplyTransitions is one ApplyTransition after another.
    benchmark::RegisterBenchmark("sqlite/transitions_of_fleet", FleetTransitions, false)
        ->Args({100000, 1})
        ->Args({100000, 8})
        ->Args({100000, 50})
        ->ArgNames({"fleet", "per_call"})
        ->MinTime(2)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("sqlite/probe_results_of_fleet", FleetProbeResults, false)
        ->ArgsProduct({{10000}, {20}, {1, 0}})
        ->ArgNames({"fleet", "per_call", "rotate"})
        ->MinTime(2)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("sqlite/claim_1000_due", ClaimDue, false)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    for (const bool postgres : {false, true}) {
        const std::string backend = postgres ? "postgres" : "sqlite";
        benchmark::RegisterBenchmark((backend + "/get_400_kept_of_100000").c_str(), GetKeptInstances, postgres)
            ->MinTime(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
        // A fixed count: each iteration writes its changes first (untimed, one transaction each).
        benchmark::RegisterBenchmark((backend + "/changes_of_100000").c_str(), ChangedInstancesOfFleet, postgres)
            ->Arg(0)
            ->Arg(40)
            ->Iterations(300)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
    }
    benchmark::RegisterBenchmark("postgres/log_ingest_dedup_rotate", LogIngest, true)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("postgres/log_ingest_dedup_rotate_writers", LogIngestWriters, true)
        ->Threads(2)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("postgres/log_raw_copy_bare_table", RawLogCopyPostgres)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("postgres/log_raw_unnest_insert", RawLogUnnestInsertPostgres)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("postgres/transitions", Transitions, true)
        ->Arg(1)
        ->Arg(8)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark("postgres/claim_1000_due", ClaimDue, true)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    for (const bool postgres : {false, true}) {
        const std::string backend = postgres ? "postgres" : "sqlite";
        benchmark::RegisterBenchmark((backend + "/release_1000_one_by_one").c_str(), Release1000, postgres, false)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
        benchmark::RegisterBenchmark((backend + "/release_1000_batched").c_str(), Release1000, postgres, true)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
    }

    for (const bool postgres : {false, true}) {
        benchmark::RegisterBenchmark(postgres ? "postgres/heartbeat_of_held" : "sqlite/heartbeat_of_held",
                                     HeartbeatOfHeld, postgres)
            ->Arg(10000)
            ->Arg(100000)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(1)
            ->MeasureProcessCPUTime()
            ->UseRealTime();
    }

    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_cluster = nullptr;
    return 0;
}
