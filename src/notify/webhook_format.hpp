#pragma once

#include <string>

#include "core/notify_event.hpp"
#include "notify/config.hpp"

/// Webhook bodies, one per format (docs/NOTIFY.md shows each):
///   standard  {"type", "timestamp", "data": EventDataJson}  — Standard Webhooks' envelope
///   slack     {"text", "blocks"}                             — a Slack incoming-webhook message
///   discord   {"content", "embeds", "allowed_mentions"}      — a Discord webhook message
/// Deterministic: the same event gives the same bytes (a retry sends the same body). Text is cut to
/// each service's limits; Slack and Discord bodies cannot mention @channel / @everyone.
namespace railwatch::notify {

/// The body for `format`. Thread-safe.
std::string RenderWebhookBody(const core::NotifyEvent& event, WebhookFormat format);

}  // namespace railwatch::notify
