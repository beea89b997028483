#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/notify_delivery.hpp"
#include "core/notify_plan.hpp"
#include "core/time.hpp"
#include "net/http_transport.hpp"
#include "util/result.hpp"

/// The notifier's settings as plain values. The app layer fills them from the TOML file
/// ([notify.email], [notify.webhook], [notify.admin] and the extra keys listed in docs/NOTIFY.md)
/// and the environment (passwords and webhook secrets come from variables named in the file);
/// ValidateNotifyConfig says what is wrong before anything starts. Secrets are never echoed in
/// messages.
namespace railwatch::notify {

/// Whether email is sent over TLS on an smtp:// URL.
enum class StartTls {
    kRequired,  ///< "required": STARTTLS or fail, credentials only after TLS (CURLUSESSL_ALL)
    kOff,       ///< "off": plain SMTP, accepted only for a relay on a loopback address
};
/// "required" | "off", and back (nullopt for anything else).
std::string_view ToString(StartTls mode);
std::optional<StartTls> ParseStartTls(std::string_view text);

/// The JSON shape of webhook bodies.
enum class WebhookFormat {
    kStandard,  ///< "standard": Standard Webhooks envelope {type, timestamp, data}
    kSlack,     ///< "slack": Slack incoming-webhook message (text + blocks)
    kDiscord,   ///< "discord": Discord webhook message (content + one embed)
};
/// "standard" | "slack" | "discord", and back (nullopt for anything else).
std::string_view ToString(WebhookFormat format);
std::optional<WebhookFormat> ParseWebhookFormat(std::string_view text);

/// [notify.email]. Email is off while smtp_url is empty.
struct EmailConfig {
    std::string smtp_url;  ///< "smtp://host:587" (+ STARTTLS) or "smtps://host:465"; no user info
    std::string from;      ///< the From address, e.g. "railwatch@example.com"
    StartTls starttls = StartTls::kRequired;
    std::string username;                        ///< empty: no AUTH
    std::string password;                        ///< secret: read from the variable password_env names
    std::string ca_file;                         ///< extra CA bundle to verify the server with; empty: the system store
    core::Duration timeout = core::Seconds(30);  ///< one whole SMTP conversation

    /// Email is on.
    bool enabled() const { return !smtp_url.empty(); }
};

/// [notify.webhook]. The webhook is off while url is empty.
struct WebhookConfig {
    std::string url;  ///< http:// or https://; its path may itself be a secret (Slack, Discord)
    /// Standard Webhooks secrets, "whsec_" + base64 of the key. Each one signs every request
    /// (one `v1,` signature each), so two can be valid while a secret rotates. Empty: unsigned.
    std::vector<std::string> secrets;
    WebhookFormat format = WebhookFormat::kStandard;
    core::Duration timeout = core::Seconds(15);  ///< one request, connection included

    /// The webhook is on.
    bool enabled() const { return !url.empty(); }
};

/// How the outbox is drained.
struct DispatchConfig {
    int concurrency = 8;  ///< deliveries in flight at once (per process)
    /// How often to look for due rows when nobody said new ones exist (rows from other
    /// processes, retries scheduled by them).
    core::Duration poll_interval = core::Seconds(2);
    /// The claim lease (DispatcherOptions::lease): how long rows claimed by a process that died
    /// wait before another process takes them. Zero: 4 × the slowest channel's timeout + 60 s.
    core::Duration lease{0};
};

/// Everything the notifier needs.
struct NotifyConfig {
    EmailConfig email;
    WebhookConfig webhook;
    std::vector<std::string> admin_emails;  ///< [notify.admin] emails
    core::NotifyRouting routing;            ///< [notify.routes]
    std::vector<core::Silence> silences;    ///< [[notify.silences]]
    core::ReminderPolicy reminders;         ///< [notify.reminders]
    core::DeliveryRetryPolicy retry;        ///< [notify.retry]
    DispatchConfig dispatch;                ///< [notify.dispatch]

    /// What the planner may route to.
    core::NotifyTargets Targets() const;
};

/// Checks every value, returning kInvalidArgument with the key's name and what to do on the
/// first problem: URL schemes, starttls = "off" for a host that is not loopback (refused:
/// credentials and messages would cross the network in clear text), user info in smtp_url,
/// addresses, secret format (never shown), timeouts, retry schedule, silences.
util::Result<void> ValidateNotifyConfig(const NotifyConfig& config);

/// True when `address` looks like a deliverable address: local@domain, no spaces, no control
/// characters, none of <>()[],;:" \, at most 254 bytes.
bool IsPlausibleEmail(std::string_view address);

/// The parts of a URL a message may show: "scheme://host[:port]" (never user info, path or query:
/// a Slack or Discord webhook's path is its secret).
std::string RedactUrl(std::string_view url);

}  // namespace railwatch::notify
