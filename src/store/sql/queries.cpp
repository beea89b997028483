// Queries: the raw facts behind GET /attention and GET /stats. The rules that decide on them
// are core's (store/queries.hpp: ListAttention, GetFleetStats).

#include <algorithm>

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
            out.push_back(std::move(c));
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<core::FleetCounts> SqlStore::CountFleet() {
    core::FleetCounts out;
    auto r = driver_->Read([&](Tx& tx) {
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
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
