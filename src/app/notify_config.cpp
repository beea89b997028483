#include "app/notify_config.hpp"

#include <set>
#include <sstream>
#include <string>

#include "core/notify_event.hpp"
#include "core/notify_plan.hpp"

namespace railwatch::app {

notify::NotifyConfig NotifyConfigFrom(const Config& config) {
    const NotifySettings& in = config.notify;
    notify::NotifyConfig out;
    out.email.smtp_url = in.email.smtp_url;
    out.email.from = in.email.from;
    out.email.starttls = in.email.starttls == StartTls::kOff ? notify::StartTls::kOff : notify::StartTls::kRequired;
    out.email.username = in.email.username;
    out.email.password = in.email.password.Reveal();
    out.email.ca_file = in.email.ca_file;
    out.email.timeout = core::Seconds(in.email.timeout_seconds);

    out.webhook.url = in.webhook.url;
    std::istringstream secrets(in.webhook.secret.Reveal());
    for (std::string secret; secrets >> secret;)
        out.webhook.secrets.push_back(secret);
    switch (in.webhook.format) {
        case WebhookFormat::kStandard:
            out.webhook.format = notify::WebhookFormat::kStandard;
            break;
        case WebhookFormat::kSlack:
            out.webhook.format = notify::WebhookFormat::kSlack;
            break;
        case WebhookFormat::kDiscord:
            out.webhook.format = notify::WebhookFormat::kDiscord;
            break;
    }
    out.webhook.timeout = core::Seconds(in.webhook.timeout_seconds);

    out.admin_emails = in.admin.emails;
    // Names were checked when the configuration was loaded (app::LoadConfig); one that does not
    // parse here can only come from a Config built in code, and is skipped.
    for (const auto& [type_name, route_names] : in.routes) {
        const auto type = core::ParseNotifyEventType(type_name);
        if (!type) continue;
        std::set<core::NotifyRoute>& routes = out.routing.routes[*type];
        for (const std::string& name : route_names) {
            if (auto route = core::ParseNotifyRoute(name)) routes.insert(*route);
        }
    }
    for (const NotifySilenceSettings& s : in.silences) {
        core::Silence silence;
        silence.id = s.id;
        silence.starts_at = s.starts_at;
        silence.ends_at = s.ends_at;
        silence.instance_id = s.instance;
        for (const std::string& name : s.types) {
            if (auto type = core::ParseNotifyEventType(name)) silence.types.push_back(*type);
        }
        silence.mute_in_app = s.mute_in_app;
        silence.comment = s.comment;
        out.silences.push_back(std::move(silence));
    }
    for (const std::int64_t seconds : in.retry.schedule_seconds)
        out.retry.delays.push_back(core::Seconds(seconds));
    out.retry.max_attempts = in.retry.max_attempts;
    out.retry.jitter = in.retry.jitter;
    out.dispatch.concurrency = in.dispatch.concurrency;
    out.dispatch.poll_interval = core::Seconds(in.dispatch.poll_interval_seconds);
    out.dispatch.lease = core::Seconds(in.dispatch.lease_seconds);
    out.reminders.repeat_every = core::Seconds(in.reminders.repeat_every_seconds);
    out.reminders.max_reminders = in.reminders.max_reminders;
    for (const std::string& name : in.reminders.types) {
        if (auto type = core::ParseNotifyEventType(name)) out.reminders.types.insert(*type);
    }
    return out;
}

}  // namespace railwatch::app
