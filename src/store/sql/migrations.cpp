#include "store/sql/migrations.hpp"

#include <array>

namespace railwatch::store::sql {
namespace {

// Times are BIGINT nanoseconds since the Unix epoch (UTC) in both dialects: Railway's log
// timestamps carry nanoseconds, and one representation keeps the two backends identical.
// Booleans are INTEGER 0/1 for the same reason.

constexpr std::string_view kSqliteV1 = R"sql(
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    plan       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE instances (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT REFERENCES users(id),
    project_name            TEXT,
    project_id              TEXT,
    service_id              TEXT NOT NULL,
    environment_id          TEXT NOT NULL,
    deployment_id           TEXT,
    status                  TEXT NOT NULL,
    deployment_status       TEXT,
    progress                INTEGER NOT NULL DEFAULT 0,
    health                  TEXT,
    error_type              TEXT,
    error_message           TEXT,
    error_stack             TEXT,
    retry_count             INTEGER NOT NULL DEFAULT 0,
    needs_attention         INTEGER NOT NULL DEFAULT 0,
    attention_reason        TEXT,
    monitoring              INTEGER NOT NULL DEFAULT 1,
    check_interval_s        INTEGER NOT NULL DEFAULT 30,
    next_check_at           INTEGER,
    lease_owner             TEXT,
    lease_until             INTEGER,
    log_seq                 INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    deployment_started_at   INTEGER,
    deployment_updated_at   INTEGER,
    deployment_completed_at INTEGER,
    deleted_at              INTEGER
);
CREATE INDEX instances_due ON instances (monitoring, next_check_at);
CREATE INDEX instances_status ON instances (status);
CREATE INDEX instances_created ON instances (created_at, id);
CREATE INDEX instances_deployment ON instances (deployment_id);
CREATE INDEX instances_user ON instances (user_id);
CREATE TABLE deployment_events (
    id            INTEGER PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances(id),
    deployment_id TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    at            INTEGER NOT NULL,
    source        TEXT NOT NULL,
    UNIQUE (instance_id, deployment_id, to_status, at)
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id);
CREATE TABLE log_lines (
    instance_id   TEXT NOT NULL REFERENCES instances(id),
    seq           INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('build', 'deploy')),
    ts            INTEGER NOT NULL,
    severity      TEXT NOT NULL,
    message       TEXT NOT NULL,
    msg_hash      INTEGER NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX log_lines_dedup ON log_lines (instance_id, deployment_id, kind, ts, msg_hash);
CREATE TABLE health_checks (
    id          INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id),
    at          INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    http_status INTEGER,
    latency_ms  INTEGER,
    error       TEXT
);
CREATE INDEX health_checks_instance ON health_checks (instance_id, at);
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    type       TEXT NOT NULL,
    title      TEXT NOT NULL,
    message    TEXT NOT NULL,
    data       TEXT NOT NULL,
    read_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    dedup_key       TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at);
)sql";

// PostgreSQL: the same tables. Ids use the "C" collation so that ordering (cursor pagination)
// is bytewise, exactly as in SQLite, whatever the database's locale.
constexpr std::string_view kPostgresV1 = R"sql(
CREATE TABLE users (
    id         TEXT COLLATE "C" PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    plan       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE instances (
    id                      TEXT COLLATE "C" PRIMARY KEY,
    user_id                 TEXT COLLATE "C" REFERENCES users(id),
    project_name            TEXT,
    project_id              TEXT,
    service_id              TEXT NOT NULL,
    environment_id          TEXT NOT NULL,
    deployment_id           TEXT COLLATE "C",
    status                  TEXT NOT NULL,
    deployment_status       TEXT,
    progress                INTEGER NOT NULL DEFAULT 0,
    health                  TEXT,
    error_type              TEXT,
    error_message           TEXT,
    error_stack             TEXT,
    retry_count             INTEGER NOT NULL DEFAULT 0,
    needs_attention         INTEGER NOT NULL DEFAULT 0,
    attention_reason        TEXT,
    monitoring              INTEGER NOT NULL DEFAULT 1,
    check_interval_s        INTEGER NOT NULL DEFAULT 30,
    next_check_at           BIGINT,
    lease_owner             TEXT,
    lease_until             BIGINT,
    log_seq                 BIGINT NOT NULL DEFAULT 0,
    created_at              BIGINT NOT NULL,
    deployment_started_at   BIGINT,
    deployment_updated_at   BIGINT,
    deployment_completed_at BIGINT,
    deleted_at              BIGINT
);
CREATE INDEX instances_due ON instances (monitoring, next_check_at);
CREATE INDEX instances_status ON instances (status);
CREATE INDEX instances_created ON instances (created_at, id);
CREATE INDEX instances_deployment ON instances (deployment_id);
CREATE INDEX instances_user ON instances (user_id);
CREATE TABLE deployment_events (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    instance_id   TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    deployment_id TEXT COLLATE "C" NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    at            BIGINT NOT NULL,
    source        TEXT NOT NULL,
    UNIQUE (instance_id, deployment_id, to_status, at)
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id);
CREATE TABLE log_lines (
    instance_id   TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    seq           BIGINT NOT NULL,
    deployment_id TEXT COLLATE "C" NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('build', 'deploy')),
    ts            BIGINT NOT NULL,
    severity      TEXT NOT NULL,
    message       TEXT NOT NULL,
    msg_hash      BIGINT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE UNIQUE INDEX log_lines_dedup ON log_lines (instance_id, deployment_id, kind, ts, msg_hash);
CREATE TABLE health_checks (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    at          BIGINT NOT NULL,
    ok          INTEGER NOT NULL,
    http_status INTEGER,
    latency_ms  INTEGER,
    error       TEXT
);
CREATE INDEX health_checks_instance ON health_checks (instance_id, at);
CREATE TABLE notifications (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    type       TEXT NOT NULL,
    title      TEXT NOT NULL,
    message    TEXT NOT NULL,
    data       TEXT NOT NULL,
    read_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE TABLE outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    channel         TEXT NOT NULL,
    dedup_key       TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at);
)sql";

// Version 2, for speed (measurements in docs/performance/store.md):
// - Leases move out of `instances` into a narrow table of their own. Claiming 1,000 due
//   instances used to rewrite 1,000 wide rows spread over (nearly) every page of `instances`
//   (and, in PostgreSQL, add new versions of them to all six of its indexes); now it appends
//   1,000 short rows to a few dense pages. No foreign key to instances: the claim only inserts
//   ids it has just read from instances, instances are never deleted (DeleteInstance marks them
//   and drops their lease), and PostgreSQL's FK trigger cost ~40 % of the claim. SQLite reads
//   the claimed instances back through (lease_owner, lease_until); PostgreSQL returns them from
//   the claim statement itself and needs no such index.
// - log_lines loses its foreign key to instances: checking it cost every inserted line a lookup
//   in instances (~13 % of SQLite's log ingest CPU), while AppendLogs already reads the
//   instance's log_seq in the same transaction and fails with not_found when it is missing.
//   SQLite cannot drop a constraint, so the table is rebuilt (same columns, key and index).
constexpr std::string_view kSqliteV2 = R"sql(
CREATE TABLE instance_leases (
    instance_id TEXT PRIMARY KEY,
    lease_owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX instance_leases_owner ON instance_leases (lease_owner, lease_until);
INSERT INTO instance_leases (instance_id, lease_owner, lease_until)
    SELECT id, lease_owner, lease_until FROM instances WHERE lease_owner IS NOT NULL AND lease_until IS NOT NULL;
ALTER TABLE instances DROP COLUMN lease_owner;
ALTER TABLE instances DROP COLUMN lease_until;
CREATE TABLE log_lines_v2 (
    instance_id   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('build', 'deploy')),
    ts            INTEGER NOT NULL,
    severity      TEXT NOT NULL,
    message       TEXT NOT NULL,
    msg_hash      INTEGER NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
INSERT INTO log_lines_v2 SELECT instance_id, seq, deployment_id, kind, ts, severity, message, msg_hash FROM log_lines;
DROP TABLE log_lines;
ALTER TABLE log_lines_v2 RENAME TO log_lines;
CREATE UNIQUE INDEX log_lines_dedup ON log_lines (instance_id, deployment_id, kind, ts, msg_hash);
)sql";

constexpr std::string_view kPostgresV2 = R"sql(
CREATE TABLE instance_leases (
    instance_id TEXT COLLATE "C" PRIMARY KEY,
    lease_owner TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
INSERT INTO instance_leases (instance_id, lease_owner, lease_until)
    SELECT id, lease_owner, lease_until FROM instances WHERE lease_owner IS NOT NULL AND lease_until IS NOT NULL;
ALTER TABLE instances DROP COLUMN lease_owner, DROP COLUMN lease_until;
ALTER TABLE log_lines DROP CONSTRAINT log_lines_instance_id_fkey;
)sql";

// Version 3, for PostgreSQL's log rotation (measurements in docs/performance/store.md):
// instances.log_first_seq, the lowest seq of the instance's stored lines (every stored line has
// log_first_seq ≤ seq ≤ log_seq). Rotation deletes exactly [log_first_seq, new first) instead
// of "seq ≤ last - max_logs": in PostgreSQL the index entries of deleted lines stay until vacuum,
// and a range starting at the instance's first key walked all of them on every append. Filled
// from the lines stored (one past log_seq when there are none). Same column in SQLite, so that
// both backends keep the same invariant.
constexpr std::string_view kSqliteV3 = R"sql(
ALTER TABLE instances ADD COLUMN log_first_seq INTEGER NOT NULL DEFAULT 1;
UPDATE instances SET log_first_seq =
    COALESCE((SELECT MIN(seq) FROM log_lines WHERE log_lines.instance_id = instances.id), log_seq + 1);
)sql";

constexpr std::string_view kPostgresV3 = R"sql(
ALTER TABLE instances ADD COLUMN log_first_seq BIGINT NOT NULL DEFAULT 1;
UPDATE instances SET log_first_seq =
    COALESCE((SELECT MIN(seq) FROM log_lines WHERE log_lines.instance_id = instances.id), log_seq + 1);
)sql";

// Version 4, for the notifier (docs/NOTIFY.md, figures in docs/performance/notify.md):
// - outbox_open replaces outbox_due. ClaimOutbox asks for two statuses ordered by
//   (next_attempt_at, id); on (status, next_attempt_at) SQLite sorted every due row in a
//   temporary B-tree on each claim (O(backlog)). A partial index ordered like the query lets the
//   unchanged statement walk it and stop at its LIMIT, and it holds only open rows, so sent rows
//   cost it nothing. The WHERE clause repeats the query's status list word for word: SQLite uses
//   a partial index only when it can prove the query's WHERE implies the index's.
// - disabled_endpoints: endpoints a receiver asked to stop using (HTTP 410), kept across restarts.
constexpr std::string_view kSqliteV4 = R"sql(
DROP INDEX outbox_due;
CREATE INDEX outbox_open ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'failed');
CREATE TABLE disabled_endpoints (
    key         TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    disabled_at INTEGER NOT NULL
);
)sql";

constexpr std::string_view kPostgresV4 = R"sql(
DROP INDEX outbox_due;
CREATE INDEX outbox_open ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'failed');
CREATE TABLE disabled_endpoints (
    key         TEXT COLLATE "C" PRIMARY KEY,
    channel     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    disabled_at BIGINT NOT NULL
);
)sql";

// Version 5, for PostgreSQL's log ingest (figures in docs/performance/store.md): the wide unique
// index log_lines_dedup (instance_id, deployment_id, kind, ts, msg_hash) gives way to a narrow,
// non-unique log_lines_ts (instance_id, ts, msg_hash). PostgreSQL's AppendLogs locks the
// instances it appends to first, so no two appends for one instance run at once and the unique
// constraint guarded nothing the lock does not; its per-line duplicate probe uses the narrow
// index and confirms deployment, kind and message on the row, so a hash collision drops no line.
// Within an instance, timestamps grow with the lines, so new entries land at the right end of the
// instance's range, like the primary key's; the newest timestamp of (instance, deployment, kind)
// is a backward walk of the same index. SQLite keeps log_lines_dedup: its single writer inserts
// line by line with ON CONFLICT DO NOTHING, which needs the unique index and costs there no
// round trip (its version 5 changes nothing, so that both lists keep the same versions).
constexpr std::string_view kSqliteV5 = R"sql(
-- SQLite keeps log_lines_dedup: nothing to change.
)sql";

constexpr std::string_view kPostgresV5 = R"sql(
DROP INDEX log_lines_dedup;
CREATE INDEX log_lines_ts ON log_lines (instance_id, ts, msg_hash);
)sql";

// Version 6, for the Stats history (GET /api/v1/stats/history, docs/STORE.md):
// - deployment_events.error_type: the instance's error class after the event, so that a failed
//   deployment keeps its verdict's class after the instance moved on (earlier rows: NULL);
//   deployment_events_at finds the deployments that finished in a window.
// - engine_minutes: what each engine process counted per minute (status checks, Railway
//   requests, the budget left last seen), upserted by the process about once a minute and kept
//   8 days (app::EngineHistory). Summed per bucket at read time; several processes sharing a
//   PostgreSQL store each write their own rows.
constexpr std::string_view kSqliteV6 = R"sql(
ALTER TABLE deployment_events ADD COLUMN error_type TEXT;
CREATE INDEX deployment_events_at ON deployment_events (at);
CREATE TABLE engine_minutes (
    minute           INTEGER NOT NULL,
    worker_id        TEXT NOT NULL,
    checks           INTEGER NOT NULL DEFAULT 0,
    api_requests     INTEGER NOT NULL DEFAULT 0,
    budget_remaining INTEGER,
    budget_seen_at   INTEGER,
    PRIMARY KEY (minute, worker_id)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kPostgresV6 = R"sql(
ALTER TABLE deployment_events ADD COLUMN error_type TEXT;
CREATE INDEX deployment_events_at ON deployment_events (at);
CREATE TABLE engine_minutes (
    minute           BIGINT NOT NULL,
    worker_id        TEXT COLLATE "C" NOT NULL,
    checks           BIGINT NOT NULL DEFAULT 0,
    api_requests     BIGINT NOT NULL DEFAULT 0,
    budget_remaining BIGINT,
    budget_seen_at   BIGINT,
    PRIMARY KEY (minute, worker_id)
);
)sql";

// Version 7, for the instance list (`GET /api/v1/instances`, figures in docs/PERFORMANCE.md): a
// page of 50 instances shows each one's 20 newest checks, 1,000 check rows per page. On
// health_checks_instance (instance_id, at) each of them was an index probe plus a lookup of its
// row in the table; health_checks_recent holds everything the list reads (the order at, id and
// the shown columns ok, latency_ms), so the page reads the index alone. It also covers Uptime
// (instance_id, at, ok), so it replaces the old index rather than adding a second one to every
// insert. PostgreSQL keeps the shown columns out of the key (INCLUDE); SQLite has no INCLUDE, and
// its `id` is the rowid, which an index may name as a column.
constexpr std::string_view kSqliteV7 = R"sql(
CREATE INDEX health_checks_recent ON health_checks (instance_id, at, id, ok, latency_ms);
DROP INDEX health_checks_instance;
)sql";

constexpr std::string_view kPostgresV7 = R"sql(
CREATE INDEX health_checks_recent ON health_checks (instance_id, at, id) INCLUDE (ok, latency_ms);
DROP INDEX health_checks_instance;
)sql";

// Version 8, for the engine's kept claims (docs/ENGINE.md, "Scheduling"): a worker keeps the
// instances it claimed from check to check and renews their leases in bulk, so a check that
// changes nothing writes no row. `schedule_workers` lists the live workers (each renews its row
// with its leases), so that one holding more than its share hands the surplus to a worker that
// has just started and holds none. PostgreSQL's lease table gets the owner index SQLite has had
// since version 2: the renewal and the per-worker counts read by owner.
constexpr std::string_view kSqliteV8 = R"sql(
CREATE TABLE schedule_workers (
    owner      TEXT PRIMARY KEY,
    seen_until INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::string_view kPostgresV8 = R"sql(
CREATE TABLE schedule_workers (
    owner      TEXT COLLATE "C" PRIMARY KEY,
    seen_until BIGINT NOT NULL
);
CREATE INDEX instance_leases_owner ON instance_leases (lease_owner);
)sql";

// Version 9, for the engine's kept checks (docs/ENGINE.md, "Scheduling: kept claims"): a
// worker keeps the rows of the instances it holds in memory from check to check and reads only
// what changed (Instances::ChangedInstances), instead of reading each row again before each check
// (at 100,000 instances that read was most of the scheduler thread's CPU). `change_seq` marks the
// last change of a row in every column but the schedule's (next_check_at, rewritten by claims,
// heartbeats and releases) and the log counters (log_seq, log_first_seq, rewritten by every log
// append), and of a lease when it changes hands. Triggers set it, so that no writer can forget to,
// and only when a value really changes (a probe writing the same health is no change).
// - SQLite: one counter over both tables (the largest change_seq plus one, two index lookups);
//   its single writer makes commit order the counter's order, so "everything from n on" is exact.
// - PostgreSQL: the writing transaction's id (pg_current_xact_id). Transactions commit out of id
//   order, so a reader's next position is the oldest transaction still running at its read
//   (pg_snapshot_xmin of its snapshot): every id below it had finished, and was visible then.
// A test compares the triggers' column lists with the table (sqlite_store_test, postgres_store_test).
constexpr std::string_view kSqliteV9 = R"sql(
ALTER TABLE instances ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instance_leases ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX instances_change_seq ON instances (change_seq);
CREATE INDEX instance_leases_change_seq ON instance_leases (change_seq);
CREATE TRIGGER instances_changed AFTER UPDATE OF
    id, user_id, project_name, project_id, service_id, environment_id, deployment_id, status,
    deployment_status, progress, health, error_type, error_message, error_stack, retry_count,
    needs_attention, attention_reason, monitoring, check_interval_s, created_at,
    deployment_started_at, deployment_updated_at, deployment_completed_at, deleted_at
ON instances WHEN
    NEW.id IS NOT OLD.id OR NEW.user_id IS NOT OLD.user_id OR
    NEW.project_name IS NOT OLD.project_name OR NEW.project_id IS NOT OLD.project_id OR
    NEW.service_id IS NOT OLD.service_id OR NEW.environment_id IS NOT OLD.environment_id OR
    NEW.deployment_id IS NOT OLD.deployment_id OR NEW.status IS NOT OLD.status OR
    NEW.deployment_status IS NOT OLD.deployment_status OR NEW.progress IS NOT OLD.progress OR
    NEW.health IS NOT OLD.health OR NEW.error_type IS NOT OLD.error_type OR
    NEW.error_message IS NOT OLD.error_message OR NEW.error_stack IS NOT OLD.error_stack OR
    NEW.retry_count IS NOT OLD.retry_count OR NEW.needs_attention IS NOT OLD.needs_attention OR
    NEW.attention_reason IS NOT OLD.attention_reason OR NEW.monitoring IS NOT OLD.monitoring OR
    NEW.check_interval_s IS NOT OLD.check_interval_s OR NEW.created_at IS NOT OLD.created_at OR
    NEW.deployment_started_at IS NOT OLD.deployment_started_at OR
    NEW.deployment_updated_at IS NOT OLD.deployment_updated_at OR
    NEW.deployment_completed_at IS NOT OLD.deployment_completed_at OR
    NEW.deleted_at IS NOT OLD.deleted_at
BEGIN
    UPDATE instances SET change_seq = 1 + (SELECT MAX(s) FROM (SELECT MAX(change_seq) AS s FROM instances
        UNION ALL SELECT MAX(change_seq) FROM instance_leases)) WHERE id = NEW.id;
END;
CREATE TRIGGER instance_leases_taken AFTER INSERT ON instance_leases
BEGIN
    UPDATE instance_leases SET change_seq = 1 + (SELECT MAX(s) FROM (SELECT MAX(change_seq) AS s FROM instances
        UNION ALL SELECT MAX(change_seq) FROM instance_leases)) WHERE instance_id = NEW.instance_id;
END;
CREATE TRIGGER instance_leases_moved AFTER UPDATE OF lease_owner ON instance_leases
WHEN NEW.lease_owner IS NOT OLD.lease_owner
BEGIN
    UPDATE instance_leases SET change_seq = 1 + (SELECT MAX(s) FROM (SELECT MAX(change_seq) AS s FROM instances
        UNION ALL SELECT MAX(change_seq) FROM instance_leases)) WHERE instance_id = NEW.instance_id;
END;
)sql";

constexpr std::string_view kPostgresV9 = R"sql(
ALTER TABLE instances ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instance_leases ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX instances_change_seq ON instances (change_seq);
CREATE INDEX instance_leases_change_seq ON instance_leases (change_seq);
CREATE FUNCTION railwatch_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;
CREATE TRIGGER instances_changed BEFORE UPDATE OF
    id, user_id, project_name, project_id, service_id, environment_id, deployment_id, status,
    deployment_status, progress, health, error_type, error_message, error_stack, retry_count,
    needs_attention, attention_reason, monitoring, check_interval_s, created_at,
    deployment_started_at, deployment_updated_at, deployment_completed_at, deleted_at
ON instances FOR EACH ROW WHEN (ROW(
        OLD.id, OLD.user_id, OLD.project_name, OLD.project_id, OLD.service_id, OLD.environment_id,
        OLD.deployment_id, OLD.status, OLD.deployment_status, OLD.progress, OLD.health,
        OLD.error_type, OLD.error_message, OLD.error_stack, OLD.retry_count, OLD.needs_attention,
        OLD.attention_reason, OLD.monitoring, OLD.check_interval_s, OLD.created_at,
        OLD.deployment_started_at, OLD.deployment_updated_at, OLD.deployment_completed_at,
        OLD.deleted_at)
    IS DISTINCT FROM ROW(
        NEW.id, NEW.user_id, NEW.project_name, NEW.project_id, NEW.service_id, NEW.environment_id,
        NEW.deployment_id, NEW.status, NEW.deployment_status, NEW.progress, NEW.health,
        NEW.error_type, NEW.error_message, NEW.error_stack, NEW.retry_count, NEW.needs_attention,
        NEW.attention_reason, NEW.monitoring, NEW.check_interval_s, NEW.created_at,
        NEW.deployment_started_at, NEW.deployment_updated_at, NEW.deployment_completed_at,
        NEW.deleted_at))
EXECUTE FUNCTION railwatch_mark_change();
CREATE TRIGGER instance_leases_taken BEFORE INSERT ON instance_leases FOR EACH ROW
EXECUTE FUNCTION railwatch_mark_change();
CREATE TRIGGER instance_leases_moved BEFORE UPDATE OF lease_owner ON instance_leases FOR EACH ROW
WHEN (OLD.lease_owner IS DISTINCT FROM NEW.lease_owner) EXECUTE FUNCTION railwatch_mark_change();
)sql";

// Version 10, for the kept claims' heartbeat (docs/STORE.md, "Scale-out"): a kept lease lives as
// long as its owner's worker row, so a heartbeat writes one row instead of every lease, and the
// statements that change leases hands look up one owner's leases by their end (those not held
// yet, those of a worker gone). SQLite has had that index since version 2.
constexpr std::string_view kSqliteV10 = R"sql(
-- SQLite's instance_leases_owner is (lease_owner, lease_until) already: nothing to change.
)sql";

constexpr std::string_view kPostgresV10 = R"sql(
DROP INDEX instance_leases_owner;
CREATE INDEX instance_leases_owner ON instance_leases (lease_owner, lease_until);
)sql";

// Version 11, for the writer's pages (docs/PERFORMANCE.md, "The change feed as a log"): in SQLite
// the change feed becomes an append-only log, `instance_changes` (seq, instance_id), one row per
// change, appended by the same triggers. Marking a row's change_seq moved its entry in the
// change_seq index from a random place to the end, so every change dirtied one more page at a
// random place (and the trigger rewrote the row a second time); an append dirties the log's last
// page, which the next changes share. The log keeps its newest 100,000 rows (each append drops
// those further back, at its other end); a reader whose position lies before the oldest row kept
// gets every instance (ChangedInstances may report rows that did not change, never miss one).
// Its first row carries the old feed's position on (no instance has the empty id), so positions
// keep growing across this migration. PostgreSQL keeps its feed (version 9) unchanged.
constexpr std::string_view kSqliteV11 = R"sql(
DROP TRIGGER instances_changed;
DROP TRIGGER instance_leases_taken;
DROP TRIGGER instance_leases_moved;
CREATE TABLE instance_changes (
    seq         INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL
);
INSERT INTO instance_changes (seq, instance_id)
    SELECT MAX(s), '' FROM (SELECT MAX(change_seq) AS s FROM instances UNION ALL
                            SELECT MAX(change_seq) FROM instance_leases);
DROP INDEX instances_change_seq;
DROP INDEX instance_leases_change_seq;
ALTER TABLE instances DROP COLUMN change_seq;
ALTER TABLE instance_leases DROP COLUMN change_seq;
CREATE TRIGGER instances_changed AFTER UPDATE OF
    id, user_id, project_name, project_id, service_id, environment_id, deployment_id, status,
    deployment_status, progress, health, error_type, error_message, error_stack, retry_count,
    needs_attention, attention_reason, monitoring, check_interval_s, created_at,
    deployment_started_at, deployment_updated_at, deployment_completed_at, deleted_at
ON instances WHEN
    NEW.id IS NOT OLD.id OR NEW.user_id IS NOT OLD.user_id OR
    NEW.project_name IS NOT OLD.project_name OR NEW.project_id IS NOT OLD.project_id OR
    NEW.service_id IS NOT OLD.service_id OR NEW.environment_id IS NOT OLD.environment_id OR
    NEW.deployment_id IS NOT OLD.deployment_id OR NEW.status IS NOT OLD.status OR
    NEW.deployment_status IS NOT OLD.deployment_status OR NEW.progress IS NOT OLD.progress OR
    NEW.health IS NOT OLD.health OR NEW.error_type IS NOT OLD.error_type OR
    NEW.error_message IS NOT OLD.error_message OR NEW.error_stack IS NOT OLD.error_stack OR
    NEW.retry_count IS NOT OLD.retry_count OR NEW.needs_attention IS NOT OLD.needs_attention OR
    NEW.attention_reason IS NOT OLD.attention_reason OR NEW.monitoring IS NOT OLD.monitoring OR
    NEW.check_interval_s IS NOT OLD.check_interval_s OR NEW.created_at IS NOT OLD.created_at OR
    NEW.deployment_started_at IS NOT OLD.deployment_started_at OR
    NEW.deployment_updated_at IS NOT OLD.deployment_updated_at OR
    NEW.deployment_completed_at IS NOT OLD.deployment_completed_at OR
    NEW.deleted_at IS NOT OLD.deleted_at
BEGIN
    INSERT INTO instance_changes (instance_id) VALUES (NEW.id);
    DELETE FROM instance_changes WHERE seq <= (SELECT MAX(seq) FROM instance_changes) - 100000;
END;
CREATE TRIGGER instance_leases_taken AFTER INSERT ON instance_leases
BEGIN
    INSERT INTO instance_changes (instance_id) VALUES (NEW.instance_id);
    DELETE FROM instance_changes WHERE seq <= (SELECT MAX(seq) FROM instance_changes) - 100000;
END;
CREATE TRIGGER instance_leases_moved AFTER UPDATE OF lease_owner ON instance_leases
WHEN NEW.lease_owner IS NOT OLD.lease_owner
BEGIN
    INSERT INTO instance_changes (instance_id) VALUES (NEW.instance_id);
    DELETE FROM instance_changes WHERE seq <= (SELECT MAX(seq) FROM instance_changes) - 100000;
END;
)sql";

constexpr std::string_view kPostgresV11 = R"sql(
-- PostgreSQL keeps its change feed of version 9: nothing to change.
)sql";

// Version 12, for the writer's pages (docs/PERFORMANCE.md, "An index no query used"): drops
// instances_status. No statement finds instances by status alone: the list filter matches status
// in a LIKE list, the attention candidates' condition ORs it with needs_attention, and the counts
// read other columns of every row, so SQLite and PostgreSQL scan instances for all of them. Yet
// every status change moved the row's entry in that index from one place to another (on SQLite
// about one more page written per transition, ~0.8x the pages of a poll batch's transitions).
constexpr std::string_view kSqliteV12 = R"sql(
DROP INDEX instances_status;
)sql";

constexpr std::string_view kPostgresV12 = R"sql(
DROP INDEX instances_status;
)sql";

// Version 13, for the writer's pages (docs/PERFORMANCE.md, "Deployments found through their
// followers"): in SQLite, deployment_events_deployment gives way to `deployment_followers`, one row
// per (deployment, instance that followed it), written by triggers when an instance is created with
// a deployment or moves to another one. The index took one entry per event at a random place (a
// deployment id), so every transition dirtied one more page there (at 100,000 instances serve's
// writer wrote 20 KiB per transition with it, 14.5 without); a row here is written once per
// deployment an instance follows. A deployment's events are still found exactly: every event of an
// instance is about the deployment the transition leaves it following, so each event's (instance,
// deployment) is a follower row, and the events' unique key (instance_id, deployment_id, ...) finds
// them from there. The rows are filled from the events and instances stored. PostgreSQL keeps its
// index (not measured there).
constexpr std::string_view kSqliteV13 = R"sql(
CREATE TABLE deployment_followers (
    deployment_id TEXT NOT NULL,
    instance_id   TEXT NOT NULL,
    PRIMARY KEY (deployment_id, instance_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO deployment_followers (deployment_id, instance_id)
    SELECT deployment_id, instance_id FROM deployment_events;
INSERT OR IGNORE INTO deployment_followers (deployment_id, instance_id)
    SELECT deployment_id, id FROM instances WHERE deployment_id IS NOT NULL;
CREATE TRIGGER instances_follow AFTER INSERT ON instances WHEN NEW.deployment_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO deployment_followers (deployment_id, instance_id) VALUES (NEW.deployment_id, NEW.id);
END;
CREATE TRIGGER instances_follow_another AFTER UPDATE OF deployment_id ON instances
WHEN NEW.deployment_id IS NOT NULL AND NEW.deployment_id IS NOT OLD.deployment_id
BEGIN
    INSERT OR IGNORE INTO deployment_followers (deployment_id, instance_id) VALUES (NEW.deployment_id, NEW.id);
END;
DROP INDEX deployment_events_deployment;
)sql";

constexpr std::string_view kPostgresV13 = R"sql(
-- PostgreSQL keeps deployment_events_deployment: nothing to change.
)sql";

// Version 14, for the heartbeat's count of monitored instances (kCountMonitored, every lease / 3 in
// the writer): through instances_due it visited every monitored row in the table for deleted_at,
// in due-time order (175 ms of CPU at 100,000 instances on a copy of the engine bench's store);
// this partial index answers it alone (8.4 ms; docs/PERFORMANCE.md, "The heartbeat's count"). It
// changes only when monitoring or deleted_at do, never in a transition.
constexpr std::string_view kSqliteV14 = R"sql(
CREATE INDEX instances_monitored ON instances (monitoring) WHERE deleted_at IS NULL;
)sql";

constexpr std::string_view kPostgresV14 = R"sql(
CREATE INDEX instances_monitored ON instances (monitoring) WHERE deleted_at IS NULL;
)sql";

// Version 15: an instance without an interval of its own stores 0 (Instance::check_interval_s
// none). Before, it stored the config's `monitor.intervals.default` and the engine read only a
// different value as the instance's own: one given 30 s on purpose got the per-status intervals,
// and changing the default in the config turned every instance added before into one with a fixed
// interval. The rows holding 30, the built-in default, are taken as none: what the engine did
// with them under that default (an instance added under another default keeps the value it was
// given as its own).
constexpr std::string_view kSqliteV15 = R"sql(
UPDATE instances SET check_interval_s = 0 WHERE check_interval_s = 30;
)sql";

constexpr std::string_view kPostgresV15 = kSqliteV15;

// Version 16: Railway's steps of an instance's recent deployments (Timeline::SaveSteps), so that a
// finished deployment's step list still shows them and the typical time of each step is known
// (the engine kept them in memory only while it followed the deployment, in one process). No
// foreign key, as log_lines: rows are only written for an instance just read in the same
// transaction, and instances are never deleted.
constexpr std::string_view kSqliteV16 = R"sql(
CREATE TABLE deployment_steps (
    instance_id   TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    step          TEXT NOT NULL,
    created_at    INTEGER,
    completed_at  INTEGER,
    error         TEXT NOT NULL,
    saved_at      INTEGER NOT NULL,
    PRIMARY KEY (instance_id, deployment_id, seq)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kPostgresV16 = R"sql(
CREATE TABLE deployment_steps (
    instance_id   TEXT COLLATE "C" NOT NULL,
    deployment_id TEXT COLLATE "C" NOT NULL,
    seq           BIGINT NOT NULL,
    step          TEXT NOT NULL,
    created_at    BIGINT,
    completed_at  BIGINT,
    error         TEXT NOT NULL,
    saved_at      BIGINT NOT NULL,
    PRIMARY KEY (instance_id, deployment_id, seq)
);
)sql";

constexpr std::array<Migration, 16> kSqlite = {{{1, "initial schema", kSqliteV1},
                                                {2, "lease table, log_lines without foreign key", kSqliteV2},
                                                {3, "log rotation lower bound", kSqliteV3},
                                                {4, "open outbox index, disabled endpoints", kSqliteV4},
                                                {5, "narrow log dedup index (PostgreSQL)", kSqliteV5},
                                                {6, "stats history: event error class, engine minutes", kSqliteV6},
                                                {7, "covering index for recent health checks", kSqliteV7},
                                                {8, "schedule workers", kSqliteV8},
                                                {9, "change feed of instance rows", kSqliteV9},
                                                {10, "kept leases held while their owner lives", kSqliteV10},
                                                {11, "change feed as a log (SQLite)", kSqliteV11},
                                                {12, "no index on instance status", kSqliteV12},
                                                {13, "deployments found through their followers (SQLite)", kSqliteV13},
                                                {14, "partial index for the count of monitored instances", kSqliteV14},
                                                {15, "no interval of its own stored as 0", kSqliteV15},
                                                {16, "Railway's steps of recent deployments", kSqliteV16}}};
constexpr std::array<Migration, 16> kPostgres = {
    {{1, "initial schema", kPostgresV1},
     {2, "lease table, log_lines without foreign key", kPostgresV2},
     {3, "log rotation lower bound", kPostgresV3},
     {4, "open outbox index, disabled endpoints", kPostgresV4},
     {5, "narrow log dedup index (PostgreSQL)", kPostgresV5},
     {6, "stats history: event error class, engine minutes", kPostgresV6},
     {7, "covering index for recent health checks", kPostgresV7},
     {8, "schedule workers", kPostgresV8},
     {9, "change feed of instance rows", kPostgresV9},
     {10, "kept leases held while their owner lives", kPostgresV10},
     {11, "change feed as a log (SQLite)", kPostgresV11},
     {12, "no index on instance status", kPostgresV12},
     {13, "deployments found through their followers (SQLite)", kPostgresV13},
     {14, "partial index for the count of monitored instances", kPostgresV14},
     {15, "no interval of its own stored as 0", kPostgresV15},
     {16, "Railway's steps of recent deployments", kPostgresV16}}};

}  // namespace

std::span<const Migration> Migrations(Backend backend) {
    if (backend == Backend::kSqlite) return kSqlite;
    return kPostgres;
}

}  // namespace railwatch::store::sql
