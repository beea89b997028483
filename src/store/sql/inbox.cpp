// Inbox: in-app notifications.

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<bool> SqlStore::AddNotification(const Notification& n) {
    Checker c;
    c.Id("notification id", n.id);
    c.Id("user_id", n.user_id);
    c.Text("type", n.type, kMaxIdBytes);
    c.Text("title", n.title);
    c.Text("message", n.message);
    c.Text("data", n.data);
    if (!c.result()) return tl::unexpected(c.result().error());
    bool inserted = false;
    auto r = driver_->Write([&](Tx& tx) {
        inserted = false;
        if (tx.Exec(Stmt::kUserExists, {std::string_view(n.user_id)}).rows.empty()) ThrowNotFound("user", n.user_id);
        const std::array<Param, 8> p = {std::string_view(n.id),
                                        std::string_view(n.user_id),
                                        std::string_view(n.type),
                                        std::string_view(n.title),
                                        std::string_view(n.message),
                                        std::string_view(n.data),
                                        OptNs(n.read_at),
                                        Ns(n.created_at)};
        inserted = tx.Exec(Stmt::kInsertNotification, p).affected > 0;
    });
    if (!r) return tl::unexpected(r.error());
    return inserted;
}

Result<std::vector<Notification>> SqlStore::ListNotifications(const NotificationQuery& q) {
    Checker c;
    c.Limit(q.limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<Notification> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kListNotifications,
                                       {OptText(q.user_id), Bool(q.unread_only), static_cast<std::int64_t>(q.limit)})
                                   .rows)
            out.push_back(RowToNotification(row));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<void> SqlStore::MarkNotificationRead(const std::string& id, Timestamp at) {
    return driver_->Write([&](Tx& tx) {
        if (tx.Exec(Stmt::kMarkNotificationRead, {std::string_view(id), Ns(at)}).affected == 0) {
            ThrowNotFound("notification", id);
        }
    });
}

}  // namespace railwatch::store::sql
