#include "notify/reminders.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "notify/payload.hpp"
#include "store/instances.hpp"
#include "store/outbox.hpp"
#include "store/users.hpp"
#include "util/thread_name.hpp"

namespace railwatch::notify {

util::Result<std::vector<store::OutboxRow>> StoreReminderSource::RowsCreatedSince(core::Timestamp since) {
    std::vector<store::OutboxRow> rows;
    store::DeliveryQuery query;
    query.limit = 500;
    while (true) {
        auto page = outbox_.ListDeliveries(query);
        if (!page) return tl::unexpected(page.error());
        for (store::OutboxRow& row : page->items) {
            // Newest first: the first row older than `since` ends the window.
            if (row.message.created_at < since) return rows;
            rows.push_back(std::move(row));
        }
        if (page->next_cursor.empty()) return rows;
        query.cursor = std::move(page->next_cursor);
    }
}

util::Result<std::optional<ReminderSubject>> StoreReminderSource::Subject(const std::string& instance_id) {
    auto instance = instances_.GetInstance(instance_id);
    if (!instance) {
        if (instance.error().code == util::ErrorCode::kNotFound) return std::optional<ReminderSubject>{};
        return tl::unexpected(instance.error());
    }
    ReminderSubject subject;
    subject.problem.watched =
        instance->monitoring && !instance->deleted_at && instance->state.status != core::InstanceStatus::kDeleted;
    subject.problem.deployment_id = instance->state.deployment_id;
    subject.problem.status = instance->state.status;
    subject.problem.needs_attention = instance->state.needs_attention;
    if (instance->user_id) {
        auto user = users_.GetUser(*instance->user_id);
        if (user) {
            subject.user = core::NotifyUser{user->id, user->email, user->name};
        } else if (user.error().code != util::ErrorCode::kNotFound) {
            return tl::unexpected(user.error());
        }
    }
    return std::optional<ReminderSubject>(std::move(subject));
}

ReminderSweep::ReminderSweep(const OutboxPlanner& planner, core::ReminderPolicy policy, ReminderSource& source,
                             OutboxStore& outbox, const util::Clock& clock)
    : planner_(planner), policy_(std::move(policy)), source_(source), outbox_(outbox), clock_(clock) {}

ReminderSweep::~ReminderSweep() {
    Stop();
}

bool ReminderSweep::enabled() const {
    return policy_.repeat_every > core::Duration::zero() && policy_.max_reminders > 0;
}

core::Duration ReminderSweep::period() const {
    return std::clamp<core::Duration>(policy_.repeat_every / 4, core::Seconds(1), core::Seconds(60));
}

core::Duration ReminderSweep::window() const {
    return policy_.repeat_every * (policy_.max_reminders + 1);
}

util::Result<int> ReminderSweep::RunOnce() {
    if (!enabled()) return 0;
    const core::Timestamp now = clock_.Now();
    const auto fail = [this](const util::Error& error) -> util::Result<int> {
        std::lock_guard lock(mutex_);
        ++stats_.failed_sweeps;
        stats_.last_error = error.message;
        return tl::unexpected(error);
    };
    auto rows = source_.RowsCreatedSince(now - window());
    if (!rows) return fail(rows.error());

    // One first notice per event: every row of an event carries the same event.
    std::set<std::string> seen;
    std::vector<core::NotifyEvent> firsts;
    for (const store::OutboxRow& row : *rows) {
        auto payload = DecodePayload(row.message.payload);
        // A payload this version cannot read is the dispatcher's to report, not the sweep's.
        if (!payload) continue;
        core::NotifyEvent& event = payload->event;
        if (event.reminder != 0 || event.instance_id.empty()) continue;
        if (core::DueReminder(policy_, event.type, event.at, now) == 0) continue;
        if (!seen.insert(event.id).second) continue;
        firsts.push_back(std::move(event));
    }

    std::map<std::string, std::optional<ReminderSubject>> subjects;  // by instance, read once a pass
    int added = 0;
    for (core::NotifyEvent& event : firsts) {
        auto it = subjects.find(event.instance_id);
        if (it == subjects.end()) {
            auto subject = source_.Subject(event.instance_id);
            if (!subject) return fail(subject.error());
            it = subjects.emplace(event.instance_id, std::move(*subject)).first;
        }
        if (!it->second) continue;  // the instance is gone from the store
        auto reminder = core::PlanReminder(policy_, event, it->second->problem, now);
        if (!reminder) continue;
        reminder->user = it->second->user;
        const PlannedOutbox planned = planner_.Plan(*reminder, now);
        if (planned.messages.empty()) continue;
        auto stored = outbox_.EnqueueOutbox(planned.messages);
        if (!stored) return fail(stored.error());
        added += *stored;
    }
    std::lock_guard lock(mutex_);
    ++stats_.sweeps;
    stats_.reminders += static_cast<std::uint64_t>(added);
    return added;
}

void ReminderSweep::Start(std::function<void()> on_new_rows) {
    if (!enabled() || thread_.joinable()) return;
    on_new_rows_ = std::move(on_new_rows);
    thread_ = std::thread([this] { Loop(); });
}

void ReminderSweep::Stop() {
    wakeup_.Stop();
    if (thread_.joinable()) thread_.join();
}

ReminderStats ReminderSweep::Stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void ReminderSweep::Loop() {
    util::NameThisThread("rw-reminders");
    while (clock_.WaitFor(period(), wakeup_) != util::WakeReason::kStopped) {
        // A failed pass is counted in Stats; the next one looks at the same window again.
        auto added = RunOnce();
        if (added && *added > 0 && on_new_rows_) on_new_rows_();
    }
}

}  // namespace railwatch::notify
