// Schedule: claim due instances with a lease, release them one by one or in a batch
// (docs/STORE.md, "Scale-out: claims and leases").

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::ErrorCode;
using util::Result;

Result<std::vector<Instance>> SqlStore::ClaimDueInstances(const std::string& owner, Timestamp now, Duration lease,
                                                          int limit) {
    return ClaimDue(owner, now, lease, limit, /*park=*/false);
}

Result<std::vector<Instance>> SqlStore::KeepDueInstances(const std::string& owner, Timestamp now, Duration lease,
                                                         int limit) {
    return ClaimDue(owner, now, lease, limit, /*park=*/true);
}

Result<std::vector<Instance>> SqlStore::ClaimDue(const std::string& owner, Timestamp now, Duration lease, int limit,
                                                 bool park) {
    Checker c;
    c.Id("owner", owner);
    c.Limit(limit);
    c.That(lease.count() > 0, "lease must be positive");
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<Instance> out;
    const Backend b = backend();
    auto r = driver_->Write([&](Tx& tx) {
        out.clear();
        const std::int64_t until = Ns(now + lease);
        // A keeper is alive while it claims; the kept leases of workers gone are claimable now.
        if (park) tx.Exec(Stmt::kKeepWorker, {std::string_view(owner), until});
        ForgetGoneWorkers(tx, now);
        auto claimed =
            tx.Exec(Stmt::kClaimDue, {std::string_view(owner), until, Ns(now), static_cast<std::int64_t>(limit)}).rows;
        if (claimed.empty()) return;
        if (b == Backend::kPostgres) {  // the claimed instances, ordered (statements.cpp)
            out.reserve(claimed.size());
            for (auto& row : claimed)
                out.push_back(RowToInstance(std::move(row)));
        } else {
            auto rows = tx.Exec(Stmt::kClaimedInstances, {std::string_view(owner), until}).rows;
            out.reserve(claimed.size());
            if (rows.size() == claimed.size()) {
                for (auto& row : rows)
                    out.push_back(RowToInstance(std::move(row)));
            } else {
                // The owner already held leases with the same expiry (an earlier claim at the same
                // `now`): those are not part of this claim.
                std::vector<std::string> ids;
                ids.reserve(claimed.size());
                for (const auto& row : claimed)
                    ids.push_back(row.Text(0));
                std::sort(ids.begin(), ids.end());
                for (auto& row : rows) {
                    if (std::binary_search(ids.begin(), ids.end(), row.Text(0)))
                        out.push_back(RowToInstance(std::move(row)));
                }
            }
        }
        // After the rows were read: they carry the due time to keep, the table "held while the
        // owner lives".
        if (park) {
            HoldLeases(tx, owner);
            for (Instance& row : out)
                row.lease_until = kHeldWhileOwnerLives;
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;  // kClaimedInstances orders them: earliest due first, then by id
}

Result<void> SqlStore::ReleaseInstance(const std::string& id, const std::string& owner,
                                       std::optional<Timestamp> next_check_at) {
    return driver_->Write([&](Tx& tx) {
        // The instance row first, then the lease: the order a claim locks them in (PostgreSQL),
        // so a release and a claim cannot deadlock. A lost lease rolls the update back.
        if (tx.Exec(Stmt::kReleaseInstance, {std::string_view(id), OptNs(next_check_at), std::monostate{}}).affected ==
            0) {
            ThrowNotFound("instance", id);
        }
        if (tx.Exec(Stmt::kReleaseLease, {std::string_view(id), std::string_view(owner)}).affected == 0) {
            throw DbError(ErrorCode::kConflict,
                          fmt::format("worker \"{}\" no longer holds the lease on instance \"{}\" (it expired and "
                                      "another worker may have claimed it): drop this result",
                                      owner, id));
        }
    });
}

Result<int> SqlStore::DropLeases(const std::string& owner, Timestamp now) {
    Checker c;
    c.Id("owner", owner);
    if (!c.result()) return tl::unexpected(c.result().error());
    int dropped = 0;
    auto r = driver_->Write([&](Tx& tx) {
        tx.Exec(Stmt::kUnparkLeased, {std::string_view(owner), Ns(now)});
        dropped = static_cast<int>(tx.Exec(Stmt::kDropLeases, {std::string_view(owner)}).affected);
    });
    if (!r) return tl::unexpected(r.error());
    return dropped;
}

Result<ReleaseReport> SqlStore::ReleaseInstances(const std::string& owner,
                                                 const std::vector<InstanceRelease>& releases) {
    Checker c;
    c.Id("owner", owner);
    c.That(releases.size() <= static_cast<std::size_t>(kMaxLimit),
           fmt::format("{} releases in one call: give at most {}", releases.size(), kMaxLimit));
    std::set<std::string_view> seen;
    for (std::size_t k = 0; k < releases.size() && c.result(); ++k) {
        c.Id(fmt::format("release {} id", k), releases[k].id);
        c.That(seen.insert(releases[k].id).second,
               fmt::format("release {} repeats instance \"{}\": give each instance once", k, releases[k].id));
    }
    if (!c.result()) return tl::unexpected(c.result().error());
    if (releases.empty()) return ReleaseReport{};
    return backend() == Backend::kPostgres ? ReleaseInstancesInSets(owner, releases)
                                           : ReleaseInstancesPerRow(owner, releases);
}

Result<ScheduleLoad> SqlStore::Heartbeat(const std::string& owner, Timestamp now, Duration lease) {
    Checker c;
    c.Id("owner", owner);
    c.That(lease.count() > 0, "lease must be positive");
    if (!c.result()) return tl::unexpected(c.result().error());
    ScheduleLoad out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        // What costs the time of the owner's leases happens only when they change hands: the
        // owner's row is its leases' life (kHeldWhileOwnerLives).
        tx.Exec(Stmt::kUpsertWorker, {std::string_view(owner), Ns(now + lease)});
        HoldLeases(tx, owner);
        ForgetGoneWorkers(tx, now);
        for (const auto& row : tx.Exec(Stmt::kWorkerLoads, {Ns(now)}).rows)
            out.workers.push_back(WorkerLoad{row.Text(0), static_cast<int>(row.Int(1))});
        const auto monitored = tx.Exec(Stmt::kCountMonitored, {}).rows;
        out.monitored = monitored.empty() ? 0 : static_cast<int>(monitored.front().Int(0));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

// Every lease `owner` has that is not held while it lives (just claimed, or expired and taken by
// nobody since) becomes so, its instance parked out of the claims' way.
void SqlStore::HoldLeases(Tx& tx, const std::string& owner) {
    const std::int64_t held = Ns(kHeldWhileOwnerLives);
    tx.Exec(Stmt::kParkHeld, {std::string_view(owner), held});
    tx.Exec(Stmt::kHoldLeases, {std::string_view(owner), held});
}

// Workers not seen since before `now` are gone: their kept instances are due now and their leases
// expired (anyone may claim them, the same worker back included), then their rows are deleted.
// Cheap when nobody is gone: the statements walk the gone workers' leases only.
void SqlStore::ForgetGoneWorkers(Tx& tx, Timestamp now) {
    const std::int64_t held = Ns(kHeldWhileOwnerLives);
    tx.Exec(Stmt::kUnparkGone, {Ns(now), held});
    tx.Exec(Stmt::kExpireGone, {Ns(now), held});
    tx.Exec(Stmt::kForgetWorkers, {Ns(now)});
}

// SQLite: the writer serialises everything, and a prepared statement per row costs
// microseconds in-process; the lease check and the update of each row are two statements.
Result<ReleaseReport> SqlStore::ReleaseInstancesPerRow(const std::string& owner,
                                                       const std::vector<InstanceRelease>& releases) {
    ReleaseReport out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        for (const auto& release : releases) {
            if (tx.Exec(Stmt::kReleaseLease, {std::string_view(release.id), std::string_view(owner)}).affected == 0) {
                out.lost.push_back(release.id);
                continue;
            }
            tx.Exec(Stmt::kReleaseInstance,
                    {std::string_view(release.id), OptNs(release.next_check_at), OptText(release.deployment_id)});
            ++out.released;
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

// PostgreSQL: three statements whatever the batch size (a round trip per row would cost more
// than the work). First the instance rows are locked, in id order (as AppendLogs locks them, so
// the two cannot deadlock; a claim skips locked rows): from then on no claim can take over these
// leases, and the next statement's snapshot sees every lease committed before. Then the leases
// this owner holds are deleted, and only those instances get their next check time.
Result<ReleaseReport> SqlStore::ReleaseInstancesInSets(const std::string& owner,
                                                       const std::vector<InstanceRelease>& releases) {
    PgArray array;
    for (const auto& release : releases)
        array.Add(release.id);
    const std::string ids = array.Take();
    ReleaseReport out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        tx.Exec(Stmt::kLockInstances, {std::string_view(ids)});
        std::set<std::string> held;
        for (const auto& row : tx.Exec(Stmt::kReleaseLeases, {std::string_view(owner), std::string_view(ids)}).rows)
            held.insert(row.Text(0));
        PgArray held_ids, next_checks, deployments;
        for (const auto& release : releases) {
            if (!held.contains(release.id)) {
                out.lost.push_back(release.id);
                continue;
            }
            held_ids.Add(release.id);
            if (release.next_check_at) {
                next_checks.Add(Ns(*release.next_check_at));
            } else {
                next_checks.AddNull();
            }
            if (release.deployment_id) {
                deployments.Add(*release.deployment_id);
            } else {
                deployments.AddNull();
            }
            ++out.released;
        }
        if (out.released == 0) return;
        const std::string id_list = held_ids.Take();
        const std::string time_list = next_checks.Take();
        const std::string deployment_list = deployments.Take();
        tx.Exec(Stmt::kReleaseInstances,
                {std::string_view(id_list), std::string_view(time_list), std::string_view(deployment_list)});
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
