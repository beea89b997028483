#include "store/sql/statements.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cctype>

namespace railwatch::store::sql {
namespace {

// Columns of an instance row, in RowToInstance order: the instance's own columns qualified with
// `p` ("" or "i."), the lease from the joined `instance_leases l` (see kInstanceFrom). Without the
// lease (`with_lease` false) it is the column list of an INSERT into instances.
std::string InstanceColumns(const std::string& p, bool with_lease = true) {
    static constexpr std::array<std::string_view, kInstanceColumns> kColumns = {
        "id",
        "user_id",
        "project_name",
        "project_id",
        "service_id",
        "environment_id",
        "deployment_id",
        "status",
        "deployment_status",
        "progress",
        "health",
        "error_type",
        "error_message",
        "error_stack",
        "retry_count",
        "needs_attention",
        "attention_reason",
        "monitoring",
        "check_interval_s",
        "next_check_at",
        "l.lease_owner",
        "l.lease_until",
        "created_at",
        "deployment_started_at",
        "deployment_updated_at",
        "deployment_completed_at",
        "deleted_at",
    };
    std::string out;
    for (const auto column : kColumns) {
        const bool lease = column.starts_with("l.");
        if (lease && !with_lease) continue;
        if (!out.empty()) out += ", ";
        if (!lease) out += p;
        out += column;
    }
    return out;
}

// Instance rows with their lease, if any (the lease lives in a narrow table of its own: a claim
// then writes a few dense pages instead of rewriting the wide rows it claims).
const std::string kInstanceFrom = " FROM instances LEFT JOIN instance_leases l ON l.instance_id = instances.id";
const std::string kInstanceFromI = " FROM instances i LEFT JOIN instance_leases l ON l.instance_id = i.id";

const std::string kUserColumns = "id, email, name, plan, created_at";
const std::string kEventColumns = "id, instance_id, deployment_id, from_status, to_status, at, source";
const std::string kLogColumns = "instance_id, deployment_id, kind, ts, severity, message";
const std::string kHealthColumns = "id, instance_id, at, ok, http_status, latency_ms, error";
const std::string kNotificationColumns = "id, user_id, type, title, message, data, read_at, created_at";
const std::string kOutboxColumns =
    "id, channel, dedup_key, payload, created_at, status, attempts, next_attempt_at, last_error, lease_owner, "
    "lease_until, sent_at";

// The state columns written by SaveState / ApplyTransition, in StateParams' order (rows.cpp):
// status, deployment_id and next_check_at are indexed and set only in the forms whose `sets`
// hold them (SetsIndexed); the schedule is left out too for the writers that must leave it as
// stored (Transition::keep_schedule).
// `value` names the value of a column from its place in StateParams (2: status): "$2", or in the
// multi-row forms a column of their VALUES list ("v.column2").
std::string StateAssignments(unsigned sets, std::string_view value = "$") {
    static constexpr std::array<std::string_view, 15> kColumns = {"status",
                                                                  "deployment_id",
                                                                  "deployment_status",
                                                                  "progress",
                                                                  "health",
                                                                  "error_type",
                                                                  "error_message",
                                                                  "error_stack",
                                                                  "retry_count",
                                                                  "needs_attention",
                                                                  "attention_reason",
                                                                  "deployment_started_at",
                                                                  "deployment_updated_at",
                                                                  "deployment_completed_at",
                                                                  "next_check_at"};
    std::string out;
    int param = 2;
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
        if (!UpdateStateSets(sets, i)) continue;
        if (!out.empty()) out += ", ";
        out += std::string(kColumns[i]) + " = " + std::string(value) + std::to_string(param++);
    }
    return out;
}

// The filters of ListInstances over the instances table, parameters $first.. $first+4: statuses,
// health values and error classes as comma-separated lists (NULL: no filter; no statuses means
// every status but DELETED), needs_attention (NULL: either), and a LIKE pattern in lower case with
// '!' as escape character (NULL: no text filter). Lists are matched as ",A,B," LIKE "%,value,%",
// the same text on SQLite and PostgreSQL; their values are fixed words without '%', '_' or ','.
std::string InstanceFilter(int first) {
    const auto arg = [first](int k, const char* type) {
        return "CAST($" + std::to_string(first + k) + " AS " + type + ")";
    };
    const auto in_list = [&](int k, const std::string& column) {
        return "(" + arg(k, "TEXT") + " IS NULL OR (',' || " + arg(k, "TEXT") + " || ',') LIKE ('%,' || " + column +
               " || ',%'))";
    };
    const auto like = [&](const std::string& column) {
        return "LOWER(" + column + ") LIKE " + arg(4, "TEXT") + " ESCAPE '!'";
    };
    return "((" + arg(0, "TEXT") + " IS NULL AND status <> 'DELETED') OR (',' || " + arg(0, "TEXT") +
           " || ',') LIKE ('%,' || status || ',%')) AND " + in_list(1, "COALESCE(health, 'UNKNOWN')") + " AND " +
           in_list(2, "error_type") + " AND (" + arg(3, "BIGINT") +
           " IS NULL OR needs_attention = " + arg(3, "BIGINT") + ") AND (" + arg(4, "TEXT") + " IS NULL OR " +
           like("id") + " OR " + like("COALESCE(project_name, '')") + " OR " + like("service_id") + " OR " +
           like("COALESCE(deployment_id, '')") + " OR " + like("environment_id") + ")";
}

struct Entry {
    std::string_view name;
    std::string common;
    std::string postgres;       // empty: same as common
    bool sqlite_rowid = false;  // SqliteReturnsRowid
};

std::array<Entry, static_cast<int>(Stmt::kCount)> BuildEntries() {
    const std::string icols = InstanceColumns("");
    const std::string iprefixed = InstanceColumns("i.");
    const std::string outbox_due =
        "status IN ('pending', 'failed') AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)";
    std::array<Entry, static_cast<int>(Stmt::kCount)> e;
    auto set = [&e](Stmt s, std::string_view name, std::string common, std::string postgres = {}) {
        e[static_cast<int>(s)] = Entry{name, std::move(common), std::move(postgres)};
    };
    // An INSERT of one row that answers its new id: `RETURNING id` on PostgreSQL, the connection's
    // last rowid on SQLite (SqliteReturnsRowid).
    auto set_returning_id = [&e](Stmt s, std::string_view name, const std::string& insert) {
        e[static_cast<int>(s)] = Entry{name, insert, insert + " RETURNING id", true};
    };
    set(Stmt::kInsertUser, "insert_user",
        "INSERT INTO users (" + kUserColumns + ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING");
    set(Stmt::kGetUser, "get_user", "SELECT " + kUserColumns + " FROM users WHERE id = $1");
    set(Stmt::kListUsers, "list_users", "SELECT " + kUserColumns + " FROM users ORDER BY created_at, id");
    set(Stmt::kUserExists, "user_exists", "SELECT 1 FROM users WHERE id = $1");
    set(Stmt::kInsertInstance, "insert_instance",
        "INSERT INTO instances (" + InstanceColumns("", false) +
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "
            "$21, $22, $23, $24, $25) ON CONFLICT DO NOTHING");
    set(Stmt::kGetInstance, "get_instance", "SELECT " + icols + kInstanceFrom + " WHERE id = $1");
    set(Stmt::kInstanceExists, "instance_exists", "SELECT deleted_at FROM instances WHERE id = $1");
    set(Stmt::kIndexedState, "indexed_state",
        "SELECT status, deployment_id, next_check_at, deployment_status, deployment_updated_at FROM instances "
        "WHERE id = $1");
    set(Stmt::kInstancesByDeployment, "instances_by_deployment",
        "SELECT " + icols + kInstanceFrom + " WHERE deployment_id = $1 ORDER BY created_at, id");
    set(Stmt::kListInstances, "list_instances",
        "SELECT " + icols + kInstanceFrom + " WHERE " + InstanceFilter(1) +
            " AND (created_at, id) < (CAST($6 AS BIGINT), CAST($7 AS TEXT)) "
            "ORDER BY created_at DESC, id DESC LIMIT $8");
    set(Stmt::kCountInstances, "count_instances", "SELECT COUNT(*) FROM instances WHERE " + InstanceFilter(1));
    static constexpr std::array<std::string_view, 8> kUpdateStateNames = {
        "update_state_0", "update_state_1", "update_state_2", "update_state_3",
        "update_state_4", "update_state_5", "update_state_6", "update_state_7"};
    for (unsigned sets = 0; sets <= kSetsAll; ++sets) {
        set(UpdateStateStmt(sets), kUpdateStateNames.at(sets),
            "UPDATE instances SET " + StateAssignments(sets) + " WHERE id = $1");
    }
    // $2..$14 as update_state_1 (status and the unindexed columns); $15 the deployment the instance
    // must follow, $16 the due time it must have stored.
    set(Stmt::kUpdateFollowingState, "update_following_state",
        "UPDATE instances SET " + StateAssignments(kSetsStatus) +
            " WHERE id = $1 AND deployment_id = $15 AND next_check_at IS $16",
        "UPDATE instances SET " + StateAssignments(kSetsStatus) +
            " WHERE id = $1 AND deployment_id = $15 AND next_check_at IS NOT DISTINCT FROM CAST($16 AS BIGINT)");
    set(Stmt::kSetMonitoring, "set_monitoring",
        "UPDATE instances SET monitoring = CAST($2 AS BIGINT), "
        "check_interval_s = COALESCE(CAST($3 AS BIGINT), check_interval_s), "
        "next_check_at = CASE WHEN CAST($2 AS BIGINT) = 1 THEN CAST($4 AS BIGINT) ELSE NULL END "
        "WHERE id = $1 AND deleted_at IS NULL");
    set(Stmt::kDeleteInstance, "delete_instance",
        "UPDATE instances SET status = 'DELETED', monitoring = 0, next_check_at = NULL, "
        "deleted_at = COALESCE(deleted_at, $2) WHERE id = $1");
    set(Stmt::kDropLease, "drop_lease", "DELETE FROM instance_leases WHERE instance_id = $1");
    // An event's seven values (AppendEventParams, timeline.cpp), in one row or in the multi-row forms.
    const std::string insert_event =
        "INSERT INTO deployment_events (instance_id, deployment_id, from_status, to_status, at, source, error_type) "
        "VALUES ";
    set_returning_id(Stmt::kInsertEvent, "insert_event",
                     insert_event + "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING");
    // The multi-row forms (SQLite only; the PostgreSQL text is never run): VALUES rows of
    // consecutive parameters, `width` per row.
    const auto values = [](std::size_t rows, int width) {
        std::string out;
        int param = 1;
        for (std::size_t r = 0; r < rows; ++r) {
            out += r == 0 ? "(" : ", (";
            for (int c = 0; c < width; ++c)
                out += (c == 0 ? "$" : ", $") + std::to_string(param++);
            out += ")";
        }
        return out;
    };
    static constexpr std::array<std::string_view, 7> kInsertEventsNames = {
        "insert_events_1",  "insert_events_2",  "insert_events_4", "insert_events_8",
        "insert_events_16", "insert_events_32", "insert_events_64"};
    static constexpr std::array<std::string_view, 7> kUpdateFollowingStatesNames = {
        "update_following_states_1", "update_following_states_2",  "update_following_states_4",
        "update_following_states_8", "update_following_states_16", "update_following_states_32",
        "update_following_states_64"};
    for (std::size_t form = 0, rows = 1; rows <= kMaxRowsPerStatement; ++form, rows *= 2) {
        set(InsertEventsStmt(rows), kInsertEventsNames.at(form),
            insert_event + values(rows, 7) + " ON CONFLICT DO NOTHING RETURNING id, instance_id",
            "SELECT CAST(NULL AS BIGINT), CAST(NULL AS TEXT)");
        // The values of kUpdateFollowingState in its parameters' order: column1 the id,
        // column2..column14 the state, column15 the deployment, column16 the due time.
        set(UpdateFollowingStatesStmt(rows), kUpdateFollowingStatesNames.at(form),
            "UPDATE instances SET " + StateAssignments(kSetsStatus, "v.column") + " FROM (VALUES " + values(rows, 16) +
                ") AS v WHERE instances.id = v.column1 AND instances.deployment_id = v.column15 AND "
                "instances.next_check_at IS v.column16 RETURNING instances.id",
            "SELECT CAST(NULL AS TEXT)");
    }
    set(Stmt::kFindEvent, "find_event",
        "SELECT id FROM deployment_events WHERE instance_id = $1 AND deployment_id = $2 AND to_status = $3 "
        "AND at = $4");
    set(Stmt::kDeleteEvent, "delete_event", "DELETE FROM deployment_events WHERE id = $1");
    set(Stmt::kListEvents, "list_events",
        "SELECT " + kEventColumns + " FROM (SELECT " + kEventColumns +
            " FROM deployment_events WHERE instance_id = $1 ORDER BY at DESC, id DESC LIMIT $2) AS newest "
            "ORDER BY at, id");
    set(Stmt::kDeleteSteps, "delete_steps",
        "DELETE FROM deployment_steps WHERE instance_id = $1 AND deployment_id = $2");
    set(Stmt::kInsertStep, "insert_step",
        "INSERT INTO deployment_steps (instance_id, deployment_id, seq, step, created_at, completed_at, error, "
        "saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    // Every row of a deployment shares its saved_at: the rows saved before the $2nd newest
    // deployment's go.
    set(Stmt::kTrimSteps, "trim_steps",
        "DELETE FROM deployment_steps WHERE instance_id = $1 AND saved_at < (SELECT MIN(k.s) FROM (SELECT "
        "MAX(saved_at) AS s FROM deployment_steps WHERE instance_id = $1 GROUP BY deployment_id ORDER BY s DESC "
        "LIMIT $2) AS k)");
    set(Stmt::kListSteps, "list_steps",
        "SELECT deployment_id, step, created_at, completed_at, error FROM deployment_steps WHERE instance_id = $1 "
        "ORDER BY saved_at, deployment_id, seq");
    set(Stmt::kGetLogSeq, "get_log_seq", "SELECT log_seq, log_first_seq FROM instances WHERE id = $1");
    set(Stmt::kSetLogSeq, "set_log_seq", "UPDATE instances SET log_seq = $2, log_first_seq = $3 WHERE id = $1");
    set(Stmt::kInsertLog, "insert_log",
        "INSERT INTO log_lines (instance_id, seq, deployment_id, kind, ts, severity, message, msg_hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING");
    // Exactly the lines that fall out: [log_first_seq, new first) on the primary key.
    set(Stmt::kRotateLogs, "rotate_logs", "DELETE FROM log_lines WHERE instance_id = $1 AND seq >= $2 AND seq < $3");
    // PostgreSQL only: a whole AppendLogs call in one statement, run after kLockInstances locked
    // the instances (so its snapshot holds every line stored before and no other append can
    // interleave) and returned their log_seq / log_first_seq, which the caller binds per line
    // ($8 base, $9 old first: no per-line lookup of instances here). The caller also dropped the
    // batch's own duplicates; $11 lists the batch's instances. `newest`: each instance's newest
    // stored timestamp (one backward step in log_lines_ts; MATERIALIZED, else PostgreSQL inlines
    // it and runs it again for every line). `fresh`: the lines not stored yet. A line newer than
    // everything its instance holds cannot be a duplicate (the timestamp is part of the key): the
    // lines fetched incrementally need no probe. The others get one probe into log_lines_ts
    // (instance, ts, msg_hash) that confirms deployment, kind and message on the row (a hash
    // collision cannot drop a line). `numbered`: each fresh line's place n among its
    // instance's c fresh lines (its seq is base + n); `bumped`: log_seq advanced by c and
    // log_first_seq to the first seq that stays, returning both firsts; lines that would be
    // rotated at once (more than max_logs new ones) are not inserted; `rot` deletes
    // [old first, new first) (it cannot see the rows `ins` adds, which is why those are filtered
    // instead). Returns (fresh lines, inserted, deleted). Both lookups into log_lines can only be
    // index probes (a scalar subquery per line; per instance a key range behind OFFSET 0, deleted
    // by row address): written as joins, the planner hashed the whole table, a cost that grows
    // with the table, not the batch. The range starts at log_first_seq, not at the instance's
    // first key, so that it never walks the index entries of earlier deletes not vacuumed yet.
    set(Stmt::kAppendLogs, "append_logs",
        "WITH input AS (SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS TEXT[]), "
        "CAST($4 AS BIGINT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]), CAST($7 AS BIGINT[]), CAST($8 AS BIGINT[]), "
        "CAST($9 AS BIGINT[])) WITH ORDINALITY "
        "AS t(instance_id, deployment_id, kind, ts, severity, message, msg_hash, base, old_first, ord)), "
        "newest AS MATERIALIZED (SELECT d.id, (SELECT MAX(l.ts) FROM log_lines l WHERE l.instance_id = d.id) AS ts "
        "FROM unnest(CAST($11 AS TEXT[])) AS d(id)), "
        "fresh AS (SELECT i.* FROM input i JOIN newest h ON h.id = i.instance_id WHERE h.ts IS NULL OR i.ts > h.ts "
        "OR (SELECT 1 FROM log_lines l WHERE l.instance_id = i.instance_id "
        "AND l.ts = i.ts AND l.msg_hash = i.msg_hash AND l.deployment_id = i.deployment_id AND l.kind = i.kind "
        "AND l.message = i.message LIMIT 1) IS NULL), "
        "numbered AS (SELECT f.*, row_number() OVER w AS n, count(*) OVER w AS c FROM fresh f "
        "WINDOW w AS (PARTITION BY f.instance_id ORDER BY f.ord ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED "
        "FOLLOWING)), "
        "counts AS (SELECT instance_id, MIN(base) AS base, MIN(old_first) AS old_first, count(*) AS c FROM fresh "
        "GROUP BY instance_id), "
        "bumped AS (UPDATE instances SET log_seq = k.base + k.c, log_first_seq = GREATEST(k.old_first, "
        "k.base + k.c - $10 + 1) FROM counts k WHERE instances.id = k.instance_id "
        "RETURNING instances.id, k.old_first, instances.log_first_seq AS new_first), "
        "ins AS (INSERT INTO log_lines (instance_id, seq, deployment_id, kind, ts, severity, message, msg_hash) "
        "SELECT instance_id, base + n, deployment_id, kind, ts, severity, message, msg_hash FROM numbered "
        "WHERE n > c - $10 RETURNING 1), "
        "rot AS (DELETE FROM log_lines WHERE ctid = ANY(ARRAY(SELECT x.ctid FROM bumped b CROSS JOIN LATERAL "
        "(SELECT ctid FROM log_lines x WHERE x.instance_id = b.id AND x.seq >= b.old_first AND x.seq < b.new_first "
        "OFFSET 0) x)) RETURNING 1) "
        "SELECT (SELECT COUNT(*) FROM fresh), (SELECT COUNT(*) FROM ins), (SELECT COUNT(*) FROM rot)");
    set(Stmt::kRecentLogs, "recent_logs",
        "SELECT " + kLogColumns + " FROM (SELECT seq, " + kLogColumns +
            " FROM log_lines WHERE instance_id = $1 AND (CAST($2 AS TEXT) IS NULL OR kind = CAST($2 AS TEXT)) "
            "ORDER BY seq DESC LIMIT $3) AS newest ORDER BY seq");
    set(Stmt::kLatestLogTs, "latest_log_ts",
        "SELECT MAX(ts) FROM log_lines WHERE instance_id = $1 AND deployment_id = $2 AND kind = $3");
    set_returning_id(Stmt::kInsertHealth, "insert_health",
                     "INSERT INTO health_checks (instance_id, at, ok, http_status, latency_ms, error) "
                     "VALUES ($1, $2, $3, $4, $5, $6)");
    // Only a changed health is written: a probe that finds what the last one found dirties no
    // page of instances (RecordProbes tells an unchanged row from a missing one). And only while
    // the instance still shows the deployment ($3) and its status ($4) the probe judged: a
    // transition written since keeps the health it set (as Transition::only_if_unchanged).
    set(Stmt::kSetHealth, "set_health",
        "UPDATE instances SET health = $2 WHERE id = $1 AND health IS DISTINCT FROM $2 AND deployment_id = $3 "
        "AND deployment_status = $4");
    set(Stmt::kRotateHealth, "rotate_health", "DELETE FROM health_checks WHERE instance_id = $1 AND at < $2");
    set(Stmt::kRecentHealth, "recent_health",
        "SELECT " + kHealthColumns + " FROM health_checks WHERE instance_id = $1 ORDER BY at DESC, id DESC LIMIT $2");
    // Only columns of health_checks_recent (migration 7): the page of an instance list reads the
    // index alone, no table row per check.
    set(Stmt::kRecentCheckSummaries, "recent_check_summaries",
        "SELECT at, ok, latency_ms FROM health_checks WHERE instance_id = $1 ORDER BY at DESC, id DESC LIMIT $2");
    set(Stmt::kUptime, "uptime",
        "SELECT COUNT(*), COALESCE(SUM(ok), 0), MAX(at), MAX(CASE WHEN ok = 0 THEN at END) "
        "FROM health_checks WHERE instance_id = $1 AND at >= $2");
    set(Stmt::kInsertNotification, "insert_notification",
        "INSERT INTO notifications (" + kNotificationColumns +
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING");
    set(Stmt::kListNotifications, "list_notifications",
        "SELECT " + kNotificationColumns +
            " FROM notifications WHERE (CAST($1 AS TEXT) IS NULL OR user_id = CAST($1 AS TEXT)) "
            "AND (CAST($2 AS BIGINT) = 0 OR read_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT $3");
    set(Stmt::kMarkNotificationRead, "mark_notification_read",
        "UPDATE notifications SET read_at = COALESCE(read_at, $2) WHERE id = $1");
    set(Stmt::kInsertOutbox, "insert_outbox",
        "INSERT INTO outbox (id, channel, dedup_key, payload, status, attempts, next_attempt_at, created_at) "
        "VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6) ON CONFLICT DO NOTHING");
    const std::string claim_outbox_head =
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (SELECT id FROM "
        "outbox WHERE " +
        outbox_due + " ORDER BY next_attempt_at, id LIMIT $4";
    set(Stmt::kClaimOutbox, "claim_outbox", claim_outbox_head + ") RETURNING " + kOutboxColumns,
        claim_outbox_head + " FOR UPDATE SKIP LOCKED) RETURNING " + kOutboxColumns);
    set(Stmt::kMarkOutboxSent, "mark_outbox_sent",
        "UPDATE outbox SET status = 'sent', sent_at = $3, last_error = NULL, lease_owner = NULL, lease_until = NULL "
        "WHERE id = $1 AND lease_owner = $2 AND status IN ('pending', 'failed')");
    set(Stmt::kMarkOutboxFailed, "mark_outbox_failed",
        "UPDATE outbox SET status = CASE WHEN CAST($4 AS BIGINT) IS NULL THEN 'dead' ELSE 'failed' END, "
        "next_attempt_at = COALESCE(CAST($4 AS BIGINT), next_attempt_at), last_error = $3, lease_owner = NULL, "
        "lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND status IN ('pending', 'failed')");
    set(Stmt::kOutboxExists, "outbox_exists", "SELECT status FROM outbox WHERE id = $1");
    set(Stmt::kOutboxRow, "outbox_row", "SELECT " + kOutboxColumns + " FROM outbox WHERE id = $1");
    set(Stmt::kListDeliveries, "list_deliveries",
        "SELECT " + kOutboxColumns +
            " FROM outbox WHERE (CAST($1 AS TEXT) IS NULL OR status = CAST($1 AS TEXT)) "
            "AND (CAST($2 AS BIGINT) IS NULL OR created_at < CAST($2 AS BIGINT) "
            "OR (created_at = CAST($2 AS BIGINT) AND id < CAST($3 AS TEXT))) "
            "ORDER BY created_at DESC, id DESC LIMIT $4");
    // Only a dead row comes back, so that two replays of one row deliver it once.
    set(Stmt::kReplayOutbox, "replay_outbox",
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_owner = NULL, "
        "lease_until = NULL WHERE id = $1 AND status = 'dead'");
    // A live lease delays its row to the lease's end (the row is claimable only then).
    set(Stmt::kNextOutboxDue, "next_outbox_due",
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > $1 AND lease_until > next_attempt_at "
        "THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE status IN ('pending', 'failed')");
    set(Stmt::kDisableEndpoint, "disable_endpoint",
        "INSERT INTO disabled_endpoints (key, channel, reason, disabled_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING");
    set(Stmt::kEnableEndpoint, "enable_endpoint", "DELETE FROM disabled_endpoints WHERE key = $1");
    set(Stmt::kListDisabledEndpoints, "list_disabled_endpoints",
        "SELECT key, channel, reason, disabled_at FROM disabled_endpoints ORDER BY disabled_at, key");
    // A claim inserts narrow lease rows (or takes over expired ones). SQLite returns the ids it got
    // and kClaimedInstances reads those instances. PostgreSQL does it all in one statement: it
    // locks the chosen instance rows (SKIP LOCKED: concurrent claimers take different ones),
    // re-checks a conflicting lease committed meanwhile in ON CONFLICT … WHERE (so an instance goes
    // to one worker per due time), and returns the claimed rows it locked.
    const std::string due_filter =
        "monitoring = 1 AND deleted_at IS NULL AND next_check_at IS NOT NULL AND next_check_at <= $3 AND NOT EXISTS "
        "(SELECT 1 FROM instance_leases l WHERE l.instance_id = i.id AND l.lease_until > $3) "
        "ORDER BY next_check_at, id LIMIT $4";
    const std::string take_leases =
        "INSERT INTO instance_leases (instance_id, lease_owner, lease_until) SELECT id, $1, $2 FROM due WHERE true "
        "ON CONFLICT (instance_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = "
        "excluded.lease_until WHERE instance_leases.lease_until <= $3 RETURNING instance_id, lease_owner, lease_until";
    // PostgreSQL reads the claimed rows through the primary key, not by joining the two CTEs:
    // without statistics (a fresh table) the planner estimates one row per CTE and would pick a
    // nested loop over both, quadratic in the claim size (90 ms for 1,000 rows).
    set(Stmt::kClaimDue, "claim_due",
        "WITH due AS (SELECT id FROM instances i WHERE " + due_filter + ") " + take_leases,
        "WITH due AS (SELECT id FROM instances i WHERE " + due_filter + " FOR UPDATE OF i SKIP LOCKED), l AS (" +
            take_leases + ") SELECT " + icols +
            " FROM l JOIN instances ON instances.id = l.instance_id ORDER BY instances.next_check_at, instances.id");
    set(Stmt::kClaimedInstances, "claimed_instances",
        "SELECT " + icols +
            " FROM instance_leases l JOIN instances ON instances.id = l.instance_id WHERE l.lease_owner = $1 "
            "AND l.lease_until = $2 ORDER BY instances.next_check_at, instances.id");
    set(Stmt::kDropLeases, "drop_leases", "DELETE FROM instance_leases WHERE lease_owner = $1");
    // Kept claims (Schedule::KeepDueInstances, Heartbeat; docs/STORE.md, "Scale-out"). A kept
    // lease's end is kHeldWhileOwnerLives ($2 below): it lives as long as its owner's row in
    // schedule_workers, which the owner's heartbeat renews (one row, whatever it holds), and a
    // claim or heartbeat that finds a worker not seen since expires that worker's kept leases.
    set(Stmt::kUpsertWorker, "upsert_worker",
        "INSERT INTO schedule_workers (owner, seen_until) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET "
        "seen_until = excluded.seen_until");
    // A claim that keeps: its owner lives at least till its claim's lease would have ended.
    set(Stmt::kKeepWorker, "keep_worker",
        "INSERT INTO schedule_workers (owner, seen_until) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET "
        "seen_until = MAX(schedule_workers.seen_until, excluded.seen_until)",
        "INSERT INTO schedule_workers (owner, seen_until) VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET "
        "seen_until = GREATEST(schedule_workers.seen_until, excluded.seen_until)");
    set(Stmt::kForgetWorkers, "forget_workers", "DELETE FROM schedule_workers WHERE seen_until <= $1");
    set(Stmt::kWorkerLoads, "worker_loads",
        "SELECT w.owner, (SELECT COUNT(*) FROM instance_leases l WHERE l.lease_owner = w.owner AND l.lease_until > "
        "$1) FROM schedule_workers w WHERE w.seen_until > $1 ORDER BY w.owner");
    set(Stmt::kCountMonitored, "count_monitored",
        "SELECT COUNT(*) FROM instances WHERE monitoring = 1 AND deleted_at IS NULL");
    // A kept instance's stored next check is "not before its keeper is gone": it leaves the claim
    // query's index walk (next_check_at <= now) until then, where a due time saved now and then
    // would lag and keep every kept row in the walk (docs/STORE.md, "Scale-out"). Every lease of
    // the owner not yet held so (just claimed, or expired and taken by nobody) is parked and
    // held; those already held are not in the index range, so the cost is what changes.
    set(Stmt::kParkHeld, "park_held",
        "UPDATE instances SET next_check_at = $2 WHERE id IN (SELECT instance_id FROM instance_leases WHERE "
        "lease_owner = $1 AND lease_until < $2) AND next_check_at IS NOT NULL AND next_check_at < $2");
    set(Stmt::kHoldLeases, "hold_leases",
        "UPDATE instance_leases SET lease_until = $2 WHERE lease_owner = $1 AND lease_until < $2");
    // The kept leases of workers not seen since before now ($1): due now, and expired (claimable
    // by anyone, their owner included). Then kForgetWorkers.
    const std::string of_gone =
        " lease_until = $2 AND lease_owner IN (SELECT owner FROM schedule_workers WHERE seen_until <= $1)";
    set(Stmt::kUnparkGone, "unpark_gone",
        "UPDATE instances SET next_check_at = $1 WHERE id IN (SELECT instance_id FROM instance_leases WHERE" + of_gone +
            ") AND next_check_at IS NOT NULL AND next_check_at > $1");
    set(Stmt::kExpireGone, "expire_gone", "UPDATE instance_leases SET lease_until = $1 WHERE" + of_gone);
    set(Stmt::kUnparkLeased, "unpark_leased",
        "UPDATE instances SET next_check_at = $2 WHERE id IN (SELECT instance_id FROM instance_leases WHERE "
        "lease_owner = $1) AND next_check_at IS NOT NULL AND next_check_at > $2");
    // PostgreSQL only (arrays), like the batch statements below.
    set(Stmt::kGetInstancesIn, "get_instances_in",
        "SELECT " + icols + kInstanceFrom + " WHERE instances.id = ANY(CAST($1 AS TEXT[]))");
    // The change feed: where it stands now and the oldest position it can still answer from (one
    // read: the log's two ends), and the rows changed from a position on. SQLite (migration 11):
    // one past the log's newest row, and its oldest row (older ones were dropped). PostgreSQL
    // (migration 9): the oldest transaction still running (every earlier one has finished, and
    // its change is visible to this read and every later one), and 0 (its feed lives in the rows
    // and drops nothing).
    // (Each end in its own subquery: SQLite reads one end of the key for a lone MIN or MAX, and
    // scans the table for both in one SELECT.)
    set(Stmt::kChangePosition, "change_position",
        "SELECT 1 + (SELECT MAX(seq) FROM instance_changes), (SELECT MIN(seq) FROM instance_changes)",
        "SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT), CAST(0 AS BIGINT)");
    // Bounded on both sides ($2: the largest BIGINT): without statistics (a fresh or just loaded
    // table) PostgreSQL guesses a third of the rows for `change_seq >= $1` and scans the whole
    // table (29 ms at 100,000 rows), and half a percent for a range, which walks the index
    // (0.07 ms). With statistics both walk the index.
    set(Stmt::kChangedInstances, "changed_instances",
        "SELECT " + icols + kInstanceFrom +
            " WHERE instances.id IN (SELECT instance_id FROM instance_changes WHERE seq >= $1 AND seq < $2) ORDER BY "
            "instances.id",
        "SELECT " + icols + kInstanceFrom +
            " WHERE instances.id IN (SELECT id FROM instances WHERE change_seq >= $1 AND change_seq < $2 UNION "
            "SELECT instance_id FROM instance_leases WHERE change_seq >= $1 AND change_seq < $2) ORDER BY "
            "instances.id");
    // The feed's instances from $1 on with the position of each one's newest change (SQLite; the
    // PostgreSQL text is never run: its feed gives no positions to hold, see TransitionResult).
    set(Stmt::kChangedIds, "changed_ids",
        "SELECT instance_id, MAX(seq) FROM instance_changes WHERE seq >= $1 AND seq < $2 GROUP BY instance_id "
        "ORDER BY instance_id",
        "SELECT id, change_seq FROM instances WHERE change_seq >= $1 AND change_seq < $2");
    // The feed's last position (SQLite: one seek to the log's end; the PostgreSQL text is never run).
    set(Stmt::kFeedLast, "feed_last", "SELECT MAX(seq) FROM instance_changes", "SELECT CAST(NULL AS BIGINT)");
    // The feed's changes after position $1, in order (SQLite; the PostgreSQL text is never run).
    set(Stmt::kFeedSince, "feed_since", "SELECT seq, instance_id FROM instance_changes WHERE seq > $1 ORDER BY seq",
        "SELECT CAST(NULL AS BIGINT), CAST(NULL AS TEXT)");
    // What the feed answers to a position before its horizon: every instance.
    set(Stmt::kAllInstances, "all_instances", "SELECT " + icols + kInstanceFrom + " ORDER BY instances.id");
    set(Stmt::kReleaseLease, "release_lease",
        "DELETE FROM instance_leases WHERE instance_id = $1 AND lease_owner = $2");
    set(Stmt::kReleaseInstance, "release_instance",
        "UPDATE instances SET next_check_at = CASE WHEN monitoring = 1 AND deleted_at IS NULL THEN CAST($2 AS BIGINT) "
        "ELSE NULL END WHERE id = $1 AND (CAST($3 AS TEXT) IS NULL OR deployment_id = CAST($3 AS TEXT))");
    // PostgreSQL only (arrays): the set-based batch statements (logs.cpp, schedule.cpp). Instance
    // rows are locked in id order by every statement that locks several, so two of them cannot
    // deadlock; a claim skips locked rows.
    set(Stmt::kLockInstances, "lock_instances",
        "SELECT id, log_seq, log_first_seq FROM instances WHERE id = ANY(CAST($1 AS TEXT[])) ORDER BY id FOR NO KEY "
        "UPDATE");
    set(Stmt::kReleaseLeases, "release_leases",
        "DELETE FROM instance_leases WHERE lease_owner = $1 AND instance_id = ANY(CAST($2 AS TEXT[])) "
        "RETURNING instance_id");
    set(Stmt::kReleaseInstances, "release_instances",
        "UPDATE instances SET next_check_at = CASE WHEN monitoring = 1 AND deleted_at IS NULL THEN t.next_check_at "
        "ELSE NULL END FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[]), CAST($3 AS TEXT[])) AS t(id, "
        "next_check_at, deployment_id) WHERE instances.id = t.id AND (t.deployment_id IS NULL OR "
        "instances.deployment_id = t.deployment_id)");
    // The facts of the attention rule (core::DecideAttention), not the rule: flagged or
    // unfinished instances, with when their deployment last entered its status (the first row of
    // its current run in it: no row in another status after it) and its newest log
    // line of each kind (one index walk each: log_lines_dedup in SQLite, log_lines_ts in PostgreSQL; the
    // events' unique key).
    set(Stmt::kAttentionCandidates, "attention_candidates",
        "SELECT " + iprefixed +
            ", u.id, u.email, u.name, u.plan, u.created_at, "
            "(SELECT MIN(e.at) FROM deployment_events e WHERE e.instance_id = i.id AND e.deployment_id = "
            "i.deployment_id AND e.to_status = i.deployment_status AND NOT EXISTS (SELECT 1 FROM deployment_events o "
            "WHERE o.instance_id = i.id AND o.deployment_id = i.deployment_id AND o.to_status <> i.deployment_status "
            "AND o.at > e.at)), "
            "(SELECT MAX(g.ts) FROM log_lines g WHERE g.instance_id = i.id AND g.deployment_id = i.deployment_id "
            "AND g.kind = 'build'), "
            "(SELECT MAX(g.ts) FROM log_lines g WHERE g.instance_id = i.id AND g.deployment_id = i.deployment_id "
            "AND g.kind = 'deploy'), "
            "(SELECT MAX(e.at) FROM deployment_events e WHERE e.instance_id = i.id AND e.deployment_id = "
            "i.deployment_id AND e.source IN ('attention', 'reaction'))" +
            kInstanceFromI +
            " LEFT JOIN users u ON u.id = i.user_id WHERE i.deleted_at IS NULL AND "
            "(i.needs_attention = 1 OR i.status IN ('INITIALIZING', 'DEPLOYING')) ORDER BY i.id");
    // Raw counts only; core::ComputeFleetStats derives the rates.
    set(Stmt::kInstanceStats, "instance_stats",
        "SELECT "
        "COALESCE(SUM(CASE WHEN status <> 'DELETED' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status = 'INITIALIZING' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status = 'DEPLOYING' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status = 'DELETED' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN status <> 'DELETED' AND needs_attention = 1 THEN 1 ELSE 0 END), 0) "
        "FROM instances");
    // Per deployment: its first event, its first SUCCESS, whether it finished and whether it
    // failed; summed. Durations in whole milliseconds, so that the sum cannot overflow BIGINT.
    set(Stmt::kEventStats, "event_stats",
        "SELECT COUNT(*), COALESCE(SUM(finished), 0), COALESCE(SUM(failed), 0), "
        "COALESCE(SUM(CASE WHEN first_success IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN first_success IS NOT NULL THEN (first_success - first_at) / 1000000 ELSE 0 END), 0) "
        "FROM (SELECT deployment_id, MIN(at) AS first_at, MIN(CASE WHEN to_status = 'SUCCESS' THEN at END) AS "
        "first_success, MAX(CASE WHEN to_status IN ('SUCCESS', 'FAILED', 'CRASHED') THEN 1 ELSE 0 END) AS finished, "
        "MAX(CASE WHEN to_status IN ('FAILED', 'CRASHED') THEN 1 ELSE 0 END) AS failed "
        "FROM deployment_events GROUP BY deployment_id) AS d");
    // The terms of event_stats' duration sum, one row per succeeded deployment (percentiles).
    set(Stmt::kSucceededTimes, "succeeded_times",
        "SELECT (first_success - first_at) / 1000000 FROM (SELECT MIN(at) AS first_at, "
        "MIN(CASE WHEN to_status = 'SUCCESS' THEN at END) AS first_success FROM deployment_events "
        "GROUP BY deployment_id) AS d WHERE first_success IS NOT NULL");
    set(Stmt::kHealthCounts, "health_counts",
        "SELECT COALESCE(health, 'UNKNOWN'), COUNT(*) FROM instances WHERE status <> 'DELETED' "
        "GROUP BY COALESCE(health, 'UNKNOWN')");
    set(Stmt::kErrorTypeCounts, "error_type_counts",
        "SELECT error_type, COUNT(*) FROM instances WHERE status <> 'DELETED' AND error_type IS NOT NULL "
        "GROUP BY error_type");
    // The deployments whose first SUCCESS / FAILED / CRASHED is in [$1, $2): their first event,
    // that finish, whether they ever failed and the class of their newest classified event. The
    // window is found on deployment_events_at. Each deployment's events: in SQLite through its
    // followers (deployment_followers, migration 13) and the events' unique key (instance_id,
    // deployment_id, ...); in PostgreSQL on deployment_events_deployment.
    const std::string finished_in_window =
        "SELECT w.deployment_id FROM deployment_events w WHERE w.at >= $1 AND w.at < $2 AND w.to_status IN "
        "('SUCCESS', 'FAILED', 'CRASHED')";
    const std::string finished_columns =
        "MIN(at) AS first_at, MIN(CASE WHEN to_status IN ('SUCCESS', 'FAILED', 'CRASHED') THEN at END) AS "
        "finished_at, MAX(CASE WHEN to_status IN ('FAILED', 'CRASHED') THEN 1 ELSE 0 END) AS failed ";
    set(Stmt::kFinishedDeployments, "finished_deployments",
        "SELECT d.first_at, d.finished_at, d.failed, "
        "(SELECT c.error_type FROM deployment_followers cf JOIN deployment_events c ON c.instance_id = "
        "cf.instance_id AND c.deployment_id = cf.deployment_id WHERE cf.deployment_id = d.deployment_id "
        "AND c.error_type IS NOT NULL ORDER BY c.at DESC, c.id DESC LIMIT 1) "
        "FROM (SELECT f.deployment_id, " +
            finished_columns +
            "FROM deployment_followers f JOIN deployment_events e ON e.instance_id = f.instance_id AND "
            "e.deployment_id = f.deployment_id WHERE f.deployment_id IN (" +
            finished_in_window +
            ") GROUP BY f.deployment_id) AS d WHERE d.finished_at >= $1 AND d.finished_at < $2 ORDER BY "
            "d.finished_at",
        "SELECT d.first_at, d.finished_at, d.failed, "
        "(SELECT c.error_type FROM deployment_events c WHERE c.deployment_id = d.deployment_id "
        "AND c.error_type IS NOT NULL ORDER BY c.at DESC, c.id DESC LIMIT 1) "
        "FROM (SELECT deployment_id, " +
            finished_columns + "FROM deployment_events WHERE deployment_id IN (" + finished_in_window +
            ") GROUP BY deployment_id) AS d WHERE d.finished_at >= $1 AND d.finished_at < $2 ORDER BY d.finished_at");
    // Counts add up (several flushes of one minute); the budget seen last wins.
    set(Stmt::kUpsertEngineMinute, "upsert_engine_minute",
        "INSERT INTO engine_minutes (minute, worker_id, checks, api_requests, budget_remaining, budget_seen_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (minute, worker_id) DO UPDATE SET "
        "checks = engine_minutes.checks + excluded.checks, "
        "api_requests = engine_minutes.api_requests + excluded.api_requests, "
        "budget_remaining = CASE WHEN excluded.budget_seen_at IS NOT NULL AND (engine_minutes.budget_seen_at IS NULL "
        "OR excluded.budget_seen_at >= engine_minutes.budget_seen_at) THEN excluded.budget_remaining "
        "ELSE engine_minutes.budget_remaining END, "
        "budget_seen_at = CASE WHEN excluded.budget_seen_at IS NOT NULL AND (engine_minutes.budget_seen_at IS NULL "
        "OR excluded.budget_seen_at >= engine_minutes.budget_seen_at) THEN excluded.budget_seen_at "
        "ELSE engine_minutes.budget_seen_at END");
    set(Stmt::kRotateEngineMinutes, "rotate_engine_minutes", "DELETE FROM engine_minutes WHERE minute < $1");
    set(Stmt::kListEngineMinutes, "list_engine_minutes",
        "SELECT minute, checks, api_requests, budget_remaining, budget_seen_at FROM engine_minutes "
        "WHERE minute >= $1 AND minute < $2 ORDER BY minute, worker_id");
    return e;
}

// `$N` → `?N`: SQLite's numbered parameters.
std::string ToSqlite(const std::string& sql) {
    std::string out = sql;
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
    }
    return out;
}

struct Table {
    std::array<Entry, static_cast<int>(Stmt::kCount)> entries = BuildEntries();
    std::array<std::string, static_cast<int>(Stmt::kCount)> sqlite;
    std::array<std::string, static_cast<int>(Stmt::kCount)> postgres;
    Table() {
        for (std::size_t i = 0; i < entries.size(); ++i) {
            sqlite[i] = ToSqlite(entries[i].common);
            postgres[i] = entries[i].postgres.empty() ? entries[i].common : entries[i].postgres;
        }
    }
};

const Table& GetTable() {
    static const Table table;
    return table;
}

}  // namespace

Stmt UpdateStateStmt(unsigned sets) {
    return static_cast<Stmt>(static_cast<int>(Stmt::kUpdateState0) + static_cast<int>(sets & kSetsAll));
}

std::size_t RowsPerStatement(std::size_t rows) {
    return std::bit_floor(std::clamp<std::size_t>(rows, 1, kMaxRowsPerStatement));
}

namespace {
// The form's place among 1, 2, 4 … kMaxRowsPerStatement rows. Any other count is the caller's
// error (RowsPerStatement gives the sizes): the form would have more rows than values bound.
int RowsForm(std::size_t rows) {
    assert(rows <= kMaxRowsPerStatement && std::has_single_bit(rows));
    return std::countr_zero(rows);
}
}  // namespace

Stmt InsertEventsStmt(std::size_t rows) {
    return static_cast<Stmt>(static_cast<int>(Stmt::kInsertEvents1) + RowsForm(rows));
}

Stmt UpdateFollowingStatesStmt(std::size_t rows) {
    return static_cast<Stmt>(static_cast<int>(Stmt::kUpdateFollowingStates1) + RowsForm(rows));
}

std::string_view Name(Stmt stmt) {
    return GetTable().entries.at(static_cast<std::size_t>(stmt)).name;
}

bool SqliteReturnsRowid(Stmt stmt) {
    return GetTable().entries.at(static_cast<std::size_t>(stmt)).sqlite_rowid;
}

const std::string& Sql(Stmt stmt, Backend backend) {
    const auto& table = GetTable();
    const auto i = static_cast<std::size_t>(stmt);
    return backend == Backend::kSqlite ? table.sqlite.at(i) : table.postgres.at(i);
}

}  // namespace railwatch::store::sql
