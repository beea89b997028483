#pragma once

#include <memory>

#include "store/sql/database.hpp"
#include "store/store.hpp"

namespace railwatch::store::sql {

/// The Store, written once against the Driver seam: every query, validation and invariant lives
/// here, so both backends behave the same by construction. Thread-safe as Store requires (the
/// driver serialises what must be serialised).
std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Driver> driver);

}  // namespace railwatch::store::sql
