// Timeline: ApplyTransition (event + instance state + outbox rows, atomically), ListEvents, and
// Railway's steps of recent deployments (SaveSteps, ListSteps).

#include <algorithm>
#include <numeric>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

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

// Appends the seven values of the transition's event (Stmt::kInsertEvent; a row of
// Stmt::kInsertEvents*).
void AppendEventParams(std::vector<Param>& params, const PreparedTransition& p) {
    const Transition& t = *p.t;
    params.insert(params.end(),
                  {std::string_view(t.instance_id), std::string_view(t.deployment_id), OptText(t.from_status),
                   std::string_view(t.to_status), Ns(t.at), std::string_view(t.source), OptText(p.error_type)});
}

// Inserts the event; its id, or nothing when it was recorded before.
std::optional<std::int64_t> InsertEvent(Tx& tx, const PreparedTransition& p) {
    std::vector<Param> params;
    params.reserve(7);
    AppendEventParams(params, p);
    const auto inserted = tx.Exec(Stmt::kInsertEvent, params);
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

// Whether the instance (read: ReadIndexedState) follows the transition's deployment, and for a
// transition only_if_unchanged, still shows the status it was decided from.
bool Follows(const Row& stored, const Transition& t) {
    if (stored.OptText(1) != std::optional<std::string_view>(t.deployment_id)) return false;
    return !t.only_if_unchanged || stored.OptText(3) == std::optional<std::string_view>(t.from_status);
}

// A check's transition that SQLite writes in one statement (WriteFollowingTransition), alone or
// with the poll's others (WriteFollowingTransitions).
bool WrittenWithoutARead(const Transition& t) {
    return t.only_if_following && !t.only_if_unchanged && !t.keep_schedule;
}

// The steps of a check's transition (only_if_following) on SQLite that its one-by-one write
// (WriteFollowingTransition) and a poll's multi-row write (WriteFollowingTransitions) share.

// A check's answer (only_if_following) recorded before, about the deployment the instance follows:
// when the row shows another status and is older than the answer (Railway's updatedAt), a write
// from an older copy of the row overwrote it after the answer was first recorded; the answer's
// state is written again, or every later check would find it recorded and the row stay wrong.
void MendOverwritten(Tx& tx, Backend backend, const Transition& t, const Row& stored) {
    if (!t.only_if_following || !t.state.deployment_updated_at) return;
    if (stored.OptText(3) == std::optional<std::string_view>(t.state.deployment_status)) return;
    if (const auto row_updated = stored.OptInt(4); row_updated && *row_updated >= Ns(*t.state.deployment_updated_at))
        return;
    UpdateState(tx, t.instance_id, t.state, t.deployment_id,
                IndexedToSet(tx, backend, t.instance_id, t.state, t.deployment_id, t.keep_schedule, &stored));
}

// Its event was recorded before: out names that event, or says superseded when the instance
// follows another deployment now. Nothing changes, unless the row needs mending (MendOverwritten).
void EndRecordedBefore(Tx& tx, Backend backend, PreparedTransition& p, std::optional<Row> stored = std::nullopt) {
    if (!stored) stored = ReadIndexedState(tx, p.t->instance_id);
    if (!Follows(*stored, *p.t)) {
        p.out.superseded = true;
        return;
    }
    MendOverwritten(tx, backend, *p.t, *stored);
    FindEvent(tx, p);
}

// Its state, after UpdateFollowingState wrote nothing (another due time stored, or another
// deployment followed): read the indexed columns and write it as WriteTransition would, unless the
// instance follows another deployment now. Whether it wrote.
bool UpdateStateReadFirst(Tx& tx, const Transition& t) {
    const Row stored = ReadIndexedState(tx, t.instance_id);
    if (!Follows(stored, t)) return false;
    UpdateState(tx, t.instance_id, t.state, t.deployment_id,
                IndexedToSet(tx, Backend::kSqlite, t.instance_id, t.state, t.deployment_id, t.keep_schedule, &stored));
    return true;
}

// Its event was inserted but the instance follows another deployment: the event goes again and
// nothing else is written.
void EndSuperseded(Tx& tx, PreparedTransition& p, std::int64_t event_id) {
    tx.Exec(Stmt::kDeleteEvent, {event_id});
    p.out.superseded = true;
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
        EndRecordedBefore(tx, Backend::kSqlite, p);
        return;
    }
    const bool written = WriteStateAndOutbox(tx, Backend::kSqlite, p, [&] {
        return UpdateFollowingState(tx, t.instance_id, t.state, t.deployment_id) || UpdateStateReadFirst(tx, t);
    });
    if (!written) {
        EndSuperseded(tx, p, *event_id);
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
    if (backend == Backend::kSqlite && WrittenWithoutARead(t)) {
        WriteFollowingTransition(tx, p);
        return;
    }
    // Before the event row: an unknown instance is kNotFound (read here for the follow check,
    // else by IndexedToSet on SQLite; the indexed columns are read once for both).
    std::optional<Row> stored;
    if (t.only_if_following || t.only_if_unchanged) {
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
        if (stored) return EndRecordedBefore(tx, backend, p, std::move(stored));
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

// The transitions of a group by instance id (every instance once in a group).
class ByInstance {
  public:
    explicit ByInstance(std::span<PreparedTransition* const> group) {
        index_.reserve(group.size());
        for (std::size_t j = 0; j < group.size(); ++j)
            index_.emplace_back(group[j]->t->instance_id, j);
        std::sort(index_.begin(), index_.end());
    }
    // The place in the group of the transition of instance `id`, if any.
    std::optional<std::size_t> Find(std::string_view id) const {
        const auto at = std::lower_bound(index_.begin(), index_.end(), std::pair(id, std::size_t{0}));
        if (at == index_.end() || at->first != id) return std::nullopt;
        return at->second;
    }

  private:
    std::vector<std::pair<std::string_view, std::size_t>> index_;
};

// SQLite: the check transitions of a poll (only_if_following, without keep_schedule; every
// instance once) written as WriteFollowingTransition writes each, in a few statements instead of
// six per transition (a statement's own cost was about a third of SQLite's work per transition,
// docs/PERFORMANCE.md): the events in one multi-row INSERT per chunk of up to
// kMaxRowsPerStatement, the states in one multi-row UPDATE per chunk, the change feed read once
// for the positions. Each transition ends as WriteFollowingTransition would end it alone: an event
// recorded before is found (or superseded), a state the multi-row UPDATE did not write (another
// due time stored, another deployment followed) goes WriteFollowingTransition's read way, and an
// event of a deployment the instance no longer follows is deleted again. An unknown instance fails
// the event INSERT and with it the whole group (the caller then writes each alone).
void WriteFollowingTransitions(Tx& tx, std::span<PreparedTransition* const> group) {
    const ByInstance by_instance(group);
    std::vector<Param> params;
    // Runs the `form` (InsertEventsStmt or UpdateFollowingStatesStmt) for the transitions at
    // `places` in the group, chunk by chunk; `append` adds one transition's values, `returned`
    // is given each row the statements return.
    const auto in_chunks = [&](const std::vector<std::size_t>& places, Stmt (*form)(std::size_t), std::size_t width,
                               auto&& append, auto&& returned) {
        for (std::size_t begin = 0; begin < places.size();) {
            const std::size_t rows = RowsPerStatement(places.size() - begin);
            params.clear();
            params.reserve(rows * width);
            for (std::size_t k = begin; k < begin + rows; ++k)
                append(*group[places[k]]);
            for (const Row& row : tx.Exec(form(rows), params).rows)
                returned(row);
            begin += rows;
        }
    };
    std::vector<std::size_t> all(group.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    std::vector<std::int64_t> event_ids(group.size(), 0);  // 0: recorded before (ids start at 1)
    in_chunks(
        all, InsertEventsStmt, 7, [&](const PreparedTransition& p) { AppendEventParams(params, p); },
        [&](const Row& row) {
            if (const auto j = by_instance.Find(row.Text(1))) event_ids[*j] = row.Int(0);
        });
    std::vector<std::size_t> inserted;
    inserted.reserve(group.size());
    for (std::size_t j = 0; j < group.size(); ++j) {
        if (event_ids[j] != 0) {
            inserted.push_back(j);
        } else {
            EndRecordedBefore(tx, Backend::kSqlite, *group[j]);
        }
    }
    const std::int64_t last_before = tx.Exec(Stmt::kFeedLast, {}).rows.at(0).OptInt(0).value_or(-1);
    std::vector<char> written(group.size(), 0);
    in_chunks(
        inserted, UpdateFollowingStatesStmt, 16,
        [&](const PreparedTransition& p) {
            AppendFollowingStateParams(params, p.t->instance_id, p.t->state, p.t->deployment_id);
        },
        [&](const Row& row) {
            if (const auto j = by_instance.Find(row.Text(0))) written[*j] = 1;
        });
    for (const std::size_t j : inserted) {
        PreparedTransition& p = *group[j];
        if (!written[j]) {
            if (!UpdateStateReadFirst(tx, *p.t)) {
                EndSuperseded(tx, p, event_ids[j]);
                continue;
            }
            written[j] = 1;
        }
        p.out.applied = true;
        p.out.event_id = event_ids[j];
        for (const auto& m : p.t->outbox)
            InsertOutbox(tx, m);
    }
    // Each state written appended at most one change to the feed (its trigger), and nothing else
    // wrote instances since last_before: a change there is that write's (one more would make it
    // ambiguous, and it gets none, as WriteStateAndOutbox gives none).
    if (last_before < 0) return;
    std::vector<std::int64_t> positions(group.size(), -1);  // -2: more than one
    for (const Row& row : tx.Exec(Stmt::kFeedSince, {last_before}).rows) {
        const auto j = by_instance.Find(row.Text(1));
        if (j && written[*j]) positions[*j] = positions[*j] == -1 ? row.Int(0) : -2;
    }
    for (std::size_t j = 0; j < group.size(); ++j) {
        if (positions[j] >= 0) group[j]->out.change_position = positions[j];
    }
}

}  // namespace

Result<TransitionResult> SqlStore::ApplyTransition(const Transition& t) {
    return std::move(ApplyTransitions(std::span(&t, 1)).front());
}

std::vector<Result<TransitionResult>> SqlStore::ApplyTransitions(std::span<const Transition> transitions) {
    std::vector<Result<TransitionResult>> results(transitions.size());
    std::vector<PreparedTransition> prepared(transitions.size());
    std::vector<std::size_t> checked;  // the transitions to write, in the order given
    checked.reserve(transitions.size());
    for (std::size_t i = 0; i < transitions.size(); ++i) {
        if (auto check = CheckTransition(transitions[i]); !check) {
            results[i] = tl::unexpected(check.error());
            continue;
        }
        Prepare(transitions[i], prepared[i]);
        checked.push_back(i);
    }
    const Backend backend = driver_->backend();
    // SQLite: the check transitions of instances no transition before them concerns are written
    // together (WriteFollowingTransitions), in a write of their own before the others, so that each
    // instance's transitions still come in the order given. Should that write fail (an unknown
    // instance among them, a database error), each is written alone with the others, and gets its
    // own outcome.
    std::vector<std::size_t> together;
    std::vector<std::size_t> alone;
    if (backend == Backend::kSqlite) {
        std::unordered_set<std::string_view> seen;
        for (const std::size_t i : checked) {
            const Transition& t = transitions[i];
            const bool first = seen.insert(t.instance_id).second;
            (first && WrittenWithoutARead(t) ? together : alone).push_back(i);
        }
        if (together.size() < 2) together.clear();
    }
    if (together.empty()) {
        alone = checked;
    } else {
        std::vector<PreparedTransition*> group;
        group.reserve(together.size());
        for (const std::size_t i : together)
            group.push_back(&prepared[i]);
        if (driver_->Write([&group](Tx& tx) { WriteFollowingTransitions(tx, group); })) {
            for (const std::size_t i : together)
                results[i] = prepared[i].out;
        } else {
            alone.insert(alone.end(), together.begin(), together.end());
            std::sort(alone.begin(), alone.end());
        }
    }
    if (alone.empty()) return results;
    std::vector<std::function<void(Tx&)>> works;
    works.reserve(alone.size());
    for (const std::size_t i : alone)
        works.emplace_back([&p = prepared[i], backend](Tx& tx) { WriteTransition(tx, backend, p); });
    auto done = driver_->WriteEach(works);
    for (std::size_t k = 0; k < alone.size(); ++k) {
        const std::size_t i = alone[k];
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

Result<void> SqlStore::SaveSteps(const std::string& instance_id, const std::string& deployment_id,
                                 std::span<const DeploymentStepRecord> steps, Timestamp at) {
    Checker c;
    c.Id("instance_id", instance_id);
    c.Id("deployment_id", deployment_id);
    for (const DeploymentStepRecord& step : steps) {
        c.Id("step", step.step);
        c.Text("error", step.error);
    }
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        RequireInstance(tx, instance_id);
        const Param instance = std::string_view(instance_id);
        const Param deployment = std::string_view(deployment_id);
        tx.Exec(Stmt::kDeleteSteps, {instance, deployment});
        std::int64_t seq = 0;
        for (const DeploymentStepRecord& step : steps) {
            tx.Exec(Stmt::kInsertStep,
                    {instance, deployment, seq++, std::string_view(step.step), OptNs(step.created_at),
                     OptNs(step.completed_at), std::string_view(step.error), Ns(at)});
        }
        tx.Exec(Stmt::kTrimSteps, {instance, static_cast<std::int64_t>(Timeline::kStepDeploymentsKept)});
    });
}

Result<std::vector<DeploymentStepRecord>> SqlStore::ListSteps(const std::string& instance_id) {
    std::vector<DeploymentStepRecord> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (const auto& row : tx.Exec(Stmt::kListSteps, {std::string_view(instance_id)}).rows)
            out.push_back(DeploymentStepRecord{row.Text(0), row.Text(1), row.OptTime(2), row.OptTime(3), row.Text(4)});
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

}  // namespace railwatch::store::sql
