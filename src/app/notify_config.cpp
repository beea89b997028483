#include "app/notify_config.hpp"

namespace railwatch::app {

notify::NotifyConfig NotifyConfigFrom(const Config& config) {
    const NotifySettings& in = config.notify;
    notify::NotifyConfig out;
    out.email.smtp_url = in.email.smtp_url;
    out.email.from = in.email.from;
    out.email.starttls = in.email.starttls == StartTls::kOff ? notify::StartTls::kOff : notify::StartTls::kRequired;
    out.email.username = in.email.username;
    out.email.password = in.email.password.Reveal();
    out.webhook.url = in.webhook.url;
    if (!in.webhook.secret.empty()) out.webhook.secrets = {in.webhook.secret.Reveal()};
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
    out.admin_emails = in.admin.emails;
    return out;
}

}  // namespace railwatch::app
