#include "store/sql/rows.hpp"

#include <fmt/format.h>

#include <array>
#include <type_traits>

namespace railwatch::store::sql {

using util::ErrorCode;

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

Param OptText(std::optional<std::string_view> s) {
    if (!s) return std::monostate{};
    return *s;
}

Param OptInt(const std::optional<int>& v) {
    if (!v) return std::monostate{};
    return static_cast<std::int64_t>(*v);
}

Param Bool(bool b) {
    return static_cast<std::int64_t>(b ? 1 : 0);
}

std::vector<Param> StateParams(const std::string& id, const InstanceState& s,
                               std::optional<std::string_view> deployment_id) {
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

Row ReadIndexedState(Tx& tx, const std::string& id) {
    auto stored = tx.Exec(Stmt::kIndexedState, {std::string_view(id)});
    if (stored.rows.empty()) ThrowNotFound("instance", id);
    return std::move(stored.rows.front());
}

unsigned IndexedToSet(Tx& tx, Backend backend, const std::string& id, const InstanceState& s,
                      std::optional<std::string_view> deployment_id, bool keep_schedule, const Row* stored) {
    unsigned sets = kSetsAll & ~(keep_schedule ? unsigned{kSetsNextCheck} : 0U);
    if (backend != Backend::kSqlite) return sets;
    std::optional<Row> read;
    if (stored == nullptr) stored = &read.emplace(ReadIndexedState(tx, id));
    const Row& r = *stored;
    if (r.Text(0) == core::ToString(s.status)) sets &= ~unsigned{kSetsStatus};
    if (r.OptText(1) == deployment_id) sets &= ~unsigned{kSetsDeploymentId};
    const bool same_next = s.next_check_at ? !r.IsNull(2) && r.Int(2) == Ns(*s.next_check_at) : r.IsNull(2);
    if (same_next) sets &= ~unsigned{kSetsNextCheck};
    return sets;
}

void UpdateState(Tx& tx, const std::string& id, const InstanceState& s, std::optional<std::string_view> deployment_id,
                 unsigned sets) {
    const std::vector<Param> all = StateParams(id, s, deployment_id);
    std::vector<Param> params{all.front()};  // $1, the id
    params.reserve(all.size());
    for (std::size_t i = 1; i < all.size(); ++i) {
        if (UpdateStateSets(sets, i - 1)) params.push_back(all[i]);
    }
    if (tx.Exec(UpdateStateStmt(sets), params).affected == 0) ThrowNotFound("instance", id);
}

void AppendFollowingStateParams(std::vector<Param>& params, const std::string& id, const InstanceState& s,
                                std::string_view deployment_id) {
    const std::vector<Param> all = StateParams(id, s, deployment_id);
    params.push_back(all.front());  // $1, the id
    for (std::size_t i = 1; i < all.size(); ++i) {
        if (UpdateStateSets(kSetsStatus, i - 1)) params.push_back(all[i]);
    }
    params.emplace_back(deployment_id);
    params.push_back(all.back());  // next_check_at
}

bool UpdateFollowingState(Tx& tx, const std::string& id, const InstanceState& s, std::string_view deployment_id) {
    std::vector<Param> params;
    params.reserve(16);
    AppendFollowingStateParams(params, id, s, deployment_id);
    return tx.Exec(Stmt::kUpdateFollowingState, params).affected > 0;
}

std::vector<Param> InstanceParams(const Instance& i) {
    const auto& s = i.state;
    return {
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
        static_cast<std::int64_t>(i.check_interval_s.value_or(0)),  // 0: none (migration 15)
        OptNs(s.next_check_at),
        Ns(i.created_at),
        OptNs(s.deployment_started_at),
        OptNs(s.deployment_updated_at),
        OptNs(s.deployment_completed_at),
        OptNs(i.deleted_at),
    };
}

namespace {

// RowToInstance for a row read as it is (const) or taken apart (its strings moved out).
template <typename R>
Instance ToInstance(R& r, std::size_t o) {
    constexpr bool kTake = !std::is_const_v<R>;
    const auto text = [&r](std::size_t i) {
        if constexpr (kTake) {
            return r.TakeText(i);
        } else {
            return r.Text(i);
        }
    };
    const auto opt_text = [&r](std::size_t i) {
        if constexpr (kTake) {
            return r.TakeOptText(i);
        } else {
            return r.OptText(i);
        }
    };
    Instance i;
    i.id = text(o + 0);
    i.user_id = opt_text(o + 1);
    i.project_name = opt_text(o + 2);
    i.project_id = opt_text(o + 3);
    i.service_id = text(o + 4);
    i.environment_id = text(o + 5);
    auto& s = i.state;
    s.deployment_id = opt_text(o + 6);
    const auto status = text(o + 7);
    const auto parsed = core::ParseInstanceStatus(status);
    if (!parsed) throw DbError(ErrorCode::kInternal, "instance " + i.id + " has unknown status \"" + status + "\"");
    s.status = *parsed;
    s.deployment_status = opt_text(o + 8);
    s.progress = static_cast<int>(r.Int(o + 9));
    s.health = opt_text(o + 10);
    if (const auto et = opt_text(o + 11)) {
        s.error_type = core::ParseErrorClass(*et).value_or(core::ErrorClass::kUnknown);
    }
    s.error_message = opt_text(o + 12);
    s.error_stack = opt_text(o + 13);
    s.retry_count = static_cast<int>(r.Int(o + 14));
    s.needs_attention = r.Int(o + 15) != 0;
    s.attention_reason = opt_text(o + 16);
    i.monitoring = r.Int(o + 17) != 0;
    if (const std::int64_t interval_s = r.Int(o + 18); interval_s > 0)
        i.check_interval_s = static_cast<int>(interval_s);
    s.next_check_at = r.OptTime(o + 19);
    i.lease_owner = opt_text(o + 20);
    i.lease_until = r.OptTime(o + 21);
    i.created_at = r.Time(o + 22);
    s.deployment_started_at = r.OptTime(o + 23);
    s.deployment_updated_at = r.OptTime(o + 24);
    s.deployment_completed_at = r.OptTime(o + 25);
    i.deleted_at = r.OptTime(o + 26);
    return i;
}

}  // namespace

Instance RowToInstance(const Row& r, std::size_t o) {
    return ToInstance(r, o);
}

Instance RowToInstance(Row&& r, std::size_t o) {
    return ToInstance(r, o);
}

User RowToUser(const Row& r, std::size_t o) {
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

LogLine RowToLogLine(const Row& r) {
    LogLine l;
    l.instance_id = r.Text(0);
    l.deployment_id = r.Text(1);
    l.kind = ParseLogKind(r.Text(2)).value_or(LogKind::kDeploy);
    l.timestamp = r.Time(3);
    l.severity = r.Text(4);
    l.message = r.Text(5);
    return l;
}

void ThrowNotFound(std::string_view what, std::string_view id) {
    throw DbError(ErrorCode::kNotFound, fmt::format("no {} with id \"{}\"", what, id));
}

void RequireInstance(Tx& tx, const std::string& id) {
    if (tx.Exec(Stmt::kInstanceExists, {std::string_view(id)}).rows.empty()) ThrowNotFound("instance", id);
}

bool InsertOutbox(Tx& tx, const OutboxMessage& m) {
    const std::array<Param, 6> p = {std::string_view(m.id),
                                    std::string_view(m.channel),
                                    std::string_view(m.dedup_key),
                                    std::string_view(m.payload),
                                    Ns(m.next_attempt_at.value_or(m.created_at)),
                                    Ns(m.created_at)};
    return tx.Exec(Stmt::kInsertOutbox, p).affected > 0;
}

void PgArray::Separator() {
    if (text_.size() > 1) text_ += ',';
}

void PgArray::Add(std::string_view text) {
    Separator();
    text_ += '"';
    for (const char c : text) {
        if (c == '"' || c == '\\') text_ += '\\';
        text_ += c;
    }
    text_ += '"';
}

void PgArray::Add(std::int64_t value) {
    Separator();
    text_ += std::to_string(value);
}

void PgArray::AddNull() {
    Separator();
    text_ += "NULL";
}

std::string PgArray::Take() {
    text_.push_back('}');
    std::string out;
    out.swap(text_);
    text_.assign(1, '{');
    return out;
}

}  // namespace railwatch::store::sql
