#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "monitor/operations.hpp"
#include "store/model.hpp"

/// JSON shapes of the REST API (interface.md, docs/DASHBOARD.md, docs/API.md): field names in
/// camelCase, timestamps RFC 3339 UTC, durations in seconds in fields ending in `Seconds`, null for
/// "not known". Pure functions of their arguments; thread-safe.
namespace railwatch::api {

/// RFC 3339 UTC with milliseconds ("2026-01-01T00:00:00.000Z").
nlohmann::json TimeJson(core::Timestamp t);
/// TimeJson, or null.
nlohmann::json TimeJson(const std::optional<core::Timestamp>& t);

/// The instance object. `recent_checks` (newest first, as the store returns them) become
/// `recentChecks`, oldest first. `health` is "UNKNOWN" until the first probe.
/// `check_interval` (monitor::Operations::CheckInterval) becomes `effectiveIntervalSeconds`, in
/// seconds to the millisecond; none: null.
nlohmann::json InstanceJson(const store::Instance& instance, const std::vector<store::HealthCheck>& recent_checks = {},
                            std::optional<core::Duration> check_interval = std::nullopt);
/// Appends the instance object to `out` as JSON text without building a tree first: the same
/// text as InstanceJson(instance, checks, check_interval).dump() for the checks these summaries came from, at a
/// fraction of the cost (the instance list renders 50 to 500 of them per request).
/// `recent_checks` is newest first, as the store returns them. Text fields must be valid UTF-8,
/// as the store guarantees for what it returns (bytes are copied, not replaced).
void AppendInstanceJson(std::string& out, const store::Instance& instance,
                        std::span<const store::CheckSummary> recent_checks = {},
                        std::optional<core::Duration> check_interval = std::nullopt);

/// `{id, email, name, plan, createdAt}`.
nlohmann::json UserJson(const store::User& user);

/// A timeline item `{from, to, at, deploymentId, source}` (+ `id`, the event's store id).
nlohmann::json TimelineJson(const store::TimelineEvent& event);

/// A log line `{timestamp, severity, message, kind}`.
nlohmann::json LogJson(const store::LogLine& line);

/// A health check `{at, ok, httpStatus, latencyMs, error}` (httpStatus 0 when no answer).
nlohmann::json HealthCheckJson(const store::HealthCheck& check);

/// `{id, userId, instanceId, type, title, message, createdAt, readAt}`; `instanceId` is read
/// from the notification's data (`instanceId`, `instance_id` or the notifier's `instance.id`), null when absent.
nlohmann::json NotificationJson(const store::Notification& notification);

/// One outbox row `{id, channel, status, attempts, lastError, createdAt, sentAt, nextAttemptAt}`
/// (+ `notificationType`, `instanceId` and `eventId` when the payload names them: at its top, or
/// in the notifier's `event` object). The payload itself is never
/// shown: it may carry a recipient's address or a signed URL.
nlohmann::json DeliveryJson(const store::OutboxRow& row);
/// `{key, channel, reason, disabledAt}` of an endpoint the notifier stopped sending to (410 Gone).
nlohmann::json DisabledEndpointJson(const store::DisabledEndpoint& endpoint);

/// `{instanceId, deploymentId, progress, phase, etaSeconds}`.
nlohmann::json ProgressJson(const monitor::ProgressReport& report, const std::optional<std::string>& deployment_id);

/// The capacity report: `{monitored, capacity, requestsPerHour, requestsPerSecond, stretch,
/// effectiveIntervalSeconds:{STATUS: s}}`.
nlohmann::json CapacityJson(const monitor::CapacityReport& report);

}  // namespace railwatch::api
