#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/engine_minutes.hpp"
#include "store/health_checks.hpp"
#include "store/inbox.hpp"
#include "store/instances.hpp"
#include "store/logs.hpp"
#include "store/model.hpp"
#include "store/outbox.hpp"
#include "store/queries.hpp"
#include "store/schedule.hpp"
#include "store/schema.hpp"
#include "store/timeline.hpp"
#include "store/users.hpp"
#include "util/result.hpp"

/// railwatch's durable state. Role interfaces (store/users.hpp, instances.hpp, schedule.hpp,
/// timeline.hpp, logs.hpp, health_checks.hpp, outbox.hpp, inbox.hpp, queries.hpp, schema.hpp),
/// their union Store, and two backends behind it: SQLite (embedded default) and PostgreSQL
/// (shared by several railwatch processes). docs/STORE.md describes the schema, the threading and
/// the guarantees.
///
/// Common to every role: every method may be called from any thread at the same time.
/// Errors (util::Result): kInvalidArgument for bad input (text that is not UTF-8, too long, a bad
/// cursor or limit), kNotFound for a missing id, kConflict for a duplicate id or a lost lease,
/// kUnavailable when the database cannot be reached (retry later), kIo for local disk trouble
/// (a full disk included), kInternal for anything unexpected. A failed call changes nothing.
namespace railwatch::store {

enum class Backend { kSqlite, kPostgres };
std::string_view ToString(Backend backend);

/// Tuning knobs; the defaults suit production.
struct StoreOptions {
    /// Apply pending migrations when opening (OpenStore). `railwatch migrate` turns this off to
    /// report what it applies.
    bool migrate = true;
    /// SQLite: read connections; PostgreSQL: pool size (connections).
    int connections = 4;
    /// SQLite: how long a statement waits for a lock held by another process.
    Duration busy_timeout = core::Millis(5000);
    /// How long a caller waits for a free PostgreSQL connection before kUnavailable.
    Duration acquire_timeout = core::Seconds(10);
    /// PostgreSQL: connect timeout in seconds (libpq connect_timeout).
    int connect_timeout_s = 5;
    /// SQLite: the most write requests one transaction of the writer thread groups.
    int max_batch = 512;
    /// SQLite: the writer connection's page cache in MiB (PRAGMA cache_size); 0 keeps SQLite's
    /// 2 MiB. Filled only as pages are touched: a small database never takes it all.
    int sqlite_cache_mib = 32;
    /// SQLite: the WAL pages (4 KiB each) after which a commit checkpoints them into the database
    /// (PRAGMA wal_autocheckpoint); 0 keeps SQLite's 1,000. The WAL file grows to about this.
    int sqlite_checkpoint_pages = 10000;
    /// SQLite: the most pages (4 KiB each) the database file may grow to (PRAGMA max_page_count
    /// on the writer connection); 0 keeps SQLite's own limit. A write that needs more fails with
    /// kIo as on a full disk. A cap on the file's size, and the way tests fill a "disk".
    std::int64_t sqlite_max_pages = 0;
};

/// The whole store: every role (see each header for its contract) on one database. A module
/// takes only the roles it uses, e.g. the monitor Schedule, Instances, Timeline, Logs and
/// HealthChecks; the notifier Outbox and Inbox; the API Queries and the readers it needs; a
/// `Store&` converts to any of them. Implemented once, for both backends, by the SQL store.
class Store : public Schema,
              public Users,
              public Instances,
              public Schedule,
              public Timeline,
              public Logs,
              public HealthChecks,
              public Outbox,
              public Inbox,
              public Queries,
              public EngineMinutes {
  public:
    ~Store() override = default;

    virtual Backend backend() const = 0;
    /// The URL with any password removed, for logs and messages.
    virtual std::string Describe() const = 0;
};

/// Opens the store a URL names: `sqlite:PATH` (the file is created if missing) or
/// `postgresql://[user[:password]@]host[:port]/db[?params]` (also `postgres://`). Applies
/// pending migrations unless options.migrate is false. Errors: kInvalidArgument for a URL of
/// another form, kUnavailable when PostgreSQL is unreachable, kIo when the SQLite file cannot
/// be opened. Messages never contain the password.
util::Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options = {});

/// The URL railwatch uses when neither --db nor RAILWATCH_DB says otherwise.
inline constexpr std::string_view kDefaultStoreUrl = "sqlite:railwatch.db";

}  // namespace railwatch::store
