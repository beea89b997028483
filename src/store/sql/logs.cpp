// Logs: append with dedup and rotation, recent lines, the newest timestamp (docs/STORE.md,
// "Logs: dedup and rotation").

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/text.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<LogAppendResult> SqlStore::AppendLogs(const std::vector<LogLine>& lines, int max_logs) {
    Checker c;
    c.That(max_logs >= 1, fmt::format("max_logs {} is out of range: use 1 or more", max_logs));
    for (std::size_t k = 0; k < lines.size() && c.result(); ++k) {
        const auto& l = lines[k];
        // A batch holds thousands of lines: name the fields (fmt::format) only for a bad one.
        Checker quick;
        quick.Id("", l.instance_id);
        quick.Id("", l.deployment_id);
        quick.Text("", l.severity, kMaxIdBytes);
        quick.Text("", l.message);
        if (quick.result()) continue;
        c.Id(fmt::format("log line {} instance_id", k), l.instance_id);
        c.Id(fmt::format("log line {} deployment_id", k), l.deployment_id);
        c.Text(fmt::format("log line {} severity", k), l.severity, kMaxIdBytes);
        c.Text(fmt::format("log line {} message", k), l.message);
    }
    if (!c.result()) return tl::unexpected(c.result().error());
    if (lines.empty()) return LogAppendResult{};
    return backend() == Backend::kPostgres ? AppendLogsInSets(lines, max_logs) : AppendLogsPerRow(lines, max_logs);
}

// SQLite: one prepared insert per line inside the writer's transaction (in-process, so a
// statement costs microseconds and needs no round trip). The single writer serialises appends,
// so reading log_seq and writing it back cannot race.
Result<LogAppendResult> SqlStore::AppendLogsPerRow(const std::vector<LogLine>& lines, int max_logs) {
    // Lines grouped by instance, keeping their order within each instance.
    std::map<std::string_view, std::vector<const LogLine*>> by_instance;
    for (const auto& l : lines)
        by_instance[l.instance_id].push_back(&l);
    LogAppendResult out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        for (const auto& [instance_id, group] : by_instance) {
            const auto seq_rows = tx.Exec(Stmt::kGetLogSeq, {instance_id}).rows;
            if (seq_rows.empty()) ThrowNotFound("instance", instance_id);
            std::int64_t seq = seq_rows.front().Int(0);
            const std::int64_t first_seq = seq;
            const std::int64_t old_first = seq_rows.front().Int(1);
            for (const LogLine* l : group) {
                const std::array<Param, 8> p = {
                    instance_id,
                    seq + 1,
                    std::string_view(l->deployment_id),
                    ToString(l->kind),
                    Ns(l->timestamp),
                    std::string_view(l->severity),
                    std::string_view(l->message),
                    MessageHash(l->message),
                };
                if (tx.Exec(Stmt::kInsertLog, p).affected > 0) {
                    ++seq;
                    ++out.inserted;
                } else {
                    ++out.duplicates;
                }
            }
            if (seq == first_seq) continue;
            // Sequence numbers are dense per instance, so "keep the newest max_logs" is a
            // range delete on the primary key, [log_first_seq, new first): its cost is the rows
            // deleted, not the table.
            const std::int64_t new_first = std::max(old_first, seq - max_logs + 1);
            tx.Exec(Stmt::kSetLogSeq, {instance_id, seq, new_first});
            if (new_first > old_first) {
                out.rotated +=
                    static_cast<int>(tx.Exec(Stmt::kRotateLogs, {instance_id, old_first, new_first}).affected);
            }
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

namespace {

// A line's dedup key (docs/STORE.md, "Logs: dedup and rotation"), borrowing the line's text.
struct LineKey {
    std::string_view instance_id, deployment_id, message;
    LogKind kind;
    std::int64_t ts;
    std::int64_t msg_hash;
    bool operator==(const LineKey& o) const {
        return ts == o.ts && msg_hash == o.msg_hash && kind == o.kind && instance_id == o.instance_id &&
               deployment_id == o.deployment_id && message == o.message;
    }
};

struct LineKeyHash {
    std::size_t operator()(const LineKey& k) const {
        // msg_hash already mixes the message; ts and the instance separate the rest well enough
        // for a hash table (equality compares every field).
        return static_cast<std::size_t>(k.msg_hash) ^ (static_cast<std::size_t>(k.ts) * 0x9E3779B97F4A7C15ULL) ^
               std::hash<std::string_view>{}(k.instance_id);
    }
};

}  // namespace

// PostgreSQL: two statements per call, whatever its size. kLockInstances locks the instances'
// rows in id order, so appends for the same instance from several connections run one after the
// other, and returns their log_seq and log_first_seq; kAppendLogs, whose snapshot is taken after
// the locks are granted, sees every line committed before: it drops the stored duplicates,
// numbers the new lines densely from log_seq, inserts them and rotates, all from arrays bound as
// one parameter each (statements.cpp). The batch's own duplicates are dropped here first, and
// each line carries its instance's log_seq and log_first_seq, so that the statement needs no sort
// of the batch by its dedup key and no lookup of instances per line.
Result<LogAppendResult> SqlStore::AppendLogsInSets(const std::vector<LogLine>& lines, int max_logs) {
    std::unordered_set<LineKey, LineKeyHash> seen(lines.size() * 2);
    std::map<std::string_view, std::size_t> instances;  // id → its row in kLockInstances' result
    std::vector<const LogLine*> unique;                 // the first copy of each line, in order
    unique.reserve(lines.size());
    PgArray instance_ids, deployment_ids, kinds, timestamps, severities, messages, hashes;
    for (const auto& l : lines) {
        const std::int64_t hash = MessageHash(l.message);
        if (!seen.insert(LineKey{l.instance_id, l.deployment_id, l.message, l.kind, Ns(l.timestamp), hash}).second)
            continue;
        unique.push_back(&l);
        instances.emplace(l.instance_id, 0);
        instance_ids.Add(l.instance_id);
        deployment_ids.Add(l.deployment_id);
        kinds.Add(ToString(l.kind));
        timestamps.Add(Ns(l.timestamp));
        severities.Add(l.severity);
        messages.Add(l.message);
        hashes.Add(hash);
    }
    PgArray distinct_ids;
    std::size_t next_row = 0;
    for (auto& [id, index] : instances) {
        distinct_ids.Add(id);
        index = next_row++;
    }
    const std::array<std::string, 8> arrays = {instance_ids.Take(), deployment_ids.Take(), kinds.Take(),
                                               timestamps.Take(),   severities.Take(),     messages.Take(),
                                               hashes.Take(),       distinct_ids.Take()};
    const std::string_view locked_ids = arrays[7];
    const int batch_duplicates = static_cast<int>(lines.size() - unique.size());
    LogAppendResult out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        const auto locked = tx.Exec(Stmt::kLockInstances, {locked_ids}).rows;
        if (locked.size() != instances.size()) {
            auto it = instances.begin();
            for (const auto& row : locked) {  // both in id order: the first mismatch is missing
                if (row.Text(0) != it->first) break;
                ++it;
            }
            ThrowNotFound("instance", it->first);
        }
        PgArray bases, firsts;
        for (const LogLine* l : unique) {
            const auto& head = locked[instances.at(l->instance_id)];
            bases.Add(head.Int(1));
            firsts.Add(head.Int(2));
        }
        const std::string base_array = bases.Take(), first_array = firsts.Take();
        const std::array<Param, 11> p = {
            arrays[0], arrays[1], arrays[2],  arrays[3],   arrays[4],
            arrays[5], arrays[6], base_array, first_array, static_cast<std::int64_t>(max_logs),
            locked_ids};
        const auto counts = tx.Exec(Stmt::kAppendLogs, p).rows.at(0);
        const auto fresh = static_cast<int>(counts.Int(0));
        const auto stored = static_cast<int>(counts.Int(1));
        out.inserted = fresh;
        out.duplicates = static_cast<int>(unique.size()) - fresh + batch_duplicates;
        // New lines beyond max_logs of one instance are never written: rotated at once.
        out.rotated = static_cast<int>(counts.Int(2)) + (fresh - stored);
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::vector<LogLine>> SqlStore::RecentLogs(const std::string& instance_id, int limit,
                                                  std::optional<LogKind> kind) {
    Checker c;
    c.Limit(limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<LogLine> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        const std::array<Param, 3> p = {std::string_view(instance_id),
                                        kind ? Param(ToString(*kind)) : Param(std::monostate{}),
                                        static_cast<std::int64_t>(limit)};
        for (const auto& row : tx.Exec(Stmt::kRecentLogs, p).rows)
            out.push_back(RowToLogLine(row));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::optional<Timestamp>> SqlStore::LatestLogTimestamp(const std::string& instance_id,
                                                              const std::string& deployment_id, LogKind kind) {
    std::optional<Timestamp> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.reset();
        const auto rows = tx.Exec(Stmt::kLatestLogTs,
                                  {std::string_view(instance_id), std::string_view(deployment_id), ToString(kind)})
                              .rows;
        if (!rows.empty()) out = rows.front().OptTime(0);
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
