#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/notify_event.hpp"
#include "core/notify_plan.hpp"
#include "util/result.hpp"

/// The payload stored in an outbox row: one JSON document per delivery, the same for every
/// channel (docs/NOTIFY.md, "Outbox payload"). Channels render their own body from it at delivery
/// time, so a template fix applies to rows already queued.
namespace railwatch::notify {

/// The format version written into every payload; DecodePayload refuses newer ones.
inline constexpr int kPayloadVersion = 1;

/// What one outbox row delivers: the event, and to whom over which route.
struct OutboxPayload {
    core::NotifyEvent event;
    core::NotifyRoute route = core::NotifyRoute::kWebhook;
    std::string recipient;  ///< email address, user id (in_app) or "webhook"

    friend bool operator==(const OutboxPayload&, const OutboxPayload&) = default;
};

/// The payload as compact JSON (UTF-8 as given; the store rejects invalid UTF-8).
std::string EncodePayload(const OutboxPayload& payload);

/// Reads a payload back. kParse (a person can act on it: the row is dead-lettered) for JSON that
/// is not a payload of a known version.
util::Result<OutboxPayload> DecodePayload(std::string_view json);

/// The event as the JSON object webhooks and the in-app inbox carry ("data"): id, type, title,
/// message, at, instance {id, project_name, service_id, environment_id}, deployment_id,
/// error_class, evidence, next_step, links, reminder, user {id, name}. Never the user's email.
std::string EventDataJson(const core::NotifyEvent& event);

/// The facts every rendering shows, as (label, value) pairs in a fixed order, empty ones left out:
/// Project, Service, Environment, Instance, Deployment, Error class, Reminder.
std::vector<std::pair<std::string, std::string>> EventFacts(const core::NotifyEvent& event);

/// `text` cut to at most `max_bytes` bytes (never inside a UTF-8 character), ending in "…" when cut.
std::string TruncateText(std::string_view text, std::size_t max_bytes);

/// `text` made safe to store and show: invalid UTF-8 bytes become '?', control characters
/// (newlines included) become spaces, and it is cut with TruncateText to `max_bytes`.
std::string CleanText(std::string_view text, std::size_t max_bytes);

}  // namespace railwatch::notify
