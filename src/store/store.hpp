#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

/// railwatch's durable state. One interface, two backends: SQLite (embedded default) and
/// PostgreSQL (shared by several railwatch processes). docs/STORE.md describes the schema, the
/// threading and the guarantees.
///
/// Thread-safety: every method may be called from any thread at the same time.
/// Errors (util::Result): kInvalidArgument for bad input (text that is not UTF-8, too long, a bad
/// cursor or limit), kNotFound for a missing id, kConflict for a duplicate id or a lost lease,
/// kUnavailable when the database cannot be reached (retry later), kIo for local disk trouble,
/// kInternal for anything unexpected. A failed call changes nothing.
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
};

class Store {
  public:
    virtual ~Store() = default;

    virtual Backend backend() const = 0;
    /// The URL with any password removed, for logs and messages.
    virtual std::string Describe() const = 0;

    // --- schema ---------------------------------------------------------------------------
    /// Applies pending migrations in order, each in its own transaction; returns those applied
    /// (empty when up to date). Safe to run from several processes at once.
    virtual util::Result<std::vector<AppliedMigration>> Migrate() = 0;
    /// Highest applied migration version (0 for an empty database).
    virtual util::Result<int> SchemaVersion() = 0;

    // --- users ----------------------------------------------------------------------------
    /// kConflict when the id or the email exists.
    virtual util::Result<void> CreateUser(const User& user) = 0;
    virtual util::Result<User> GetUser(const std::string& id) = 0;
    virtual util::Result<std::vector<User>> ListUsers() = 0;

    // --- instances ------------------------------------------------------------------------
    /// Inserts a new instance (lease fields are ignored). kConflict when the id exists,
    /// kNotFound when user_id names no user.
    virtual util::Result<void> CreateInstance(const Instance& instance) = 0;
    virtual util::Result<Instance> GetInstance(const std::string& id) = 0;
    /// Instances (deleted ones included) currently following `deployment_id`.
    virtual util::Result<std::vector<Instance>> FindInstancesByDeployment(const std::string& deployment_id) = 0;
    virtual util::Result<InstancePage> ListInstances(const InstanceQuery& query) = 0;
    /// Writes the deployment-state columns without recording a transition (progress, health,
    /// next_check_at updates). kNotFound for an unknown id.
    virtual util::Result<void> SaveState(const std::string& id, const InstanceState& state) = 0;
    /// Turns monitoring on (scheduling the next check at `next_check_at`) or off (clearing it
    /// and any lease). `check_interval_s` must be ≥ 1 when given.
    virtual util::Result<void> SetMonitoring(const std::string& id, bool enabled, std::optional<int> check_interval_s,
                                             Timestamp next_check_at) = 0;
    /// Stops monitoring and marks the instance DELETED at `at`; it stays for history.
    virtual util::Result<void> DeleteInstance(const std::string& id, Timestamp at) = 0;

    // --- transitions ----------------------------------------------------------------------
    /// Records the event, updates the instance and enqueues the outbox rows atomically.
    /// Idempotent (see Transition). kNotFound for an unknown instance.
    virtual util::Result<TransitionResult> ApplyTransition(const Transition& transition) = 0;
    /// The instance's timeline, oldest first, at most `limit` (newest kept) events.
    virtual util::Result<std::vector<TimelineEvent>> ListEvents(const std::string& instance_id, int limit) = 0;

    // --- logs -----------------------------------------------------------------------------
    /// Appends lines (any mix of instances), dropping duplicates, then keeps only the newest
    /// `max_logs` lines of every instance touched. kNotFound when a line names an unknown
    /// instance (nothing is written then).
    virtual util::Result<LogAppendResult> AppendLogs(const std::vector<LogLine>& lines,
                                                     int max_logs = kDefaultMaxLogs) = 0;
    /// The newest `limit` lines of an instance (optionally of one kind), oldest first.
    virtual util::Result<std::vector<LogLine>> RecentLogs(const std::string& instance_id, int limit,
                                                          std::optional<LogKind> kind = std::nullopt) = 0;
    /// Timestamp of the newest stored line of (instance, deployment, kind), for incremental
    /// fetching (Railway's startDate); nullopt when none.
    virtual util::Result<std::optional<Timestamp>> LatestLogTimestamp(const std::string& instance_id,
                                                                      const std::string& deployment_id,
                                                                      LogKind kind) = 0;

    // --- health ---------------------------------------------------------------------------
    /// Returns the stored row's id.
    virtual util::Result<std::int64_t> RecordHealthCheck(const HealthCheck& check) = 0;
    /// The newest `limit` checks, newest first.
    virtual util::Result<std::vector<HealthCheck>> RecentHealthChecks(const std::string& instance_id, int limit) = 0;
    /// Checks at or after `since`.
    virtual util::Result<UptimeSummary> Uptime(const std::string& instance_id, Timestamp since) = 0;

    // --- in-app notifications -------------------------------------------------------------
    /// Returns false (and changes nothing) when a notification with this id exists.
    virtual util::Result<bool> AddNotification(const Notification& notification) = 0;
    virtual util::Result<std::vector<Notification>> ListNotifications(const NotificationQuery& query) = 0;
    /// Sets read_at once (later calls keep the first time). kNotFound for an unknown id.
    virtual util::Result<void> MarkNotificationRead(const std::string& id, Timestamp at) = 0;

    // --- outbox ---------------------------------------------------------------------------
    /// Enqueues messages outside a transition; a dedup_key already present is skipped.
    /// Returns how many rows were new.
    virtual util::Result<int> EnqueueOutbox(const std::vector<OutboxMessage>& messages) = 0;
    /// Claims up to `limit` pending rows whose next_attempt_at ≤ now and whose lease (if any)
    /// has expired: sets lease (owner, now + lease) and increments attempts. Several processes
    /// may claim at once; each row goes to one of them.
    virtual util::Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& owner, Timestamp now, Duration lease,
                                                             int limit) = 0;
    /// The receiver accepted: status sent. kConflict when `owner` no longer holds the lease.
    virtual util::Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, Timestamp at) = 0;
    /// The attempt failed: back to pending until `retry_at`, or dead when `retry_at` is nullopt.
    /// kConflict when `owner` no longer holds the lease.
    virtual util::Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner,
                                                const std::string& error, std::optional<Timestamp> retry_at) = 0;
    /// Rows by status (all when nullopt), newest first.
    virtual util::Result<std::vector<OutboxRow>> ListDeliveries(std::optional<OutboxStatus> status, int limit) = 0;

    // --- check schedule -------------------------------------------------------------------
    /// Claims up to `limit` monitored, not deleted instances with next_check_at ≤ now and no
    /// live lease, earliest due first; sets lease (owner, now + lease). Concurrent callers
    /// (threads or processes) never get the same instance while its lease lives.
    virtual util::Result<std::vector<Instance>> ClaimDueInstances(const std::string& owner, Timestamp now,
                                                                  Duration lease, int limit) = 0;
    /// Gives a claimed instance back with its next check time. kConflict when `owner` does not
    /// hold the lease any more (it expired and another worker claimed it).
    virtual util::Result<void> ReleaseInstance(const std::string& id, const std::string& owner,
                                               std::optional<Timestamp> next_check_at) = 0;

    // --- queries for the API --------------------------------------------------------------
    /// Flagged instances and those stuck INITIALIZING / DEPLOYING for longer than stuck_after
    /// (measured from deployment_updated_at, else deployment_started_at, else created_at),
    /// not deleted, oldest first, with their user.
    virtual util::Result<std::vector<AttentionItem>> ListAttention(const AttentionQuery& query) = 0;
    virtual util::Result<Stats> GetStats() = 0;
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
