// Outbox: enqueue, claim with a lease, mark sent / failed, list deliveries.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <span>
#include <tuple>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/text.hpp"

namespace railwatch::store::sql {
namespace {

using util::ErrorCode;
using util::Result;

// The row exists but `owner` does not hold it (or it is gone): say which.
[[noreturn]] void OutboxLeaseLost(Tx& tx, const std::string& id, const std::string& owner) {
    const auto rows = tx.Exec(Stmt::kOutboxExists, {std::string_view(id)}).rows;
    if (rows.empty()) ThrowNotFound("outbox row", id);
    throw DbError(ErrorCode::kConflict,
                  fmt::format("worker \"{}\" does not hold outbox row \"{}\" (status {}; its lease expired and "
                              "another worker may have it): do not report this attempt",
                              owner, id, rows.front().Text(0)));
}

}  // namespace

Result<int> SqlStore::EnqueueOutbox(const std::vector<OutboxMessage>& messages) {
    Checker c;
    for (const auto& m : messages)
        CheckOutbox(c, m);
    if (!c.result()) return tl::unexpected(c.result().error());
    int inserted = 0;
    auto r = driver_->Write([&](Tx& tx) {
        inserted = 0;
        for (const auto& m : messages)
            inserted += InsertOutbox(tx, m) ? 1 : 0;
    });
    if (!r) return tl::unexpected(r.error());
    return inserted;
}

Result<std::vector<OutboxRow>> SqlStore::ClaimOutbox(const std::string& owner, Timestamp now, Duration lease,
                                                     int limit) {
    Checker c;
    c.Id("owner", owner);
    c.Limit(limit);
    c.That(lease.count() > 0, "lease must be positive");
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<OutboxRow> out;
    auto r = driver_->Write([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kClaimOutbox, {std::string_view(owner), Ns(now + lease), Ns(now),
                                                            static_cast<std::int64_t>(limit)})
                                   .rows)
            out.push_back(RowToOutbox(row));
    });
    if (!r) return tl::unexpected(r.error());
    std::sort(out.begin(), out.end(), [](const OutboxRow& a, const OutboxRow& b) {
        return std::tie(a.next_attempt_at, a.message.id) < std::tie(b.next_attempt_at, b.message.id);
    });
    return out;
}

Result<void> SqlStore::MarkOutboxSent(const std::string& id, const std::string& owner, Timestamp at) {
    return driver_->Write([&](Tx& tx) {
        if (tx.Exec(Stmt::kMarkOutboxSent, {std::string_view(id), std::string_view(owner), Ns(at)}).affected == 0) {
            OutboxLeaseLost(tx, id, owner);
        }
    });
}

Result<void> SqlStore::MarkOutboxFailed(const std::string& id, const std::string& owner, const std::string& error,
                                        std::optional<Timestamp> retry_at) {
    Checker c;
    c.Text("delivery error", error);
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        if (tx.Exec(Stmt::kMarkOutboxFailed,
                    {std::string_view(id), std::string_view(owner), std::string_view(error), OptNs(retry_at)})
                .affected == 0) {
            OutboxLeaseLost(tx, id, owner);
        }
    });
}

Result<std::vector<Result<void>>> SqlStore::CompleteOutbox(const std::vector<OutboxCompletion>& completions) {
    Checker c;
    for (const auto& done : completions) {
        c.That(done.status != OutboxStatus::kPending,
               fmt::format("completion of outbox row \"{}\" must be sent, failed or dead, not pending", done.id));
        c.That(done.status != OutboxStatus::kFailed || done.retry_at.has_value(),
               fmt::format("failed completion of outbox row \"{}\" needs retry_at (use dead for no retry)", done.id));
        if (done.status != OutboxStatus::kSent) c.Text("delivery error", done.error);
    }
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<Result<void>> out;
    auto r = driver_->Write([&](Tx& tx) {
        out.clear();
        for (const auto& done : completions) {
            const auto id = std::string_view(done.id);
            const auto owner = std::string_view(done.owner);
            const auto affected =
                done.status == OutboxStatus::kSent
                    ? tx.Exec(Stmt::kMarkOutboxSent, {id, owner, Ns(done.sent_at)}).affected
                    : tx.Exec(Stmt::kMarkOutboxFailed,
                              {id, owner, std::string_view(done.error),
                               done.status == OutboxStatus::kDead ? Param(std::monostate{}) : OptNs(done.retry_at)})
                          .affected;
            if (affected > 0) {
                out.emplace_back();
                continue;
            }
            // One row's lost lease must not undo the others: report it instead of throwing.
            try {
                OutboxLeaseLost(tx, done.id, done.owner);
            } catch (const DbError& e) {
                out.emplace_back(tl::unexpected(e.error()));
            }
        }
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<OutboxRow> SqlStore::ReplayOutbox(const std::string& id, Timestamp next_attempt_at) {
    OutboxRow replayed;
    auto r = driver_->Write([&](Tx& tx) {
        if (tx.Exec(Stmt::kReplayOutbox, {std::string_view(id), Ns(next_attempt_at)}).affected > 0) {
            replayed = RowToOutbox(tx.Exec(Stmt::kOutboxRow, {std::string_view(id)}).rows.at(0));
            return;
        }
        const auto rows = tx.Exec(Stmt::kOutboxExists, {std::string_view(id)}).rows;
        if (rows.empty()) ThrowNotFound("outbox row", id);
        throw DbError(ErrorCode::kConflict,
                      fmt::format("outbox row \"{}\" is {}, not dead: only a dead row can be replayed (a replayed "
                                  "row is pending until its next attempt)",
                                  id, rows.front().Text(0)));
    });
    if (!r) return tl::unexpected(r.error());
    return replayed;
}

Result<std::optional<Timestamp>> SqlStore::NextOutboxDue(Timestamp now) {
    std::optional<Timestamp> due;
    auto r = driver_->Read([&](Tx& tx) {
        due.reset();
        const auto rows = tx.Exec(Stmt::kNextOutboxDue, {Ns(now)}).rows;
        if (!rows.empty()) due = rows.front().OptTime(0);
    });
    if (!r) return tl::unexpected(r.error());
    return due;
}

Result<DeliveryPage> SqlStore::ListDeliveries(const DeliveryQuery& q) {
    Checker c;
    c.Limit(q.limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    // Deliveries page on (created_at, id) like instances, so they share the cursor format.
    auto decoded = DecodePageCursor(q.cursor);
    if (!decoded) return tl::unexpected(decoded.error());
    const std::optional<InstanceCursor> cursor = std::move(*decoded);
    DeliveryPage page;
    auto r = driver_->Read([&](Tx& tx) {
        page.items.clear();
        page.disabled_endpoints.clear();
        const std::array<Param, 4> p = {
            q.status ? Param(ToString(*q.status)) : Param(std::monostate{}),
            cursor ? Param(Ns(cursor->created_at)) : Param(std::monostate{}),
            cursor ? Param(std::string_view(cursor->id)) : Param(std::monostate{}),
            static_cast<std::int64_t>(q.limit + 1),
        };
        for (const auto& row : tx.Exec(Stmt::kListDeliveries, p).rows)
            page.items.push_back(RowToOutbox(row));
        for (const auto& row : tx.Exec(Stmt::kListDisabledEndpoints, std::span<const Param>()).rows)
            page.disabled_endpoints.push_back(DisabledEndpoint{row.Text(0), row.Text(1), row.Text(2), row.Time(3)});
    });
    if (!r) return tl::unexpected(r.error());
    if (page.items.size() > static_cast<std::size_t>(q.limit)) {
        page.items.resize(static_cast<std::size_t>(q.limit));
        const auto& last = page.items.back().message;
        page.next_cursor = EncodeInstanceCursor(last.created_at, last.id);
    }
    return page;
}

Result<void> SqlStore::DisableEndpoint(const DisabledEndpoint& endpoint) {
    Checker c;
    c.Id("endpoint key", endpoint.key);
    c.Id("endpoint channel", endpoint.channel);
    c.Text("endpoint reason", endpoint.reason);
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        tx.Exec(Stmt::kDisableEndpoint, {std::string_view(endpoint.key), std::string_view(endpoint.channel),
                                         std::string_view(endpoint.reason), Ns(endpoint.disabled_at)});
    });
}

Result<bool> SqlStore::EnableEndpoint(const std::string& key) {
    bool removed = false;
    auto r =
        driver_->Write([&](Tx& tx) { removed = tx.Exec(Stmt::kEnableEndpoint, {std::string_view(key)}).affected > 0; });
    if (!r) return tl::unexpected(r.error());
    return removed;
}

Result<std::vector<DisabledEndpoint>> SqlStore::ListDisabledEndpoints() {
    std::vector<DisabledEndpoint> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kListDisabledEndpoints, std::span<const Param>()).rows)
            out.push_back(DisabledEndpoint{row.Text(0), row.Text(1), row.Text(2), row.Time(3)});
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
