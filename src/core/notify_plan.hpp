#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/notify_event.hpp"
#include "core/time.hpp"

/// Notification planning: from one event and the routing configuration to the deliveries to make
/// (one per channel and recipient), each with a dedup key, so that an event recorded twice is
/// delivered once. Also silences (time windows that mute events) and reminders (repeat notices for
/// problems that stay unresolved). docs/NOTIFY.md describes the rules.
///
///   PlanNotifications(event, routing, targets, silences, now) -> NotifyPlan
///   MakeDedupKey(event_id, reminder, channel, recipient)        -> the outbox row's dedup_key
///   FindSilence(silences, event, now)                           -> the silence that mutes it, if any
///   DueReminder(policy, type, problem_since, now)               -> which reminder is due (0: none)
///   PlanReminder(policy, event, subject, now)                   -> the reminder to send, if any
///
/// Pure and thread-safe.
namespace railwatch::core {

/// Where a notice may go.
enum class NotifyRoute {
    kUserEmail,   ///< "email": the instance's user, by email
    kUserInApp,   ///< "in_app": the instance's user, in the in-app inbox
    kAdminEmail,  ///< "admin_email": every address of [notify.admin] emails
    kWebhook,     ///< "webhook": the configured webhook endpoint
};

inline constexpr std::array<NotifyRoute, 4> kAllNotifyRoutes = {NotifyRoute::kUserEmail, NotifyRoute::kUserInApp,
                                                                NotifyRoute::kAdminEmail, NotifyRoute::kWebhook};

/// "email", "in_app", "admin_email", "webhook".
std::string_view ToString(NotifyRoute route);
std::optional<NotifyRoute> ParseNotifyRoute(std::string_view text);

/// The outbox channel a route delivers through: "email" (both email routes), "in_app", "webhook".
std::string_view ChannelOf(NotifyRoute route);

/// The channel names the outbox uses.
inline constexpr std::string_view kEmailChannel = "email";
inline constexpr std::string_view kWebhookChannel = "webhook";
inline constexpr std::string_view kInAppChannel = "in_app";

/// Which routes each event type takes. Types missing from `routes` take DefaultRoutes(type); an
/// empty set sends the type nowhere.
struct NotifyRouting {
    std::map<NotifyEventType, std::set<NotifyRoute>> routes;

    /// The routes of `type`: the configured set, else DefaultRoutes(type).
    std::set<NotifyRoute> RoutesFor(NotifyEventType type) const;
};

/// The defaults (docs/NOTIFY.md): deployment failed / crashed / crash loop / recovered → email,
/// in_app, webhook; stuck → in_app, admin_email, webhook; every admin notice → admin_email,
/// webhook.
std::set<NotifyRoute> DefaultRoutes(NotifyEventType type);

/// What is configured to receive notices.
struct NotifyTargets {
    bool email_configured = false;    ///< [notify.email] has an SMTP server
    bool webhook_configured = false;  ///< [notify.webhook] has a URL
    std::vector<std::string> admin_emails;
};

/// A time window in which matching events are muted: no email and no webhook call (the in-app
/// inbox still records them unless `mute_in_app`). Like Alertmanager's silences.
struct Silence {
    std::string id;                      ///< names the silence in plans and logs
    Timestamp starts_at{};               ///< inclusive
    Timestamp ends_at{};                 ///< exclusive
    std::string instance_id;             ///< empty: every instance
    std::vector<NotifyEventType> types;  ///< empty: every type
    bool mute_in_app = false;
    std::string comment;

    friend bool operator==(const Silence&, const Silence&) = default;
};

/// The first silence (in order) that is active at `now` and matches the event's instance and
/// type; nullptr when none does. The returned pointer points into `silences`.
const Silence* FindSilence(std::span<const Silence> silences, const NotifyEvent& event, Timestamp now);

/// Reminders for problems that stay open. Off when `repeat_every` is zero.
struct ReminderPolicy {
    Duration repeat_every{0};  ///< a reminder every this long after the first notice
    int max_reminders = 3;     ///< never more than this many per problem
    /// The types that get reminders; empty: every problem type (IsProblem).
    std::set<NotifyEventType> types;
};

/// Which reminder is due for a problem of `type` first noticed at `problem_since` and still
/// unresolved at `now`: floor((now - problem_since) / repeat_every), at most max_reminders; 0 when
/// none is due (reminders off, a type that gets none, or not time yet). Stateless: the caller
/// plans the event again with `reminder` set to the answer, and the dedup key (which includes it)
/// turns repeated calls for the same reminder into one notice.
int DueReminder(const ReminderPolicy& policy, NotifyEventType type, Timestamp problem_since, Timestamp now);

/// What is known, when the reminder sweep looks, about the instance a problem notice was about.
struct ProblemSubject {
    bool watched = true;                       ///< the instance exists, is not deleted and is monitored
    std::optional<std::string> deployment_id;  ///< the deployment it follows now
    InstanceStatus status = InstanceStatus::kInitializing;
    bool needs_attention = false;

    friend bool operator==(const ProblemSubject&, const ProblemSubject&) = default;
};

/// Whether the problem `event` told about is still open: the instance is watched, still follows
/// the deployment the event was about, and is FAILED or needs attention. A new deployment (a
/// push, a redeploy), a recovery, a cleared flag, deletion or monitoring turned off close it.
/// Events about no instance (token, quota) are never judged open: nothing here can tell when
/// they end.
bool ProblemOpen(const NotifyEvent& event, const ProblemSubject& subject);

/// The reminder of `event` (a first notice, reminder 0) due at `now`: a copy with `reminder` =
/// DueReminder(policy, event.type, event.at, now), or nullopt when none is due or the problem is
/// closed (ProblemOpen). Planning the copy again for the same reminder yields the same dedup keys.
std::optional<NotifyEvent> PlanReminder(const ReminderPolicy& policy, const NotifyEvent& event,
                                        const ProblemSubject& subject, Timestamp now);

/// One delivery to make.
struct PlannedDelivery {
    NotifyRoute route = NotifyRoute::kWebhook;
    std::string channel;    ///< ChannelOf(route)
    std::string recipient;  ///< email address (as configured), user id (in_app) or "webhook"
    /// MakeDedupKey(event.id, event.reminder, channel, recipient), email addresses lower-cased.
    std::string dedup_key;

    friend bool operator==(const PlannedDelivery&, const PlannedDelivery&) = default;
};

/// A route the plan did not use, and why (for logs and tests).
struct SkippedRoute {
    NotifyRoute route = NotifyRoute::kWebhook;
    std::string reason;  ///< e.g. "the instance has no user with an email address"

    friend bool operator==(const SkippedRoute&, const SkippedRoute&) = default;
};

/// What PlanNotifications decided.
struct NotifyPlan {
    std::vector<PlannedDelivery> deliveries;  ///< in route order, recipients in configured order
    std::vector<SkippedRoute> skipped;
    std::optional<std::string> silenced_by;  ///< the silence's id when one muted the event
};

/// Plans the deliveries of one event: for each route of its type, one delivery per recipient
/// (the user's email, the user's inbox, each admin address, the webhook), skipping routes whose
/// target is not configured or unknown, and the routes a matching silence mutes. A recipient
/// reached twice over the same channel (a user who is also an admin) gets one delivery.
NotifyPlan PlanNotifications(const NotifyEvent& event, const NotifyRouting& routing, const NotifyTargets& targets,
                             std::span<const Silence> silences, Timestamp now);

/// The dedup key of one delivery: "<event_id>[#r<reminder>]|<channel>|<recipient>". Keys longer
/// than 256 bytes (the store's limit) keep a prefix and end in a 32-hex-digit hash of the whole;
/// the same inputs always give the same key.
std::string MakeDedupKey(std::string_view event_id, int reminder, std::string_view channel, std::string_view recipient);

}  // namespace railwatch::core
