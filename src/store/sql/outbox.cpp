// Outbox: enqueue, claim with a lease, mark sent / failed, list deliveries.

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

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

Result<std::vector<OutboxRow>> SqlStore::ListDeliveries(std::optional<OutboxStatus> status, int limit) {
    Checker c;
    c.Limit(limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<OutboxRow> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row :
             tx.Exec(Stmt::kListDeliveries,
                     {status ? Param(ToString(*status)) : Param(std::monostate{}), static_cast<std::int64_t>(limit)})
                 .rows)
            out.push_back(RowToOutbox(row));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
