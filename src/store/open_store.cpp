#include "store/postgres/postgres_driver.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sqlite/sqlite_driver.hpp"
#include "store/store.hpp"
#include "store/text.hpp"

namespace railwatch::store {

util::Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options) {
    auto parsed = ParseStoreUrl(url);
    if (!parsed) return tl::unexpected(parsed.error());
    util::Result<std::unique_ptr<sql::Driver>> driver = parsed->kind == StoreUrl::Kind::kSqlite
                                                            ? sqlite::OpenSqliteDriver(parsed->sqlite_path, options)
                                                            : postgres::OpenPostgresDriver(*parsed, options);
    if (!driver) return tl::unexpected(driver.error());
    auto store = sql::MakeSqlStore(std::move(*driver));
    if (options.migrate) {
        if (auto applied = store->Migrate(); !applied) {
            return util::Fail(applied.error().code,
                              "migrating " + store->Describe() + " failed: " + applied.error().message);
        }
    }
    return store;
}

}  // namespace railwatch::store
