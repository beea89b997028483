#pragma once

#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The schema's version and its migrations (docs/STORE.md, "Migrations"). Used by OpenStore and
/// `railwatch migrate`.
///
/// Thread-safety: any thread; several processes may migrate the same database at once (each
/// version is applied exactly once). Errors: kUnavailable / kIo when the database cannot be
/// reached or written, kInternal for a migration that fails (nothing of it stays).
class Schema {
  public:
    virtual ~Schema() = default;

    /// Applies pending migrations in order, in one transaction; returns those applied (empty
    /// when up to date). Idempotent.
    virtual util::Result<std::vector<AppliedMigration>> Migrate() = 0;
    /// Highest applied migration version (0 for an empty database). Read-only.
    virtual util::Result<int> SchemaVersion() = 0;
};

}  // namespace railwatch::store
