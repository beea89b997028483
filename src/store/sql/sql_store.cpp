#include "store/sql/sql_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "store/sql/migrations.hpp"
#include "store/text.hpp"

namespace railwatch::store::sql {
namespace {

using util::ErrorCode;
using util::Fail;
using util::Result;

constexpr std::size_t kMaxIdBytes = 256;
constexpr int kMaxLimit = 10000;

std::int64_t Ns(Timestamp t) {
    return t.time_since_epoch().count();
}

Param OptNs(const std::optional<Timestamp>& t) {
    if (!t) return std::monostate{};
    return Ns(*t);
}

Param OptText(const std::optional<std::string>& s) {
    if (!s) return std::monostate{};
    return std::string_view(*s);
}

Param OptInt(const std::optional<int>& v) {
    if (!v) return std::monostate{};
    return static_cast<std::int64_t>(*v);
}

Param Bool(bool b) {
    return static_cast<std::int64_t>(b ? 1 : 0);
}

// Collects the first validation failure of a request.
class Checker {
  public:
    void Text(std::string_view field, std::string_view value, std::size_t max = kMaxTextBytes) {
        if (!result_) return;
        result_ = ValidateText(field, value, max);
    }
    void OptText(std::string_view field, const std::optional<std::string>& value, std::size_t max = kMaxTextBytes) {
        if (value) Text(field, *value, max);
    }
    void Id(std::string_view field, std::string_view value) {
        if (!result_) return;
        if (value.empty()) {
            result_ = Fail(ErrorCode::kInvalidArgument, fmt::format("{} is empty: give a non-empty id", field));
            return;
        }
        Text(field, value, kMaxIdBytes);
    }
    void OptId(std::string_view field, const std::optional<std::string>& value) {
        if (value) Id(field, *value);
    }
    void Limit(int limit) {
        if (!result_) return;
        if (limit < 1 || limit > kMaxLimit) {
            result_ =
                Fail(ErrorCode::kInvalidArgument, fmt::format("limit {} is out of range: use 1..{}", limit, kMaxLimit));
        }
    }
    void That(bool ok, std::string message) {
        if (result_ && !ok) result_ = Fail(ErrorCode::kInvalidArgument, std::move(message));
    }
    const Result<void>& result() const { return result_; }

  private:
    Result<void> result_;
};

void CheckState(Checker& c, const InstanceState& s) {
    c.OptId("deployment_id", s.deployment_id);
    c.OptText("deployment_status", s.deployment_status, kMaxIdBytes);
    c.OptText("health", s.health, kMaxIdBytes);
    c.OptText("error_message", s.error_message);
    c.OptText("error_stack", s.error_stack);
    c.OptText("attention_reason", s.attention_reason);
    c.That(s.progress >= 0 && s.progress <= 100, fmt::format("progress {} is out of range: use 0..100", s.progress));
    c.That(s.retry_count >= 0, fmt::format("retry_count {} is negative", s.retry_count));
}

void CheckOutbox(Checker& c, const OutboxMessage& m) {
    c.Id("outbox id", m.id);
    c.Id("outbox channel", m.channel);
    c.Id("outbox dedup_key", m.dedup_key);
    c.Text("outbox payload", m.payload);
}

// The 16 parameters of Stmt::kUpdateState: $1 = id, $2.. = state.
std::vector<Param> StateParams(const std::string& id, const InstanceState& s,
                               const std::optional<std::string>& deployment_id) {
    return {
        std::string_view(id),
        core::ToString(s.status),
        OptText(deployment_id),
        OptText(s.deployment_status),
        static_cast<std::int64_t>(s.progress),
        OptText(s.health),
        s.error_type ? Param(core::ToString(*s.error_type)) : Param(std::monostate{}),
        OptText(s.error_message),
        OptText(s.error_stack),
        static_cast<std::int64_t>(s.retry_count),
        Bool(s.needs_attention),
        OptText(s.attention_reason),
        OptNs(s.deployment_started_at),
        OptNs(s.deployment_updated_at),
        OptNs(s.deployment_completed_at),
        OptNs(s.next_check_at),
    };
}

Instance RowToInstance(const Row& r, std::size_t o = 0) {
    Instance i;
    i.id = r.Text(o + 0);
    i.user_id = r.OptText(o + 1);
    i.project_name = r.OptText(o + 2);
    i.project_id = r.OptText(o + 3);
    i.service_id = r.Text(o + 4);
    i.environment_id = r.Text(o + 5);
    auto& s = i.state;
    s.deployment_id = r.OptText(o + 6);
    const auto status = r.Text(o + 7);
    const auto parsed = core::ParseInstanceStatus(status);
    if (!parsed) throw DbError(ErrorCode::kInternal, "instance " + i.id + " has unknown status \"" + status + "\"");
    s.status = *parsed;
    s.deployment_status = r.OptText(o + 8);
    s.progress = static_cast<int>(r.Int(o + 9));
    s.health = r.OptText(o + 10);
    if (const auto et = r.OptText(o + 11)) {
        s.error_type = core::ParseErrorClass(*et).value_or(core::ErrorClass::kUnknown);
    }
    s.error_message = r.OptText(o + 12);
    s.error_stack = r.OptText(o + 13);
    s.retry_count = static_cast<int>(r.Int(o + 14));
    s.needs_attention = r.Int(o + 15) != 0;
    s.attention_reason = r.OptText(o + 16);
    i.monitoring = r.Int(o + 17) != 0;
    i.check_interval_s = static_cast<int>(r.Int(o + 18));
    s.next_check_at = r.OptTime(o + 19);
    i.lease_owner = r.OptText(o + 20);
    i.lease_until = r.OptTime(o + 21);
    i.created_at = r.Time(o + 22);
    s.deployment_started_at = r.OptTime(o + 23);
    s.deployment_updated_at = r.OptTime(o + 24);
    s.deployment_completed_at = r.OptTime(o + 25);
    i.deleted_at = r.OptTime(o + 26);
    return i;
}

User RowToUser(const Row& r, std::size_t o = 0) {
    return User{r.Text(o), r.Text(o + 1), r.Text(o + 2), r.Text(o + 3), r.Time(o + 4)};
}

TimelineEvent RowToEvent(const Row& r) {
    return TimelineEvent{r.Int(0), r.Text(1), r.Text(2), r.OptText(3), r.Text(4), r.Time(5), r.Text(6)};
}

OutboxRow RowToOutbox(const Row& r) {
    OutboxRow o;
    o.message.id = r.Text(0);
    o.message.channel = r.Text(1);
    o.message.dedup_key = r.Text(2);
    o.message.payload = r.Text(3);
    o.message.created_at = r.Time(4);
    o.status = ParseOutboxStatus(r.Text(5)).value_or(OutboxStatus::kPending);
    o.attempts = static_cast<int>(r.Int(6));
    o.next_attempt_at = r.Time(7);
    o.message.next_attempt_at = o.next_attempt_at;
    o.last_error = r.OptText(8);
    o.lease_owner = r.OptText(9);
    o.lease_until = r.OptTime(10);
    o.sent_at = r.OptTime(11);
    return o;
}

Notification RowToNotification(const Row& r) {
    Notification n;
    n.id = r.Text(0);
    n.user_id = r.Text(1);
    n.type = r.Text(2);
    n.title = r.Text(3);
    n.message = r.Text(4);
    n.data = r.Text(5);
    n.read_at = r.OptTime(6);
    n.created_at = r.Time(7);
    return n;
}

HealthCheck RowToHealth(const Row& r) {
    HealthCheck h;
    h.id = r.Int(0);
    h.instance_id = r.Text(1);
    h.at = r.Time(2);
    h.ok = r.Int(3) != 0;
    if (const auto v = r.OptInt(4)) h.http_status = static_cast<int>(*v);
    if (const auto v = r.OptInt(5)) h.latency_ms = static_cast<int>(*v);
    h.error = r.OptText(6);
    return h;
}

[[noreturn]] void ThrowNotFound(std::string_view what, std::string_view id) {
    throw DbError(ErrorCode::kNotFound, fmt::format("no {} with id \"{}\"", what, id));
}

void RequireInstance(Tx& tx, const std::string& id) {
    if (tx.Exec(Stmt::kInstanceExists, {std::string_view(id)}).rows.empty()) ThrowNotFound("instance", id);
}

class SqlStore final : public Store {
  public:
    explicit SqlStore(std::unique_ptr<Driver> driver) : driver_(std::move(driver)) {}

    Backend backend() const override { return driver_->backend(); }
    std::string Describe() const override { return driver_->Describe(); }

    Result<std::vector<AppliedMigration>> Migrate() override {
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

    Result<int> SchemaVersion() override {
        int version = 0;
        const Backend b = backend();
        auto r = driver_->Read([&](Tx& tx) {
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

    // --- users ---
    Result<void> CreateUser(const User& u) override {
        Checker c;
        c.Id("user id", u.id);
        c.Text("email", u.email, kMaxIdBytes);
        c.That(!u.email.empty(), "email is empty: give the address notifications go to");
        c.Text("name", u.name, kMaxIdBytes);
        c.Text("plan", u.plan, kMaxIdBytes);
        if (!c.result()) return c.result();
        return driver_->Write([&](Tx& tx) {
            const auto r =
                tx.Exec(Stmt::kInsertUser, {std::string_view(u.id), std::string_view(u.email), std::string_view(u.name),
                                            std::string_view(u.plan), Ns(u.created_at)});
            if (r.affected == 0) {
                throw DbError(ErrorCode::kConflict,
                              fmt::format("a user with id \"{}\" or email \"{}\" exists already", u.id, u.email));
            }
        });
    }

    Result<User> GetUser(const std::string& id) override {
        std::optional<User> out;
        auto r = driver_->Read([&](Tx& tx) {
            const auto rows = tx.Exec(Stmt::kGetUser, {std::string_view(id)}).rows;
            if (rows.empty()) ThrowNotFound("user", id);
            out = RowToUser(rows.front());
        });
        if (!r) return tl::unexpected(r.error());
        return std::move(*out);
    }

    Result<std::vector<User>> ListUsers() override {
        std::vector<User> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row : tx.Exec(Stmt::kListUsers, {}).rows)
                out.push_back(RowToUser(row));
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    // --- instances ---
    Result<void> CreateInstance(const Instance& i) override {
        Checker c;
        c.Id("instance id", i.id);
        c.OptId("user_id", i.user_id);
        c.OptText("project_name", i.project_name);
        c.OptId("project_id", i.project_id);
        c.Id("service_id", i.service_id);
        c.Id("environment_id", i.environment_id);
        c.That(i.check_interval_s >= 1,
               fmt::format("check_interval_s {} is out of range: use 1 or more", i.check_interval_s));
        CheckState(c, i.state);
        if (!c.result()) return c.result();
        const auto& s = i.state;
        return driver_->Write([&](Tx& tx) {
            if (i.user_id && tx.Exec(Stmt::kUserExists, {std::string_view(*i.user_id)}).rows.empty()) {
                ThrowNotFound("user", *i.user_id);
            }
            const std::array<Param, 25> p = {
                std::string_view(i.id),
                OptText(i.user_id),
                OptText(i.project_name),
                OptText(i.project_id),
                std::string_view(i.service_id),
                std::string_view(i.environment_id),
                OptText(s.deployment_id),
                core::ToString(s.status),
                OptText(s.deployment_status),
                static_cast<std::int64_t>(s.progress),
                OptText(s.health),
                s.error_type ? Param(core::ToString(*s.error_type)) : Param(std::monostate{}),
                OptText(s.error_message),
                OptText(s.error_stack),
                static_cast<std::int64_t>(s.retry_count),
                Bool(s.needs_attention),
                OptText(s.attention_reason),
                Bool(i.monitoring),
                static_cast<std::int64_t>(i.check_interval_s),
                OptNs(s.next_check_at),
                Ns(i.created_at),
                OptNs(s.deployment_started_at),
                OptNs(s.deployment_updated_at),
                OptNs(s.deployment_completed_at),
                OptNs(i.deleted_at),
            };
            if (tx.Exec(Stmt::kInsertInstance, p).affected == 0) {
                throw DbError(ErrorCode::kConflict, fmt::format("an instance with id \"{}\" exists already", i.id));
            }
        });
    }

    Result<Instance> GetInstance(const std::string& id) override {
        std::optional<Instance> out;
        auto r = driver_->Read([&](Tx& tx) {
            const auto rows = tx.Exec(Stmt::kGetInstance, {std::string_view(id)}).rows;
            if (rows.empty()) ThrowNotFound("instance", id);
            out = RowToInstance(rows.front());
        });
        if (!r) return tl::unexpected(r.error());
        return std::move(*out);
    }

    Result<std::vector<Instance>> FindInstancesByDeployment(const std::string& deployment_id) override {
        std::vector<Instance> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row : tx.Exec(Stmt::kInstancesByDeployment, {std::string_view(deployment_id)}).rows)
                out.push_back(RowToInstance(row));
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<InstancePage> ListInstances(const InstanceQuery& q) override {
        Checker c;
        c.Limit(q.limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::optional<InstanceCursor> cursor;
        if (!q.cursor.empty()) {
            auto decoded = DecodeInstanceCursor(q.cursor);
            if (!decoded) return tl::unexpected(decoded.error());
            cursor = std::move(*decoded);
        }
        InstancePage page;
        auto r = driver_->Read([&](Tx& tx) {
            const std::array<Param, 5> p = {
                q.status ? Param(core::ToString(*q.status)) : Param(std::monostate{}),
                q.needs_attention ? Bool(*q.needs_attention) : Param(std::monostate{}),
                cursor ? Param(Ns(cursor->created_at)) : Param(std::monostate{}),
                cursor ? Param(std::string_view(cursor->id)) : Param(std::monostate{}),
                static_cast<std::int64_t>(q.limit + 1),
            };
            for (const auto& row : tx.Exec(Stmt::kListInstances, p).rows)
                page.items.push_back(RowToInstance(row));
        });
        if (!r) return tl::unexpected(r.error());
        if (page.items.size() > static_cast<std::size_t>(q.limit)) {
            page.items.resize(static_cast<std::size_t>(q.limit));
            const auto& last = page.items.back();
            page.next_cursor = EncodeInstanceCursor(last.created_at, last.id);
        }
        return page;
    }

    Result<void> SaveState(const std::string& id, const InstanceState& state) override {
        Checker c;
        CheckState(c, state);
        if (!c.result()) return c.result();
        return driver_->Write([&](Tx& tx) {
            const auto p = StateParams(id, state, state.deployment_id);
            if (tx.Exec(Stmt::kUpdateState, p).affected == 0) ThrowNotFound("instance", id);
        });
    }

    Result<void> SetMonitoring(const std::string& id, bool enabled, std::optional<int> interval_s,
                               Timestamp next_check_at) override {
        Checker c;
        c.That(!interval_s || *interval_s >= 1,
               fmt::format("check interval {} s is out of range: use 1 or more", interval_s.value_or(0)));
        if (!c.result()) return c.result();
        return driver_->Write([&](Tx& tx) {
            const auto r = tx.Exec(Stmt::kSetMonitoring,
                                   {std::string_view(id), Bool(enabled), OptInt(interval_s), Ns(next_check_at)});
            if (r.affected == 0) {
                RequireInstance(tx, id);
                throw DbError(ErrorCode::kConflict,
                              fmt::format("instance \"{}\" is deleted: add it again to monitor it", id));
            }
            tx.Exec(Stmt::kDropLease, {std::string_view(id)});
        });
    }

    Result<void> DeleteInstance(const std::string& id, Timestamp at) override {
        return driver_->Write([&](Tx& tx) {
            if (tx.Exec(Stmt::kDeleteInstance, {std::string_view(id), Ns(at)}).affected == 0) {
                ThrowNotFound("instance", id);
            }
            tx.Exec(Stmt::kDropLease, {std::string_view(id)});
        });
    }

    // --- transitions ---
    Result<TransitionResult> ApplyTransition(const Transition& t) override {
        Checker c;
        c.Id("instance_id", t.instance_id);
        c.Id("deployment_id", t.deployment_id);
        c.OptText("from_status", t.from_status, kMaxIdBytes);
        c.Text("to_status", t.to_status, kMaxIdBytes);
        c.That(!t.to_status.empty(), "to_status is empty: give Railway's status");
        c.Text("source", t.source, kMaxIdBytes);
        CheckState(c, t.state);
        for (const auto& m : t.outbox)
            CheckOutbox(c, m);
        if (!c.result()) return tl::unexpected(c.result().error());
        TransitionResult out;
        auto r = driver_->Write([&](Tx& tx) {
            out = {};
            RequireInstance(tx, t.instance_id);
            const auto inserted =
                tx.Exec(Stmt::kInsertEvent,
                        {std::string_view(t.instance_id), std::string_view(t.deployment_id), OptText(t.from_status),
                         std::string_view(t.to_status), Ns(t.at), std::string_view(t.source)});
            if (inserted.rows.empty()) {
                // Recorded before: report the earlier event, change nothing.
                const auto found =
                    tx.Exec(Stmt::kFindEvent, {std::string_view(t.instance_id), std::string_view(t.deployment_id),
                                               std::string_view(t.to_status), Ns(t.at)});
                if (!found.rows.empty()) out.event_id = found.rows.front().Int(0);
                return;
            }
            out.applied = true;
            out.event_id = inserted.rows.front().Int(0);
            const std::optional<std::string> deployment_id = t.deployment_id;
            tx.Exec(Stmt::kUpdateState, StateParams(t.instance_id, t.state, deployment_id));
            for (const auto& m : t.outbox)
                InsertOutbox(tx, m);
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<std::vector<TimelineEvent>> ListEvents(const std::string& instance_id, int limit) override {
        return ReadPerInstance<TimelineEvent>(Stmt::kListEvents, instance_id, limit, RowToEvent);
    }

    // --- logs ---
    Result<LogAppendResult> AppendLogs(const std::vector<LogLine>& lines, int max_logs) override {
        Checker c;
        c.That(max_logs >= 1, fmt::format("max_logs {} is out of range: use 1 or more", max_logs));
        for (std::size_t k = 0; k < lines.size() && c.result(); ++k) {
            const auto& l = lines[k];
            // A batch holds thousands of lines: name the fields (fmt::format) only for a bad one.
            Checker quick;
            quick.Id("", l.instance_id);
            quick.Id("", l.deployment_id);
            quick.Text("", l.severity, kMaxIdBytes);
            quick.Text("", l.message);
            if (quick.result()) continue;
            c.Id(fmt::format("log line {} instance_id", k), l.instance_id);
            c.Id(fmt::format("log line {} deployment_id", k), l.deployment_id);
            c.Text(fmt::format("log line {} severity", k), l.severity, kMaxIdBytes);
            c.Text(fmt::format("log line {} message", k), l.message);
        }
        if (!c.result()) return tl::unexpected(c.result().error());
        if (lines.empty()) return LogAppendResult{};
        // Lines grouped by instance, keeping their order within each instance.
        std::map<std::string_view, std::vector<const LogLine*>> by_instance;
        for (const auto& l : lines)
            by_instance[l.instance_id].push_back(&l);
        LogAppendResult out;
        auto r = driver_->Write([&](Tx& tx) {
            out = {};
            for (const auto& [instance_id, group] : by_instance) {
                const auto seq_rows = tx.Exec(Stmt::kGetLogSeq, {instance_id}).rows;
                if (seq_rows.empty()) ThrowNotFound("instance", instance_id);
                std::int64_t seq = seq_rows.front().Int(0);
                const std::int64_t first_seq = seq;
                for (const LogLine* l : group) {
                    const std::array<Param, 8> p = {
                        instance_id,
                        seq + 1,
                        std::string_view(l->deployment_id),
                        ToString(l->kind),
                        Ns(l->timestamp),
                        std::string_view(l->severity),
                        std::string_view(l->message),
                        MessageHash(l->message),
                    };
                    if (tx.Exec(Stmt::kInsertLog, p).affected > 0) {
                        ++seq;
                        ++out.inserted;
                    } else {
                        ++out.duplicates;
                    }
                }
                if (seq == first_seq) continue;
                tx.Exec(Stmt::kSetLogSeq, {instance_id, seq});
                // Sequence numbers are dense per instance, so "keep the newest max_logs" is a
                // range delete on the primary key: its cost is the rows deleted, not the table.
                if (seq > max_logs) {
                    out.rotated += static_cast<int>(tx.Exec(Stmt::kRotateLogs, {instance_id, seq - max_logs}).affected);
                }
            }
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<std::vector<LogLine>> RecentLogs(const std::string& instance_id, int limit,
                                            std::optional<LogKind> kind) override {
        Checker c;
        c.Limit(limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<LogLine> out;
        auto r = driver_->Read([&](Tx& tx) {
            const std::array<Param, 3> p = {std::string_view(instance_id),
                                            kind ? Param(ToString(*kind)) : Param(std::monostate{}),
                                            static_cast<std::int64_t>(limit)};
            for (const auto& row : tx.Exec(Stmt::kRecentLogs, p).rows) {
                LogLine l;
                l.instance_id = row.Text(0);
                l.deployment_id = row.Text(1);
                l.kind = ParseLogKind(row.Text(2)).value_or(LogKind::kDeploy);
                l.timestamp = row.Time(3);
                l.severity = row.Text(4);
                l.message = row.Text(5);
                out.push_back(std::move(l));
            }
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<std::optional<Timestamp>> LatestLogTimestamp(const std::string& instance_id,
                                                        const std::string& deployment_id, LogKind kind) override {
        std::optional<Timestamp> out;
        auto r = driver_->Read([&](Tx& tx) {
            const auto rows = tx.Exec(Stmt::kLatestLogTs,
                                      {std::string_view(instance_id), std::string_view(deployment_id), ToString(kind)})
                                  .rows;
            if (!rows.empty()) out = rows.front().OptTime(0);
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    // --- health ---
    Result<std::int64_t> RecordHealthCheck(const HealthCheck& h) override {
        Checker c;
        c.Id("instance_id", h.instance_id);
        c.OptText("health check error", h.error);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::int64_t id = 0;
        auto r = driver_->Write([&](Tx& tx) {
            RequireInstance(tx, h.instance_id);
            const auto rows =
                tx.Exec(Stmt::kInsertHealth, {std::string_view(h.instance_id), Ns(h.at), Bool(h.ok),
                                              OptInt(h.http_status), OptInt(h.latency_ms), OptText(h.error)})
                    .rows;
            id = rows.at(0).Int(0);
        });
        if (!r) return tl::unexpected(r.error());
        return id;
    }

    Result<std::vector<HealthCheck>> RecentHealthChecks(const std::string& instance_id, int limit) override {
        return ReadPerInstance<HealthCheck>(Stmt::kRecentHealth, instance_id, limit, RowToHealth);
    }

    Result<UptimeSummary> Uptime(const std::string& instance_id, Timestamp since) override {
        UptimeSummary out;
        auto r = driver_->Read([&](Tx& tx) {
            const auto rows = tx.Exec(Stmt::kUptime, {std::string_view(instance_id), Ns(since)}).rows;
            const auto& row = rows.at(0);
            out.checks = static_cast<int>(row.Int(0));
            out.ok = static_cast<int>(row.Int(1));
            out.last_checked_at = row.OptTime(2);
            out.last_failure_at = row.OptTime(3);
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    // --- notifications ---
    Result<bool> AddNotification(const Notification& n) override {
        Checker c;
        c.Id("notification id", n.id);
        c.Id("user_id", n.user_id);
        c.Text("type", n.type, kMaxIdBytes);
        c.Text("title", n.title);
        c.Text("message", n.message);
        c.Text("data", n.data);
        if (!c.result()) return tl::unexpected(c.result().error());
        bool inserted = false;
        auto r = driver_->Write([&](Tx& tx) {
            if (tx.Exec(Stmt::kUserExists, {std::string_view(n.user_id)}).rows.empty())
                ThrowNotFound("user", n.user_id);
            const std::array<Param, 8> p = {std::string_view(n.id),
                                            std::string_view(n.user_id),
                                            std::string_view(n.type),
                                            std::string_view(n.title),
                                            std::string_view(n.message),
                                            std::string_view(n.data),
                                            OptNs(n.read_at),
                                            Ns(n.created_at)};
            inserted = tx.Exec(Stmt::kInsertNotification, p).affected > 0;
        });
        if (!r) return tl::unexpected(r.error());
        return inserted;
    }

    Result<std::vector<Notification>> ListNotifications(const NotificationQuery& q) override {
        Checker c;
        c.Limit(q.limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<Notification> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row : tx.Exec(Stmt::kListNotifications, {OptText(q.user_id), Bool(q.unread_only),
                                                                      static_cast<std::int64_t>(q.limit)})
                                       .rows)
                out.push_back(RowToNotification(row));
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<void> MarkNotificationRead(const std::string& id, Timestamp at) override {
        return driver_->Write([&](Tx& tx) {
            if (tx.Exec(Stmt::kMarkNotificationRead, {std::string_view(id), Ns(at)}).affected == 0) {
                ThrowNotFound("notification", id);
            }
        });
    }

    // --- outbox ---
    Result<int> EnqueueOutbox(const std::vector<OutboxMessage>& messages) override {
        Checker c;
        for (const auto& m : messages)
            CheckOutbox(c, m);
        if (!c.result()) return tl::unexpected(c.result().error());
        int inserted = 0;
        auto r = driver_->Write([&](Tx& tx) {
            inserted = 0;
            for (const auto& m : messages)
                inserted += InsertOutbox(tx, m) ? 1 : 0;
        });
        if (!r) return tl::unexpected(r.error());
        return inserted;
    }

    Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& owner, Timestamp now, Duration lease,
                                               int limit) override {
        Checker c;
        c.Id("owner", owner);
        c.Limit(limit);
        c.That(lease.count() > 0, "lease must be positive");
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<OutboxRow> out;
        auto r = driver_->Write([&](Tx& tx) {
            out.clear();
            for (const auto& row : tx.Exec(Stmt::kClaimOutbox, {std::string_view(owner), Ns(now + lease), Ns(now),
                                                                static_cast<std::int64_t>(limit)})
                                       .rows)
                out.push_back(RowToOutbox(row));
        });
        if (!r) return tl::unexpected(r.error());
        std::sort(out.begin(), out.end(), [](const OutboxRow& a, const OutboxRow& b) {
            return std::tie(a.next_attempt_at, a.message.id) < std::tie(b.next_attempt_at, b.message.id);
        });
        return out;
    }

    Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, Timestamp at) override {
        return driver_->Write([&](Tx& tx) {
            if (tx.Exec(Stmt::kMarkOutboxSent, {std::string_view(id), std::string_view(owner), Ns(at)}).affected == 0) {
                OutboxLeaseLost(tx, id, owner);
            }
        });
    }

    Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner, const std::string& error,
                                  std::optional<Timestamp> retry_at) override {
        Checker c;
        c.Text("delivery error", error);
        if (!c.result()) return c.result();
        return driver_->Write([&](Tx& tx) {
            if (tx.Exec(Stmt::kMarkOutboxFailed,
                        {std::string_view(id), std::string_view(owner), std::string_view(error), OptNs(retry_at)})
                    .affected == 0) {
                OutboxLeaseLost(tx, id, owner);
            }
        });
    }

    Result<std::vector<OutboxRow>> ListDeliveries(std::optional<OutboxStatus> status, int limit) override {
        Checker c;
        c.Limit(limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<OutboxRow> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row :
                 tx.Exec(Stmt::kListDeliveries, {status ? Param(ToString(*status)) : Param(std::monostate{}),
                                                 static_cast<std::int64_t>(limit)})
                     .rows)
                out.push_back(RowToOutbox(row));
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    // --- schedule ---
    Result<std::vector<Instance>> ClaimDueInstances(const std::string& owner, Timestamp now, Duration lease,
                                                    int limit) override {
        Checker c;
        c.Id("owner", owner);
        c.Limit(limit);
        c.That(lease.count() > 0, "lease must be positive");
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<Instance> out;
        const Backend backend = driver_->backend();
        auto r = driver_->Write([&](Tx& tx) {
            out.clear();
            const std::int64_t until = Ns(now + lease);
            const auto claimed =
                tx.Exec(Stmt::kClaimDue, {std::string_view(owner), until, Ns(now), static_cast<std::int64_t>(limit)})
                    .rows;
            if (backend == Backend::kPostgres) {  // the claimed instances, ordered (statements.cpp)
                out.reserve(claimed.size());
                for (const auto& row : claimed)
                    out.push_back(RowToInstance(row));
                return;
            }
            if (claimed.empty()) return;
            auto rows = tx.Exec(Stmt::kClaimedInstances, {std::string_view(owner), until}).rows;
            out.reserve(claimed.size());
            if (rows.size() == claimed.size()) {
                for (const auto& row : rows)
                    out.push_back(RowToInstance(row));
                return;
            }
            // The owner already held leases with the same expiry (an earlier claim at the same
            // `now`): those are not part of this claim.
            std::vector<std::string> ids;
            ids.reserve(claimed.size());
            for (const auto& row : claimed)
                ids.push_back(row.Text(0));
            std::sort(ids.begin(), ids.end());
            for (const auto& row : rows) {
                if (std::binary_search(ids.begin(), ids.end(), row.Text(0))) out.push_back(RowToInstance(row));
            }
        });
        if (!r) return tl::unexpected(r.error());
        return out;  // kClaimedInstances orders them: earliest due first, then by id
    }

    Result<void> ReleaseInstance(const std::string& id, const std::string& owner,
                                 std::optional<Timestamp> next_check_at) override {
        return driver_->Write([&](Tx& tx) {
            // The instance row first, then the lease: the order a claim locks them in (PostgreSQL),
            // so a release and a claim cannot deadlock. A lost lease rolls the update back.
            if (tx.Exec(Stmt::kReleaseInstance, {std::string_view(id), OptNs(next_check_at)}).affected == 0) {
                ThrowNotFound("instance", id);
            }
            if (tx.Exec(Stmt::kReleaseLease, {std::string_view(id), std::string_view(owner)}).affected == 0) {
                throw DbError(ErrorCode::kConflict,
                              fmt::format("worker \"{}\" no longer holds the lease on instance \"{}\" (it expired and "
                                          "another worker may have claimed it): drop this result",
                                          owner, id));
            }
        });
    }

    // --- queries ---
    Result<std::vector<AttentionItem>> ListAttention(const AttentionQuery& q) override {
        Checker c;
        c.Limit(q.limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<AttentionItem> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row :
                 tx.Exec(Stmt::kListAttention, {Ns(q.now - q.stuck_after), static_cast<std::int64_t>(q.limit)}).rows) {
                AttentionItem item;
                item.instance = RowToInstance(row);
                if (!row.IsNull(kInstanceColumns)) item.user = RowToUser(row, kInstanceColumns);
                item.stuck = row.Int(kInstanceColumns + 5) != 0;
                out.push_back(std::move(item));
            }
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    Result<Stats> GetStats() override {
        Stats s;
        auto r = driver_->Read([&](Tx& tx) {
            const auto i = tx.Exec(Stmt::kInstanceStats, {}).rows.at(0);
            s.total_instances = static_cast<int>(i.Int(1));
            s.running_instances = static_cast<int>(i.Int(2));
            s.failed_instances = static_cast<int>(i.Int(3));
            s.pending_instances = static_cast<int>(i.Int(4));
            s.deleted_instances = static_cast<int>(i.Int(5));
            s.attention_instances = static_cast<int>(i.Int(6));
            const auto e = tx.Exec(Stmt::kEventStats, {}).rows.at(0);
            s.deployments_seen = static_cast<int>(e.Int(0));
            s.deployments_finished = static_cast<int>(e.Int(1));
            s.deployments_failed = static_cast<int>(e.Int(2));
            if (!e.IsNull(3)) s.avg_deployment_seconds = e.Real(3) / 1e9;
        });
        if (!r) return tl::unexpected(r.error());
        s.error_rate =
            s.deployments_finished == 0 ? 0.0 : static_cast<double>(s.deployments_failed) / s.deployments_finished;
        return s;
    }

  private:
    /// Reads up to `limit` rows of one instance with `stmt` (parameters: instance id, limit) and
    /// maps each with `to_record`.
    template <typename Record, typename Map>
    Result<std::vector<Record>> ReadPerInstance(Stmt stmt, const std::string& instance_id, int limit, Map to_record) {
        Checker c;
        c.Limit(limit);
        if (!c.result()) return tl::unexpected(c.result().error());
        std::vector<Record> out;
        auto r = driver_->Read([&](Tx& tx) {
            for (const auto& row :
                 tx.Exec(stmt, {std::string_view(instance_id), static_cast<std::int64_t>(limit)}).rows)
                out.push_back(to_record(row));
        });
        if (!r) return tl::unexpected(r.error());
        return out;
    }

    static bool InsertOutbox(Tx& tx, const OutboxMessage& m) {
        const std::array<Param, 6> p = {std::string_view(m.id),
                                        std::string_view(m.channel),
                                        std::string_view(m.dedup_key),
                                        std::string_view(m.payload),
                                        Ns(m.next_attempt_at.value_or(m.created_at)),
                                        Ns(m.created_at)};
        return tx.Exec(Stmt::kInsertOutbox, p).affected > 0;
    }

    [[noreturn]] static void OutboxLeaseLost(Tx& tx, const std::string& id, const std::string& owner) {
        const auto rows = tx.Exec(Stmt::kOutboxExists, {std::string_view(id)}).rows;
        if (rows.empty()) ThrowNotFound("outbox row", id);
        throw DbError(ErrorCode::kConflict,
                      fmt::format("worker \"{}\" does not hold outbox row \"{}\" (status {}; its lease expired and "
                                  "another worker may have it): do not report this attempt",
                                  owner, id, rows.front().Text(0)));
    }

    std::unique_ptr<Driver> driver_;
};

}  // namespace

std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Driver> driver) {
    return std::make_unique<SqlStore>(std::move(driver));
}

}  // namespace railwatch::store::sql
