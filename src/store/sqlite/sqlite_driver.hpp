#pragma once

#include <memory>
#include <string>

#include "store/sql/database.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

/// The SQLite backend: one writer connection owned by a writer thread that groups concurrent
/// write requests into one transaction (each request in its own savepoint, so one failing
/// request does not undo the others), and a pool of read connections. WAL journal,
/// synchronous=NORMAL (a committed transaction survives a process crash; the last ones may be
/// lost on power loss), busy_timeout, foreign_keys=ON. Every statement is prepared once per
/// connection and cached.
namespace railwatch::store::sqlite {

/// Opens (creating if missing) the database file at `path`. kIo when it cannot be opened or is
/// not an SQLite database.
util::Result<std::unique_ptr<sql::Driver>> OpenSqliteDriver(const std::string& path, const StoreOptions& options);

}  // namespace railwatch::store::sqlite
