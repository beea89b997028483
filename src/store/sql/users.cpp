// Users: CreateUser, GetUser, ListUsers.

#include <fmt/format.h>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::ErrorCode;
using util::Result;

Result<void> SqlStore::CreateUser(const User& u) {
    Checker c;
    c.Id("user id", u.id);
    c.Text("email", u.email, kMaxIdBytes);
    c.That(!u.email.empty(), "email is empty: give the address notifications go to");
    c.Text("name", u.name, kMaxIdBytes);
    c.Text("plan", u.plan, kMaxIdBytes);
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        const auto r =
            tx.Exec(Stmt::kInsertUser, {std::string_view(u.id), std::string_view(u.email), std::string_view(u.name),
                                        std::string_view(u.plan), Ns(u.created_at)});
        if (r.affected == 0) {
            throw DbError(ErrorCode::kConflict,
                          fmt::format("a user with id \"{}\" or email \"{}\" exists already", u.id, u.email));
        }
    });
}

Result<User> SqlStore::GetUser(const std::string& id) {
    std::optional<User> out;
    auto r = driver_->Read([&](Tx& tx) {
        const auto rows = tx.Exec(Stmt::kGetUser, {std::string_view(id)}).rows;
        if (rows.empty()) ThrowNotFound("user", id);
        out = RowToUser(rows.front());
    });
    if (!r) return tl::unexpected(r.error());
    return std::move(*out);
}

Result<std::vector<User>> SqlStore::ListUsers() {
    std::vector<User> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kListUsers, {}).rows)
            out.push_back(RowToUser(row));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
