// Schema: Migrate and SchemaVersion (docs/STORE.md, "Migrations").

#include <array>
#include <set>

#include "store/sql/migrations.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<std::vector<AppliedMigration>> SqlStore::Migrate() {
    std::vector<AppliedMigration> applied;
    const Backend b = backend();
    auto r = driver_->Write([&](Tx& tx) {
        applied.clear();
        // Several processes may migrate at once: PostgreSQL serialises them on an advisory
        // lock; SQLite's writer transaction (BEGIN IMMEDIATE) already does.
        if (b == Backend::kPostgres) tx.ExecRaw("SELECT pg_advisory_xact_lock(7270443)");
        tx.ExecRaw(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)");
        std::set<int> done;
        for (const auto& row : tx.ExecRaw("SELECT version FROM schema_migrations").rows)
            done.insert(static_cast<int>(row.Int(0)));
        const std::string now_ns = b == Backend::kSqlite ? "CAST(strftime('%s', 'now') AS INTEGER) * 1000000000"
                                                         : "CAST(EXTRACT(EPOCH FROM now()) * 1000000000 AS BIGINT)";
        for (const auto& m : Migrations(b)) {
            if (done.contains(m.version)) continue;
            tx.ExecRaw(std::string(m.sql));
            const std::array<Param, 2> params = {static_cast<std::int64_t>(m.version), m.name};
            tx.ExecRaw("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, " + now_ns + ")",
                       params);
            applied.push_back({m.version, std::string(m.name)});
        }
    });
    if (!r) return tl::unexpected(r.error());
    return applied;
}

Result<int> SqlStore::SchemaVersion() {
    int version = 0;
    const Backend b = backend();
    auto r = driver_->Read([&](Tx& tx) {
        version = 0;
        const std::string exists =
            b == Backend::kSqlite
                ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
                : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND "
                  "table_name = 'schema_migrations'";
        if (tx.ExecRaw(exists).rows.at(0).Int(0) == 0) return;
        const auto rows = tx.ExecRaw("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").rows;
        version = static_cast<int>(rows.at(0).Int(0));
    });
    if (!r) return tl::unexpected(r.error());
    return version;
}

}  // namespace railwatch::store::sql
