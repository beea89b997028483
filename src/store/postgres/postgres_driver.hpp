#pragma once

#include <memory>
#include <string>

#include "store/sql/database.hpp"
#include "store/store.hpp"
#include "store/text.hpp"
#include "util/result.hpp"

/// The PostgreSQL backend (libpqxx 6.4): a small pool of connections, each with every statement
/// prepared once. A broken connection is dropped and replaced on next use; a call that finds
/// the server unreachable fails with kUnavailable naming host and port (never the password).
namespace railwatch::store::postgres {

/// Connects one connection eagerly so that a wrong URL or a stopped server is reported at once.
util::Result<std::unique_ptr<sql::Driver>> OpenPostgresDriver(const StoreUrl& url, const StoreOptions& options);

}  // namespace railwatch::store::postgres
