// Timeline: ApplyTransition (event + instance state + outbox rows, atomically) and ListEvents.

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"

namespace railwatch::store::sql {

using util::Result;

Result<TransitionResult> SqlStore::ApplyTransition(const Transition& t) {
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
    const std::optional<std::string> deployment_id = t.deployment_id;
    auto state_params = StateParams(t.instance_id, t.state, deployment_id);
    if (t.keep_schedule) state_params.pop_back();  // $16, next_check_at: left as stored
    // The instance's class after the event, so that a deployment's verdict stays with it after
    // the instance moves on to another deployment (GET /stats/history's failedByClass).
    const std::optional<std::string> error_type =
        t.state.error_type ? std::optional<std::string>(std::string(core::ToString(*t.state.error_type)))
                           : std::nullopt;
    TransitionResult out;
    auto r = driver_->Write([&](Tx& tx) {
        out = {};
        RequireInstance(tx, t.instance_id);
        const auto inserted =
            tx.Exec(Stmt::kInsertEvent,
                    {std::string_view(t.instance_id), std::string_view(t.deployment_id), OptText(t.from_status),
                     std::string_view(t.to_status), Ns(t.at), std::string_view(t.source), OptText(error_type)});
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
        tx.Exec(t.keep_schedule ? Stmt::kUpdateStateButSchedule : Stmt::kUpdateState, state_params);
        for (const auto& m : t.outbox)
            InsertOutbox(tx, m);
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::vector<TimelineEvent>> SqlStore::ListEvents(const std::string& instance_id, int limit) {
    return ReadPerInstance<TimelineEvent>(*driver_, Stmt::kListEvents, instance_id, limit, RowToEvent);
}

}  // namespace railwatch::store::sql
