#pragma once

#include <string>

#include "core/notify_event.hpp"
#include "notify/payload.hpp"
#include "store/model.hpp"

/// Outbox rows for the notifier's unit tests.
namespace railwatch::notify::test {

inline core::NotifyEvent SampleEvent(core::NotifyEventType type = core::NotifyEventType::kDeploymentFailed) {
    core::NotifyEvent event;
    event.type = type;
    event.at = core::Timestamp(core::Seconds(1'800'000'000));
    event.instance_id = "ins_1";
    event.project_name = "shop";
    event.service_id = "svc-1";
    event.deployment_id = "dep-1";
    event.id = core::MakeEventId(event.type, event.instance_id, event.deployment_id, event.at);
    event.user = core::NotifyUser{"usr_1", "dev@example.com", "Dev"};
    event.error_class = core::ErrorClass::kConfiguration;
    event.message = "missing environment variable DATABASE_URL";
    event.evidence = "Error: DATABASE_URL is not set";
    event.next_step = "set DATABASE_URL in the service's variables";
    event.links = {{"Dashboard", "http://127.0.0.1:8080/instances/ins_1"}};
    return event;
}

/// A claimed row (attempts = `attempts`) delivering `event` over `route` to `recipient`.
inline store::OutboxRow RowFor(const core::NotifyEvent& event, core::NotifyRoute route, const std::string& recipient,
                               int attempts = 1) {
    store::OutboxRow row;
    row.message.id = "out_" + std::string(core::ToString(route)) + "_" + recipient;
    row.message.channel = std::string(core::ChannelOf(route));
    row.message.dedup_key = core::MakeDedupKey(event.id, event.reminder, row.message.channel, recipient);
    row.message.payload = EncodePayload(OutboxPayload{event, route, recipient});
    row.message.created_at = event.at + core::Seconds(1);
    row.attempts = attempts;
    row.next_attempt_at = row.message.created_at;
    return row;
}

}  // namespace railwatch::notify::test
