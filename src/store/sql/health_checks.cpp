// HealthChecks: probe results and uptime.

#include <functional>
#include <span>
#include <vector>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<std::int64_t> SqlStore::RecordHealthCheck(const HealthCheck& h) {
    Checker c;
    c.Id("instance_id", h.instance_id);
    c.OptText("health check error", h.error);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::int64_t id = 0;
    auto r = driver_->Write([&](Tx& tx) {
        RequireInstance(tx, h.instance_id);
        const auto rows = tx.Exec(Stmt::kInsertHealth, {std::string_view(h.instance_id), Ns(h.at), Bool(h.ok),
                                                        OptInt(h.http_status), OptInt(h.latency_ms), OptText(h.error)})
                              .rows;
        id = rows.at(0).Int(0);
    });
    if (!r) return tl::unexpected(r.error());
    return id;
}

std::vector<Result<std::int64_t>> SqlStore::RecordProbes(std::span<const ProbeRecord> records) {
    std::vector<Result<std::int64_t>> results(records.size(), std::int64_t{0});
    std::vector<std::size_t> valid;  // the records to write, in order
    valid.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        const ProbeRecord& r = records[i];
        Checker c;
        c.Id("instance_id", r.check.instance_id);
        c.Id("deployment_id", r.deployment_id);
        c.That(!r.deployment_status.empty(), "deployment_status must name the status the probe judged");
        c.OptText("health check error", r.check.error);
        c.That(!r.health.empty() && r.health.size() <= 32,
               "health must be a word such as HEALTHY (1 to 32 characters)");
        if (!c.result()) {
            results[i] = tl::unexpected(c.result().error());
        } else {
            valid.push_back(i);
        }
    }
    if (valid.empty()) return results;
    std::vector<std::int64_t> ids(records.size(), 0);
    std::vector<std::function<void(Tx&)>> works;
    works.reserve(valid.size());
    for (const std::size_t i : valid) {
        works.emplace_back([&r = records[i], &id = ids[i]](Tx& tx) {
            const HealthCheck& h = r.check;
            // The check first: its foreign key tells an unknown instance (no statement of its own
            // for that, and the health's update below may change nothing: the same health).
            std::vector<Row> rows;
            try {
                rows = tx.Exec(Stmt::kInsertHealth, {std::string_view(h.instance_id), Ns(h.at), Bool(h.ok),
                                                     OptInt(h.http_status), OptInt(h.latency_ms), OptText(h.error)})
                           .rows;
            } catch (const DbError& e) {
                // The foreign key (kNotFound on both backends), in the words of the other calls.
                if (e.error().code == util::ErrorCode::kNotFound) ThrowNotFound("instance", h.instance_id);
                throw;
            }
            id = rows.at(0).Int(0);
            tx.Exec(Stmt::kSetHealth, {std::string_view(h.instance_id), std::string_view(r.health),
                                       std::string_view(r.deployment_id), std::string_view(r.deployment_status)});
            if (r.keep_since) tx.Exec(Stmt::kRotateHealth, {std::string_view(h.instance_id), Ns(*r.keep_since)});
        });
    }
    const auto done = driver_->WriteEach(works);
    for (std::size_t k = 0; k < valid.size(); ++k) {
        const std::size_t i = valid[k];
        if (done[k]) {
            results[i] = ids[i];
        } else {
            results[i] = tl::unexpected(done[k].error());
        }
    }
    return results;
}

Result<std::vector<HealthCheck>> SqlStore::RecentHealthChecks(const std::string& instance_id, int limit) {
    return ReadPerInstance<HealthCheck>(*driver_, Stmt::kRecentHealth, instance_id, limit, RowToHealth);
}

Result<std::vector<std::vector<CheckSummary>>> SqlStore::RecentCheckSummariesOf(
    std::span<const std::string> instance_ids, int limit) {
    Checker c;
    c.Limit(limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<std::vector<CheckSummary>> out;
    // One index-only statement per id (health_checks_recent), all in one read: a page of 50
    // instances pays for one transaction and one connection hand-over instead of 50, and no
    // table row per check (docs/PERFORMANCE.md, API load).
    auto r = driver_->Read([&](Tx& tx) {
        out.assign(instance_ids.size(), {});
        for (std::size_t n = 0; n < instance_ids.size(); ++n) {
            const auto rows = tx.Exec(Stmt::kRecentCheckSummaries,
                                      {std::string_view(instance_ids[n]), static_cast<std::int64_t>(limit)})
                                  .rows;
            out[n].reserve(rows.size());
            for (const auto& row : rows) {
                CheckSummary s;
                s.at = row.Time(0);
                s.ok = row.Int(1) != 0;
                if (const auto v = row.OptInt(2)) s.latency_ms = static_cast<int>(*v);
                out[n].push_back(s);
            }
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<UptimeSummary> SqlStore::Uptime(const std::string& instance_id, Timestamp since) {
    UptimeSummary out;
    auto r = driver_->Read([&](Tx& tx) {
        const auto rows = tx.Exec(Stmt::kUptime, {std::string_view(instance_id), Ns(since)}).rows;
        const auto& row = rows.at(0);
        out.checks = static_cast<int>(row.Int(0));
        out.ok = static_cast<int>(row.Int(1));
        out.last_checked_at = row.OptTime(2);
        out.last_failure_at = row.OptTime(3);
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
