#pragma once

#include <span>
#include <string_view>

#include "store/store.hpp"

/// Versioned schema migrations, one list per dialect with the same versions and names.
/// Append new migrations; never edit an applied one. Internal to src/store.
namespace railwatch::store::sql {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;  ///< one or more statements
};

/// The migrations of `backend`, in version order.
std::span<const Migration> Migrations(Backend backend);

}  // namespace railwatch::store::sql
