#include "notify/planner.hpp"

#include "notify/payload.hpp"
#include "util/ids.hpp"

namespace railwatch::notify {

OutboxPlanner::OutboxPlanner(const NotifyConfig& config)
    : routing_(config.routing), targets_(config.Targets()), silences_(config.silences), reminders_(config.reminders) {}

PlannedOutbox OutboxPlanner::Plan(const core::NotifyEvent& event, core::Timestamp now) const {
    PlannedOutbox out;
    out.plan = core::PlanNotifications(event, routing_, targets_, silences_, now);
    out.messages.reserve(out.plan.deliveries.size());
    for (const core::PlannedDelivery& delivery : out.plan.deliveries) {
        store::OutboxMessage message;
        message.id = util::NewId("out");
        message.channel = delivery.channel;
        message.dedup_key = delivery.dedup_key;
        message.payload = EncodePayload(OutboxPayload{event, delivery.route, delivery.recipient});
        message.created_at = now;
        out.messages.push_back(std::move(message));
    }
    return out;
}

int OutboxPlanner::DueReminder(core::NotifyEventType type, core::Timestamp problem_since, core::Timestamp now) const {
    return core::DueReminder(reminders_, type, problem_since, now);
}

}  // namespace railwatch::notify
