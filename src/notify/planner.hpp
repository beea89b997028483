#pragma once

#include <string>
#include <vector>

#include "core/notify_plan.hpp"
#include "notify/config.hpp"
#include "store/model.hpp"

/// From an event to outbox rows: core's plan (routes, recipients, silences, dedup keys) plus the
/// stored payload of each delivery. The producer (the monitor) puts the rows into the
/// store::Transition that records the change, so the state change and its notifications commit
/// together, or calls EnqueueOutbox for events outside a transition.
namespace railwatch::notify {

/// What Plan returns: the rows to enqueue and core's reasoning (skipped routes, silence).
struct PlannedOutbox {
    std::vector<store::OutboxMessage> messages;
    core::NotifyPlan plan;
};

/// Holds the routing part of a NotifyConfig. Immutable after construction; thread-safe.
class OutboxPlanner {
  public:
    explicit OutboxPlanner(const NotifyConfig& config);

    /// One outbox message per planned delivery: a fresh row id (util::NewId("out")), the
    /// channel, the plan's dedup key, EncodePayload(...) and created_at = now (due at once).
    /// Planning the same event again yields the same dedup keys, so the store keeps one row each.
    PlannedOutbox Plan(const core::NotifyEvent& event, core::Timestamp now) const;

    /// The reminder due now for an unresolved problem (core::DueReminder with the configured
    /// policy); 0 when none.
    int DueReminder(core::NotifyEventType type, core::Timestamp problem_since, core::Timestamp now) const;

  private:
    core::NotifyRouting routing_;
    core::NotifyTargets targets_;
    std::vector<core::Silence> silences_;
    core::ReminderPolicy reminders_;
};

}  // namespace railwatch::notify
