#include "app/notify_config.hpp"

#include <sstream>
#include <string>

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
    out.retry.max_attempts = in.retry.max_attempts;
    out.retry.jitter = in.retry.jitter;
    out.dispatch.concurrency = in.dispatch.concurrency;
    out.dispatch.poll_interval = core::Seconds(in.dispatch.poll_interval_seconds);
    out.reminders.repeat_every = core::Seconds(in.reminders.repeat_every_seconds);
    out.reminders.max_reminders = in.reminders.max_reminders;
    return out;
}

}  // namespace railwatch::app
