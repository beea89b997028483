#include "notify/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "net/http_transport.hpp"
#include "notify/signing.hpp"

namespace railwatch::notify {
namespace {

using util::ErrorCode;
using util::Fail;

constexpr std::size_t kMaxSecrets = 4;
constexpr std::size_t kMinSecretBytes = 16;
constexpr int kMaxConcurrency = 256;

}  // namespace

std::string_view ToString(StartTls mode) {
    return mode == StartTls::kOff ? "off" : "required";
}

std::optional<StartTls> ParseStartTls(std::string_view text) {
    if (text == "required") return StartTls::kRequired;
    if (text == "off") return StartTls::kOff;
    return std::nullopt;
}

std::string_view ToString(WebhookFormat format) {
    switch (format) {
        case WebhookFormat::kStandard:
            return "standard";
        case WebhookFormat::kSlack:
            return "slack";
        case WebhookFormat::kDiscord:
            return "discord";
    }
    return "standard";
}

std::optional<WebhookFormat> ParseWebhookFormat(std::string_view text) {
    for (const auto format : {WebhookFormat::kStandard, WebhookFormat::kSlack, WebhookFormat::kDiscord}) {
        if (ToString(format) == text) return format;
    }
    return std::nullopt;
}

core::NotifyTargets NotifyConfig::Targets() const {
    return core::NotifyTargets{email.enabled(), webhook.enabled(), admin_emails};
}

std::string RedactUrl(std::string_view url) {
    const auto parts = net::ParseUrl(url);
    if (!parts) return "(an unreadable URL)";
    std::string out = parts->scheme + "://";
    out += parts->host.find(':') != std::string::npos ? "[" + parts->host + "]" : parts->host;
    if (parts->port != 0) out += fmt::format(":{}", parts->port);
    return out;
}

bool IsPlausibleEmail(std::string_view address) {
    if (address.empty() || address.size() > 254) return false;
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
    for (const char c : address) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
        if (std::string_view("<>()[],;:\"\\").find(c) != std::string_view::npos) return false;
    }
    return address.find('@') == at;
}

util::Result<void> ValidateNotifyConfig(const NotifyConfig& config) {
    const EmailConfig& email = config.email;
    if (email.enabled()) {
        const auto url = net::ParseUrl(email.smtp_url);
        if (!url || (url->scheme != "smtp" && url->scheme != "smtps")) {
            return Fail(ErrorCode::kInvalidArgument,
                        "[notify.email] smtp_url must look like smtp://host:587 (STARTTLS) or smtps://host:465 "
                        "(implicit TLS)");
        }
        if (!url->userinfo.empty()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "[notify.email] smtp_url must not contain a user name or password: set username, and the "
                        "password through the variable password_env names");
        }
        if (email.starttls == StartTls::kOff && url->scheme == "smtp" && !net::IsLoopbackHost(url->host)) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("[notify.email] starttls = \"off\" is refused for {}: without TLS the password "
                                    "and every message would cross the network in clear text. Use starttls = "
                                    "\"required\" or an smtps:// URL, or relay through a server on 127.0.0.1",
                                    RedactUrl(email.smtp_url)));
        }
        if (!IsPlausibleEmail(email.from)) {
            return Fail(ErrorCode::kInvalidArgument,
                        "[notify.email] from must be an email address such as railwatch@example.com");
        }
        if (!email.username.empty() && email.password.empty()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "[notify.email] username is set but the password is empty: set the variable password_env "
                        "names");
        }
        if (email.timeout <= core::Duration::zero()) {
            return Fail(ErrorCode::kInvalidArgument, "[notify.email] timeout_seconds must be positive");
        }
    }
    for (std::size_t i = 0; i < config.admin_emails.size(); ++i) {
        if (!IsPlausibleEmail(config.admin_emails[i])) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("[notify.admin] emails[{}] is not an email address", i));
        }
    }

    const WebhookConfig& webhook = config.webhook;
    if (webhook.enabled()) {
        const auto url = net::ParseUrl(webhook.url);
        if (!url || (url->scheme != "http" && url->scheme != "https")) {
            return Fail(ErrorCode::kInvalidArgument, "[notify.webhook] url must be an http:// or https:// URL");
        }
        if (webhook.secrets.size() > kMaxSecrets) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("[notify.webhook] at most {} secrets may be valid at once (two during a "
                                    "rotation)",
                                    kMaxSecrets));
        }
        for (std::size_t i = 0; i < webhook.secrets.size(); ++i) {
            const auto key = DecodeWebhookSecret(webhook.secrets[i]);
            if (!key || key->size() < kMinSecretBytes) {
                return Fail(ErrorCode::kInvalidArgument,
                            fmt::format("[notify.webhook] secret {} is not a Standard Webhooks secret (\"whsec_\" "
                                        "followed by the base64 of at least {} random bytes); the value is not shown",
                                        i + 1, kMinSecretBytes));
            }
        }
        if (webhook.timeout <= core::Duration::zero()) {
            return Fail(ErrorCode::kInvalidArgument, "[notify.webhook] timeout_seconds must be positive");
        }
    }

    if (config.dispatch.concurrency < 1 || config.dispatch.concurrency > kMaxConcurrency) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("[notify.dispatch] concurrency must be between 1 and {}", kMaxConcurrency));
    }
    if (config.dispatch.lease < core::Duration::zero() ||
        (config.dispatch.lease > core::Duration::zero() &&
         (config.dispatch.lease <= config.email.timeout || config.dispatch.lease <= config.webhook.timeout))) {
        return Fail(ErrorCode::kInvalidArgument,
                    "[notify.dispatch] lease_seconds must be 0 (automatic) or longer than the email and webhook "
                    "timeout_seconds, so that a delivery never outlives its lease");
    }
    if (config.dispatch.poll_interval <= core::Duration::zero()) {
        return Fail(ErrorCode::kInvalidArgument, "[notify.dispatch] poll_interval_seconds must be positive");
    }
    if (std::any_of(config.retry.delays.begin(), config.retry.delays.end(),
                    [](core::Duration d) { return d < core::Duration::zero(); })) {
        return Fail(ErrorCode::kInvalidArgument, "[notify.retry] schedule_seconds must not hold negative delays");
    }
    if (config.retry.max_attempts < 0) {
        return Fail(ErrorCode::kInvalidArgument, "[notify.retry] max_attempts must be 0 (the schedule's) or more");
    }
    if (!(config.retry.jitter >= 0.0 && config.retry.jitter <= 1.0)) {
        return Fail(ErrorCode::kInvalidArgument, "[notify.retry] jitter must be between 0 and 1");
    }
    for (std::size_t i = 0; i < config.silences.size(); ++i) {
        if (config.silences[i].ends_at <= config.silences[i].starts_at) {
            return Fail(ErrorCode::kInvalidArgument,
                        fmt::format("[[notify.silences]] entry {} ends before it starts", i + 1));
        }
    }
    if (config.reminders.repeat_every < core::Duration::zero() || config.reminders.max_reminders < 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    "[notify.reminders] repeat_every_seconds and max_reminders must not be negative");
    }
    return util::Ok();
}

}  // namespace railwatch::notify
