#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Driver> driver) {
    return std::make_unique<SqlStore>(std::move(driver));
}

}  // namespace railwatch::store::sql
