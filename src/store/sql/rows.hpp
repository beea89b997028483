#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model.hpp"
#include "store/sql/checks.hpp"
#include "store/sql/database.hpp"
#include "util/result.hpp"

/// Mapping between records and statement parameters / result rows, shared by every role of the
/// SQL store, and the few helpers several roles run inside their transactions. Internal to
/// src/store.
namespace railwatch::store::sql {

/// Nanoseconds since the epoch: how every time is stored.
std::int64_t Ns(Timestamp t);
Param OptNs(const std::optional<Timestamp>& t);
/// Borrows the text: `s` must outlive the statement.
Param OptText(const std::optional<std::string>& s);
Param OptText(std::optional<std::string_view> s);
Param OptInt(const std::optional<int>& v);
/// 0 / 1.
Param Bool(bool b);

/// The 16 values of an instance's state row: the id, then the state with `deployment_id` in
/// place of the state's own, next_check_at last. Borrows the strings.
std::vector<Param> StateParams(const std::string& id, const InstanceState& s,
                               std::optional<std::string_view> deployment_id);
/// Which indexed columns a write of the instance's state must set (SetsIndexed, statements.hpp;
/// the schedule never when `keep_schedule`). On SQLite it reads the stored ones and leaves out
/// those that stay, and throws DbError(kNotFound) for an unknown instance; PostgreSQL compares the
/// values itself (a HOT update when no indexed one changes), where a read would cost a round
/// trip: all, without a read.
/// `stored`: the instance's ReadIndexedState when the caller has read it already (nothing is read
/// again).
unsigned IndexedToSet(Tx& tx, Backend backend, const std::string& id, const InstanceState& s,
                      std::optional<std::string_view> deployment_id, bool keep_schedule, const Row* stored = nullptr);
/// The instance's stored indexed columns: status, deployment_id, next_check_at; then its
/// deployment_status and deployment_updated_at (Stmt::kIndexedState), for writes that compare them.
/// Throws DbError(kNotFound) for an unknown instance.
Row ReadIndexedState(Tx& tx, const std::string& id);
/// Writes the instance's state with `deployment_id` in place of the state's own, setting of the
/// indexed columns those in `sets`. Throws DbError(kNotFound) for an unknown instance.
void UpdateState(Tx& tx, const std::string& id, const InstanceState& s, std::optional<std::string_view> deployment_id,
                 unsigned sets);
/// SQLite, a check's transition: writes the instance's state (status and the unindexed columns)
/// when the instance still follows `deployment_id` and has the state's next_check_at stored, so
/// that no indexed column changes and none needs reading first (Stmt::kUpdateFollowingState).
/// False when it wrote nothing: the instance is unknown, follows another deployment (or none), or
/// has another due time stored.
bool UpdateFollowingState(Tx& tx, const std::string& id, const InstanceState& s, std::string_view deployment_id);
/// Appends UpdateFollowingState's 16 parameters (Stmt::kUpdateFollowingState, one row of
/// Stmt::kUpdateFollowingStates*) to `params`. Borrows the strings.
void AppendFollowingStateParams(std::vector<Param>& params, const std::string& id, const InstanceState& s,
                                std::string_view deployment_id);
/// The 25 parameters of Stmt::kInsertInstance. Borrows the strings.
std::vector<Param> InstanceParams(const Instance& i);

/// An instance row (kInstanceColumns columns from `o`, statements.hpp). Throws DbError for a
/// status railwatch does not know.
Instance RowToInstance(const Row& r, std::size_t o = 0);
/// The same, moving the row's strings into the instance (the row is not read again).
Instance RowToInstance(Row&& r, std::size_t o = 0);
/// A user row (5 columns from `o`).
User RowToUser(const Row& r, std::size_t o = 0);
TimelineEvent RowToEvent(const Row& r);
OutboxRow RowToOutbox(const Row& r);
Notification RowToNotification(const Row& r);
HealthCheck RowToHealth(const Row& r);
LogLine RowToLogLine(const Row& r);

/// Throws DbError(kNotFound) naming what and which id.
[[noreturn]] void ThrowNotFound(std::string_view what, std::string_view id);
/// Throws DbError(kNotFound) unless the instance exists (deleted ones count).
void RequireInstance(Tx& tx, const std::string& id);
/// Inserts an outbox row unless its dedup_key (or id) exists; true when it was new.
bool InsertOutbox(Tx& tx, const OutboxMessage& m);

/// Builds a PostgreSQL array literal (`{"a","b"}`, `{1,NULL}`) to bind as one text parameter
/// cast to an array type (`$1::text[]`): how the set-based statements receive a whole batch in
/// one round trip. Not thread-safe.
class PgArray {
  public:
    void Add(std::string_view text);
    void Add(std::int64_t value);
    void AddNull();
    /// The literal; the builder is empty again afterwards.
    std::string Take();

  private:
    void Separator();
    std::string text_ = "{";
};

/// Reads up to `limit` rows of one instance with `stmt` (parameters: instance id, limit) and
/// maps each with `to_record`. kInvalidArgument for a limit outside 1..kMaxLimit.
template <typename Record, typename Map>
util::Result<std::vector<Record>> ReadPerInstance(Driver& driver, Stmt stmt, const std::string& instance_id, int limit,
                                                  Map to_record) {
    Checker c;
    c.Limit(limit);
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<Record> out;
    auto r = driver.Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(stmt, {std::string_view(instance_id), static_cast<std::int64_t>(limit)}).rows)
            out.push_back(to_record(row));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
