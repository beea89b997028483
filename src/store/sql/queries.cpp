// Queries: the raw facts behind GET /attention, GET /stats and GET /stats/history. The rules
// that decide on them are core's (store/queries.hpp: ListAttention, GetFleetStats,
// GetStatsHistory). EngineMinutes: the engine's per-minute counts behind the history.

#include <algorithm>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<std::vector<AttentionCandidate>> SqlStore::ListAttentionCandidates() {
    std::vector<AttentionCandidate> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kAttentionCandidates, {}).rows) {
            AttentionCandidate c;
            c.instance = RowToInstance(row);
            constexpr std::size_t u = kInstanceColumns;
            if (!row.IsNull(u)) c.user = RowToUser(row, u);
            c.status_entered_at = row.OptTime(u + 5);
            const auto build = row.OptTime(u + 6);
            const auto deploy = row.OptTime(u + 7);
            c.last_log_at =
                build && deploy ? std::optional<Timestamp>(std::max(*build, *deploy)) : (build ? build : deploy);
            c.decided_at = row.OptTime(u + 8);
            out.push_back(std::move(c));
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<core::FleetCounts> SqlStore::CountFleet() {
    core::FleetCounts out;
    auto r = driver_->Read([&](Tx& tx) {
        out = core::FleetCounts{};  // a retried read starts again
        const auto count = [](const Row& row, std::size_t i) { return static_cast<std::size_t>(row.Int(i)); };
        const auto i = tx.Exec(Stmt::kInstanceStats, {}).rows.at(0);
        out.total = count(i, 0);
        out.running = count(i, 1);
        out.failed = count(i, 2);
        out.initializing = count(i, 3);
        out.deploying = count(i, 4);
        out.deleted = count(i, 5);
        out.flagged = count(i, 6);
        const auto e = tx.Exec(Stmt::kEventStats, {}).rows.at(0);
        out.deployments_seen = count(e, 0);
        out.deployments_finished = count(e, 1);
        out.deployments_failed = count(e, 2);
        out.deployments_succeeded = count(e, 3);
        out.succeeded_time_total = core::Millis(e.Int(4));
        for (const auto& row : tx.Exec(Stmt::kSucceededTimes, {}).rows)
            out.succeeded_times.push_back(core::Millis(row.Int(0)));
        for (const auto& row : tx.Exec(Stmt::kHealthCounts, {}).rows)
            out.by_health[row.Text(0)] = count(row, 1);
        for (const auto& row : tx.Exec(Stmt::kErrorTypeCounts, {}).rows)
            out.by_error_type[row.Text(0)] = count(row, 1);
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::vector<core::FinishedDeployment>> SqlStore::ListFinishedDeployments(Timestamp from, Timestamp until) {
    std::vector<core::FinishedDeployment> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kFinishedDeployments, {Ns(from), Ns(until)}).rows) {
            core::FinishedDeployment d;
            d.started_at = row.Time(0);
            d.finished_at = row.Time(1);
            d.failed = row.Int(2) != 0;
            // A class this version does not know reads as UNKNOWN rather than failing the read.
            if (const auto text = row.OptText(3))
                d.error_class = core::ParseErrorClass(*text).value_or(core::ErrorClass::kUnknown);
            out.push_back(d);
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::vector<core::EngineMinute>> SqlStore::ListEngineMinutes(Timestamp from, Timestamp until) {
    std::vector<core::EngineMinute> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kListEngineMinutes, {Ns(from), Ns(until)}).rows) {
            core::EngineMinute m;
            m.minute = row.Time(0);
            m.checks = row.Int(1);
            m.api_requests = row.Int(2);
            m.budget_remaining = row.OptInt(3);
            m.budget_seen_at = row.OptTime(4);
            out.push_back(m);
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<void> SqlStore::RecordEngineMinutes(const std::string& worker_id, const std::vector<core::EngineMinute>& minutes,
                                           Timestamp rotate_before) {
    Checker c;
    c.Id("worker_id", worker_id);
    for (const core::EngineMinute& m : minutes) {
        c.That(m.minute.time_since_epoch() % core::Seconds(60) == Duration::zero(),
               "an engine minute must start on a whole minute (a multiple of 60 s since the epoch)");
        c.That(m.checks >= 0 && m.api_requests >= 0, "engine minute counts must not be negative");
    }
    if (!c.result()) return tl::unexpected(c.result().error());
    return driver_->Write([&](Tx& tx) {
        for (const core::EngineMinute& m : minutes) {
            const Param remaining =
                m.budget_remaining ? Param(static_cast<std::int64_t>(*m.budget_remaining)) : Param(std::monostate{});
            tx.Exec(Stmt::kUpsertEngineMinute,
                    {Ns(m.minute), std::string_view(worker_id), static_cast<std::int64_t>(m.checks),
                     static_cast<std::int64_t>(m.api_requests), remaining, OptNs(m.budget_seen_at)});
        }
        tx.Exec(Stmt::kRotateEngineMinutes, {Ns(rotate_before)});
    });
}

}  // namespace railwatch::store::sql
