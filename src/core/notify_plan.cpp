#include "core/notify_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace railwatch::core {
namespace {

constexpr std::size_t kMaxDedupKeyBytes = 256;
constexpr std::size_t kDedupPrefixBytes = 200;

std::string AsciiLower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool Mutes(const Silence* silence, NotifyRoute route) {
    if (silence == nullptr) return false;
    return route != NotifyRoute::kUserInApp || silence->mute_in_app;
}

}  // namespace

std::string_view ToString(NotifyRoute route) {
    switch (route) {
        case NotifyRoute::kUserEmail:
            return "email";
        case NotifyRoute::kUserInApp:
            return "in_app";
        case NotifyRoute::kAdminEmail:
            return "admin_email";
        case NotifyRoute::kWebhook:
            return "webhook";
    }
    return "webhook";
}

std::optional<NotifyRoute> ParseNotifyRoute(std::string_view text) {
    for (const NotifyRoute route : kAllNotifyRoutes) {
        if (ToString(route) == text) return route;
    }
    return std::nullopt;
}

std::string_view ChannelOf(NotifyRoute route) {
    switch (route) {
        case NotifyRoute::kUserEmail:
        case NotifyRoute::kAdminEmail:
            return kEmailChannel;
        case NotifyRoute::kUserInApp:
            return kInAppChannel;
        case NotifyRoute::kWebhook:
            return kWebhookChannel;
    }
    return kWebhookChannel;
}

std::set<NotifyRoute> DefaultRoutes(NotifyEventType type) {
    switch (type) {
        case NotifyEventType::kDeploymentFailed:
        case NotifyEventType::kDeploymentCrashed:
        case NotifyEventType::kCrashLoop:
        case NotifyEventType::kDeploymentRecovered:
            return {NotifyRoute::kUserEmail, NotifyRoute::kUserInApp, NotifyRoute::kWebhook};
        case NotifyEventType::kDeploymentStuck:
            return {NotifyRoute::kUserInApp, NotifyRoute::kAdminEmail, NotifyRoute::kWebhook};
        default:
            return {NotifyRoute::kAdminEmail, NotifyRoute::kWebhook};
    }
}

std::set<NotifyRoute> NotifyRouting::RoutesFor(NotifyEventType type) const {
    if (const auto it = routes.find(type); it != routes.end()) return it->second;
    return DefaultRoutes(type);
}

const Silence* FindSilence(std::span<const Silence> silences, const NotifyEvent& event, Timestamp now) {
    for (const Silence& silence : silences) {
        if (now < silence.starts_at || now >= silence.ends_at) continue;
        if (!silence.instance_id.empty() && silence.instance_id != event.instance_id) continue;
        if (!silence.types.empty() &&
            std::find(silence.types.begin(), silence.types.end(), event.type) == silence.types.end()) {
            continue;
        }
        return &silence;
    }
    return nullptr;
}

int DueReminder(const ReminderPolicy& policy, NotifyEventType type, Timestamp problem_since, Timestamp now) {
    if (policy.repeat_every <= Duration::zero() || policy.max_reminders <= 0 || !IsProblem(type)) return 0;
    if (!policy.types.empty() && !policy.types.contains(type)) return 0;
    if (now <= problem_since) return 0;
    const auto periods = (now - problem_since) / policy.repeat_every;
    return static_cast<int>(std::min<long long>(periods, policy.max_reminders));
}

bool ProblemOpen(const NotifyEvent& event, const ProblemSubject& subject) {
    if (event.instance_id.empty() || !subject.watched) return false;
    if (subject.deployment_id.value_or("") != event.deployment_id) return false;
    return subject.status == InstanceStatus::kFailed || subject.needs_attention;
}

std::optional<NotifyEvent> PlanReminder(const ReminderPolicy& policy, const NotifyEvent& event,
                                        const ProblemSubject& subject, Timestamp now) {
    if (event.reminder != 0) return std::nullopt;
    const int due = DueReminder(policy, event.type, event.at, now);
    if (due == 0 || !ProblemOpen(event, subject)) return std::nullopt;
    NotifyEvent reminder = event;
    reminder.reminder = due;
    return reminder;
}

std::string MakeDedupKey(std::string_view event_id, int reminder, std::string_view channel,
                         std::string_view recipient) {
    std::string key(event_id);
    if (reminder > 0) key += fmt::format("#r{}", reminder);
    key += '|';
    key += channel;
    key += '|';
    key += recipient;
    if (key.size() <= kMaxDedupKeyBytes) return key;
    return Utf8Prefix(key, kDedupPrefixBytes) + "~" + StableHash128(key);
}

NotifyPlan PlanNotifications(const NotifyEvent& event, const NotifyRouting& routing, const NotifyTargets& targets,
                             std::span<const Silence> silences, Timestamp now) {
    NotifyPlan plan;
    const Silence* silence = FindSilence(silences, event, now);
    if (silence != nullptr) plan.silenced_by = silence->id;

    std::set<std::pair<std::string, std::string>> seen;  // (channel, recipient)
    const auto add = [&](NotifyRoute route, std::string recipient) {
        std::string channel(ChannelOf(route));
        // Email addresses are compared without case (nobody runs case-sensitive mailboxes).
        const std::string identity = channel == kEmailChannel ? AsciiLower(recipient) : recipient;
        if (!seen.emplace(channel, identity).second) return;
        std::string key = MakeDedupKey(event.id, event.reminder, channel, identity);
        plan.deliveries.push_back(PlannedDelivery{route, std::move(channel), std::move(recipient), std::move(key)});
    };
    const auto skip = [&](NotifyRoute route, std::string reason) {
        plan.skipped.push_back(SkippedRoute{route, std::move(reason)});
    };

    // std::set iterates in enum order: user email, in-app, admin email, webhook.
    for (const NotifyRoute route : routing.RoutesFor(event.type)) {
        if (Mutes(silence, route)) {
            skip(route, fmt::format("muted by silence \"{}\"", silence->id));
            continue;
        }
        switch (route) {
            case NotifyRoute::kUserEmail:
                if (!targets.email_configured) {
                    skip(route, "email is not configured ([notify.email] smtp_url)");
                } else if (!event.user || event.user->email.empty()) {
                    skip(route, "the instance has no user with an email address");
                } else {
                    add(route, event.user->email);
                }
                break;
            case NotifyRoute::kUserInApp:
                if (!event.user || event.user->id.empty()) {
                    skip(route, "the instance has no user");
                } else {
                    add(route, event.user->id);
                }
                break;
            case NotifyRoute::kAdminEmail: {
                if (!targets.email_configured) {
                    skip(route, "email is not configured ([notify.email] smtp_url)");
                    break;
                }
                bool any = false;
                for (const std::string& address : targets.admin_emails) {
                    if (address.empty()) continue;
                    any = true;
                    add(route, address);
                }
                if (!any) skip(route, "no admin emails are configured ([notify.admin] emails)");
                break;
            }
            case NotifyRoute::kWebhook:
                if (!targets.webhook_configured) {
                    skip(route, "no webhook is configured ([notify.webhook] url)");
                } else {
                    add(route, "webhook");
                }
                break;
        }
    }
    return plan;
}

}  // namespace railwatch::core
