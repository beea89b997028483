#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error_class.hpp"
#include "core/reactions.hpp"
#include "core/time.hpp"

/// The notification vocabulary: what railwatch tells people about (event types) and the event
/// record the planner (core/notify_plan.hpp) turns into outbox messages. docs/NOTIFY.md lists the
/// types with their default routes; a test keeps that table and this code in step.
///
///   NotifyEventType, ToString / ParseNotifyEventType, kAllNotifyEventTypes
///   AudienceOf(type), IsProblem(type), DefaultTitle(type), ErrorClassOf(type)
///   EventTypeForAction(action)   -> which notice a reaction's kNotifyAdmin / kNotifyUser sends
///   MakeEventId(type, instance, deployment, at) -> a stable id (same inputs, same id)
///
/// Pure and thread-safe.
namespace railwatch::core {

/// What happened. The first five concern one deployment and go to the instance's user; the
/// rest are the admin notices of the error reactions (core/reactions.hpp) and of the Railway
/// token / quota checks.
enum class NotifyEventType {
    kDeploymentFailed,     ///< the deployment FAILED (build or deploy)
    kDeploymentCrashed,    ///< a running deployment CRASHED
    kCrashLoop,            ///< it crashed repeatedly within the crash-loop window
    kDeploymentStuck,      ///< no progress within the phase's deadline
    kDeploymentRecovered,  ///< it runs again after a failure, crash or stall (resolves the problem)
    kConfigurationError,   ///< admin notice: CONFIGURATION reaction
    kNetworkError,         ///< admin notice: NETWORK reaction, redeploys used up
    kAuthenticationError,  ///< admin notice: AUTHENTICATION reaction other than an invalid token
    kResourceError,        ///< admin notice: RESOURCE reaction other than an exceeded quota
    kTimeoutError,         ///< admin notice: TIMEOUT reaction (deployment ran over its limit)
    kUnknownError,         ///< admin notice: UNKNOWN reaction (message and context kept)
    kTokenInvalid,         ///< admin notice: the Railway token was checked and is invalid
    kQuotaExceeded,        ///< admin notice: the workspace's quota was checked and is exceeded
};

inline constexpr std::array<NotifyEventType, 13> kAllNotifyEventTypes = {
    NotifyEventType::kDeploymentFailed, NotifyEventType::kDeploymentCrashed,   NotifyEventType::kCrashLoop,
    NotifyEventType::kDeploymentStuck,  NotifyEventType::kDeploymentRecovered, NotifyEventType::kConfigurationError,
    NotifyEventType::kNetworkError,     NotifyEventType::kAuthenticationError, NotifyEventType::kResourceError,
    NotifyEventType::kTimeoutError,     NotifyEventType::kUnknownError,        NotifyEventType::kTokenInvalid,
    NotifyEventType::kQuotaExceeded,
};

/// "deployment_failed", "deployment_crashed", "crash_loop", "deployment_stuck",
/// "deployment_recovered", "configuration_error", "network_error", "authentication_error",
/// "resource_error", "timeout_error", "unknown_error", "token_invalid", "quota_exceeded".
std::string_view ToString(NotifyEventType type);
/// The inverse of ToString (exact match); nullopt for anything else.
std::optional<NotifyEventType> ParseNotifyEventType(std::string_view text);

/// Who an event is primarily for.
enum class Audience {
    kUser,   ///< the instance's user (the five deployment events)
    kAdmin,  ///< the operators listed in [notify.admin]
};
Audience AudienceOf(NotifyEventType type);

/// True for every type except kDeploymentRecovered: a problem stays open until resolved, so
/// reminders apply to it.
bool IsProblem(NotifyEventType type);

/// A short English title, e.g. "Deployment failed", "Railway token invalid".
std::string_view DefaultTitle(NotifyEventType type);

/// The error class an admin notice is about (kConfigurationError → kConfiguration, ...,
/// kTokenInvalid → kAuthentication, kQuotaExceeded → kResource); nullopt for the deployment events.
std::optional<ErrorClass> ErrorClassOf(NotifyEventType type);

/// The notice a reaction action sends: kNotifyUser → kDeploymentFailed; kNotifyAdmin by its
/// `type` ("CONFIGURATION_ERROR" → kConfigurationError, "NETWORK_ERROR_MAX_RETRIES" →
/// kNetworkError, "AUTHENTICATION_ERROR" (sent once the token is known invalid) → kTokenInvalid,
/// "RESOURCE_QUOTA_EXCEEDED" → kQuotaExceeded, "DEPLOYMENT_TIMEOUT" → kTimeoutError,
/// "UNKNOWN_ERROR" → kUnknownError, any other "<CLASS>_…" type → that class's notice); nullopt
/// for actions that notify nobody.
std::optional<NotifyEventType> EventTypeForAction(const Action& action);

/// A link shown with a notification (dashboard page, Railway deployment, logs).
struct NotifyLink {
    std::string title;
    std::string url;

    friend bool operator==(const NotifyLink&, const NotifyLink&) = default;
};

/// The person an event concerns (the instance's user).
struct NotifyUser {
    std::string id;
    std::string email;  ///< empty: no email route for this user
    std::string name;

    friend bool operator==(const NotifyUser&, const NotifyUser&) = default;
};

/// One thing to tell people about. Producers (the monitor) fill it; the planner decides who gets
/// it over which channel. Empty strings mean "not known".
struct NotifyEvent {
    /// Stable identity: the same occurrence must always get the same id (MakeEventId), so that
    /// recording it twice never notifies twice. At most 160 bytes.
    std::string id;
    NotifyEventType type = NotifyEventType::kDeploymentFailed;
    Timestamp at{};  ///< when it happened
    std::string instance_id;
    std::string project_name;
    std::string service_id;
    std::string environment_id;
    std::string deployment_id;
    std::optional<NotifyUser> user;
    std::optional<ErrorClass> error_class;
    std::string title;      ///< empty: DefaultTitle(type)
    std::string message;    ///< what happened, for people
    std::string evidence;   ///< the log line or event that decided it
    std::string next_step;  ///< what a person can do about it
    std::vector<NotifyLink> links;
    /// 0 for the first notice; n for the n-th reminder of an unresolved problem (see
    /// core/notify_plan.hpp DueReminder). Part of the dedup key.
    int reminder = 0;

    friend bool operator==(const NotifyEvent&, const NotifyEvent&) = default;
};

/// The title to show: `event.title`, else DefaultTitle, prefixed "Reminder: " for reminders.
std::string TitleOf(const NotifyEvent& event);

/// A stable event id from what identifies an occurrence:
/// "<type>:<instance_id>:<deployment_id>:<unix nanoseconds of at>". Ids longer than 160 bytes
/// keep their first 120 bytes followed by a 32-hex-digit hash of the whole.
std::string MakeEventId(NotifyEventType type, std::string_view instance_id, std::string_view deployment_id,
                        Timestamp at);

/// The longest prefix of `text` that has at most `max_bytes` bytes and does not cut a UTF-8
/// character in two.
std::string Utf8Prefix(std::string_view text, std::size_t max_bytes);

/// A 128-bit hash of `text` as 32 lowercase hex digits (two FNV-1a 64 variants); stable across
/// builds and platforms. Not cryptographic: for shortening keys, not for secrets.
std::string StableHash128(std::string_view text);

}  // namespace railwatch::core
