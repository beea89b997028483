// Timeline: ApplyTransition (event + instance state + outbox rows, atomically) and ListEvents.

#include <optional>
#include <span>
#include <utility>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

namespace {

// One checked transition with the value its write needs beside it, and what the write did
// (`out`, filled by WriteTransition). Borrows the transition.
struct PreparedTransition {
    const Transition* t = nullptr;
    std::optional<std::string> error_type;
    TransitionResult out;
};

// The transition's input errors (kInvalidArgument), or nothing.
util::Result<void> CheckTransition(const Transition& t) {
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
    return c.result();
}

void Prepare(const Transition& t, PreparedTransition& p) {
    p.t = &t;
    // The instance's class after the event, so that a deployment's verdict stays with it after
    // the instance moves on to another deployment (GET /stats/history's failedByClass).
    p.error_type = t.state.error_type ? std::optional<std::string>(std::string(core::ToString(*t.state.error_type)))
                                      : std::nullopt;
}

// Inserts the event; its id, or nothing when it was recorded before.
std::optional<std::int64_t> InsertEvent(Tx& tx, const PreparedTransition& p) {
    const Transition& t = *p.t;
    const auto inserted =
        tx.Exec(Stmt::kInsertEvent,
                {std::string_view(t.instance_id), std::string_view(t.deployment_id), OptText(t.from_status),
                 std::string_view(t.to_status), Ns(t.at), std::string_view(t.source), OptText(p.error_type)});
    if (inserted.rows.empty()) return std::nullopt;
    return inserted.rows.front().Int(0);
}

// The event recorded before: out.event_id names it.
void FindEvent(Tx& tx, PreparedTransition& p) {
    const Transition& t = *p.t;
    const auto found = tx.Exec(Stmt::kFindEvent, {std::string_view(t.instance_id), std::string_view(t.deployment_id),
                                                  std::string_view(t.to_status), Ns(t.at)});
    if (!found.rows.empty()) p.out.event_id = found.rows.front().Int(0);
}

// Whether the instance (read: ReadIndexedState) follows the transition's deployment.
bool Follows(const Row& stored, const Transition& t) {
    return stored.OptText(1) == std::optional<std::string_view>(t.deployment_id);
}

// The state update and the outbox rows of a transition whose event was just inserted. SQLite: the
// feed's last position before and after the update; one more means its trigger appended this
// change there (TransitionResult::change_position). (-1: none; not an optional, which GCC 12
// misreads here as maybe uninitialized.) `update` writes the state and says whether it did.
template <typename Update>
bool WriteStateAndOutbox(Tx& tx, Backend backend, PreparedTransition& p, Update&& update) {
    const std::int64_t last_before =
        backend == Backend::kSqlite ? tx.Exec(Stmt::kFeedLast, {}).rows.at(0).OptInt(0).value_or(-1) : -1;
    if (!update()) return false;
    if (last_before >= 0) {
        const std::int64_t last_after = tx.Exec(Stmt::kFeedLast, {}).rows.at(0).OptInt(0).value_or(-1);
        if (last_after == last_before + 1) p.out.change_position = last_after;
    }
    for (const auto& m : p.t->outbox)
        InsertOutbox(tx, m);
    return true;
}

// SQLite, a check's transition (only_if_following): the event first, then the state in one
// statement that also checks the instance still follows the deployment and keeps its stored due
// time (the engine's kept instances: UpdateFollowingState), so that nothing is read first. When
// that statement writes nothing (another deployment followed, another due time stored, or no such
// instance) the write goes the way of WriteTransition's read, and an event of a deployment the
// instance no longer follows is deleted again: the outcome is the same.
void WriteFollowingTransition(Tx& tx, PreparedTransition& p) {
    const Transition& t = *p.t;
    std::optional<std::int64_t> event_id;
    try {
        event_id = InsertEvent(tx, p);
    } catch (const DbError&) {
        ReadIndexedState(tx, t.instance_id);  // an unknown instance: kNotFound (its event's foreign key failed)
        throw;
    }
    if (!event_id) {
        if (!Follows(ReadIndexedState(tx, t.instance_id), t)) {
            p.out.superseded = true;
            return;
        }
        FindEvent(tx, p);
        return;
    }
    const bool written = WriteStateAndOutbox(tx, Backend::kSqlite, p, [&] {
        if (UpdateFollowingState(tx, t.instance_id, t.state, t.deployment_id)) return true;
        const Row stored = ReadIndexedState(tx, t.instance_id);
        if (!Follows(stored, t)) return false;
        UpdateState(
            tx, t.instance_id, t.state, t.deployment_id,
            IndexedToSet(tx, Backend::kSqlite, t.instance_id, t.state, t.deployment_id, t.keep_schedule, &stored));
        return true;
    });
    if (!written) {
        tx.Exec(Stmt::kDeleteEvent, {*event_id});
        p.out.superseded = true;
        return;
    }
    p.out.applied = true;
    p.out.event_id = *event_id;
}

// The event, the instance's new state and the outbox rows; an event recorded before changes
// nothing (out.applied stays false, with the earlier event's id).
void WriteTransition(Tx& tx, Backend backend, PreparedTransition& p) {
    const Transition& t = *p.t;
    p.out = {};
    if (t.only_if_following && backend == Backend::kSqlite && !t.keep_schedule) {
        WriteFollowingTransition(tx, p);
        return;
    }
    // Before the event row: an unknown instance is kNotFound (read here for the follow check,
    // else by IndexedToSet on SQLite; the indexed columns are read once for both).
    std::optional<Row> stored;
    if (t.only_if_following) {
        stored = ReadIndexedState(tx, t.instance_id);
        // An answer about a deployment the instance no longer follows changes nothing.
        if (!Follows(*stored, t)) {
            p.out.superseded = true;
            return;
        }
    } else if (backend != Backend::kSqlite) {
        RequireInstance(tx, t.instance_id);
    }
    const unsigned sets = IndexedToSet(tx, backend, t.instance_id, t.state, t.deployment_id, t.keep_schedule,
                                       stored ? &*stored : nullptr);
    const auto event_id = InsertEvent(tx, p);
    if (!event_id) {
        FindEvent(tx, p);
        return;
    }
    p.out.applied = true;
    p.out.event_id = *event_id;
    WriteStateAndOutbox(tx, backend, p, [&] {
        UpdateState(tx, t.instance_id, t.state, t.deployment_id, sets);
        return true;
    });
}

}  // namespace

Result<TransitionResult> SqlStore::ApplyTransition(const Transition& t) {
    return std::move(ApplyTransitions(std::span(&t, 1)).front());
}

std::vector<Result<TransitionResult>> SqlStore::ApplyTransitions(std::span<const Transition> transitions) {
    std::vector<Result<TransitionResult>> results(transitions.size());
    std::vector<PreparedTransition> prepared(transitions.size());
    std::vector<std::function<void(Tx&)>> works;
    std::vector<std::size_t> written;  // the index of each work's transition
    works.reserve(transitions.size());
    written.reserve(transitions.size());
    for (std::size_t i = 0; i < transitions.size(); ++i) {
        if (auto checked = CheckTransition(transitions[i]); !checked) {
            results[i] = tl::unexpected(checked.error());
            continue;
        }
        PreparedTransition& p = prepared[i];
        Prepare(transitions[i], p);
        works.emplace_back([&p, backend = driver_->backend()](Tx& tx) { WriteTransition(tx, backend, p); });
        written.push_back(i);
    }
    auto done = driver_->WriteEach(works);
    for (std::size_t k = 0; k < written.size(); ++k) {
        const std::size_t i = written[k];
        if (done[k]) {
            results[i] = prepared[i].out;
        } else {
            results[i] = tl::unexpected(done[k].error());
        }
    }
    return results;
}

Result<std::vector<TimelineEvent>> SqlStore::ListEvents(const std::string& instance_id, int limit) {
    return ReadPerInstance<TimelineEvent>(*driver_, Stmt::kListEvents, instance_id, limit, RowToEvent);
}

}  // namespace railwatch::store::sql
