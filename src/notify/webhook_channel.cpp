#include "notify/webhook_channel.hpp"

#include <fmt/format.h>

#include "notify/payload.hpp"
#include "notify/webhook_format.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::notify {
namespace {

constexpr std::size_t kMaxDetailBytes = 1000;
constexpr std::size_t kMaxBodyExcerptBytes = 200;

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
        text.replace(at, what.size(), with);
}

}  // namespace

util::Result<std::unique_ptr<WebhookChannel>> WebhookChannel::Create(WebhookConfig config,
                                                                     net::HttpTransport& transport,
                                                                     const util::Clock& clock,
                                                                     EndpointStore* endpoints) {
    const auto url = net::ParseUrl(config.url);
    if (!url || (url->scheme != "http" && url->scheme != "https")) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "[notify.webhook] url must be an http:// or https:// URL");
    }
    auto signer = WebhookSigner::Create(config.secrets);
    if (!signer) return util::Fail(util::ErrorCode::kInvalidArgument, "[notify.webhook] " + signer.error().message);
    std::unique_ptr<WebhookChannel> channel(
        new WebhookChannel(std::move(config), std::move(*signer), transport, clock, endpoints));
    if (endpoints != nullptr) {
        if (auto disabled = endpoints->ListDisabledEndpoints()) {
            for (const auto& endpoint : *disabled) {
                if (endpoint.key != channel->endpoint_key_) continue;
                channel->disabled_detail_ = channel->Sanitize(endpoint.reason);
                channel->disabled_.store(true);
            }
        }
    }
    return channel;
}

WebhookChannel::WebhookChannel(WebhookConfig config, WebhookSigner signer, net::HttpTransport& transport,
                               const util::Clock& clock, EndpointStore* endpoints)
    : config_(std::move(config)),
      signer_(std::move(signer)),
      transport_(transport),
      clock_(clock),
      redacted_url_(RedactUrl(config_.url)),
      endpoints_(endpoints),
      endpoint_key_("webhook:" + Sha256Hex(config_.url).substr(0, 32)) {}

void WebhookChannel::Enable() {
    std::lock_guard lock(mutex_);
    disabled_detail_.clear();
    disabled_.store(false);
}

std::string_view WebhookChannel::name() const {
    return core::kWebhookChannel;
}

std::string WebhookChannel::Sanitize(std::string_view text) const {
    // Transport messages quote the URL without its query, but a Slack or Discord URL's path is
    // itself the secret: show only scheme, host and port.
    std::string out(text);
    ReplaceAll(out, config_.url, redacted_url_);
    ReplaceAll(out, net::UrlForMessages(config_.url), redacted_url_);
    if (const auto query = config_.url.find('?'); query != std::string::npos && query + 1 < config_.url.size()) {
        ReplaceAll(out, std::string_view(config_.url).substr(query + 1), "…");
    }
    if (const auto scheme = config_.url.find("://"); scheme != std::string::npos) {
        if (const auto path = config_.url.find('/', scheme + 3); path != std::string::npos) {
            const std::string path_only = net::UrlForMessages(config_.url.substr(path));
            if (path_only.size() > 1) ReplaceAll(out, path_only, "/…");
        }
    }
    return CleanText(out, kMaxDetailBytes);
}

DeliveryOutcome WebhookChannel::Deliver(const store::OutboxRow& row) {
    if (disabled_.load()) {
        std::lock_guard lock(mutex_);
        return DeliveryOutcome::Permanent(disabled_detail_);
    }
    auto payload = DecodePayload(row.message.payload);
    if (!payload) return DeliveryOutcome::Permanent(CleanText(payload.error().message, kMaxDetailBytes));

    net::HttpRequest request;
    request.method = "POST";
    request.url = config_.url;
    request.body = RenderWebhookBody(payload->event, config_.format);
    request.timeout = config_.timeout;
    const std::string id = WebhookMessageId(row.message.dedup_key);
    const core::Timestamp now = clock_.Now();
    const auto unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("webhook-id", id);
    request.headers.emplace_back("webhook-timestamp", std::to_string(unix_seconds));
    if (signer_.key_count() > 0) {
        request.headers.emplace_back("webhook-signature", signer_.Sign(id, unix_seconds, request.body));
    }

    const net::HttpResponse response = transport_.Send(std::move(request)).get();
    const core::AnswerVerdict verdict = core::ClassifyWebhookAnswer(response.status, response.error);
    if (!response.Answered()) {
        return DeliveryOutcome::Retry(Sanitize(fmt::format("{}: {}", verdict.reason, response.error_message)));
    }
    std::string detail = fmt::format("{} from {}", verdict.reason, redacted_url_);
    if (verdict.verdict == core::DeliveryVerdict::kAccepted) return DeliveryOutcome::Accepted(std::move(detail));
    if (!response.body.empty()) {
        detail += fmt::format("; it said: {}", CleanText(response.body, kMaxBodyExcerptBytes));
    }
    if (verdict.disable_endpoint) {
        std::string reason = Sanitize(fmt::format(
            "the webhook endpoint {} was disabled when it answered 410 Gone at {}; nothing more is sent to it. Fix "
            "[notify.webhook] url (a new URL starts enabled) and restart railwatch, then replay the dead deliveries",
            redacted_url_, util::FormatRfc3339(now, util::TimePrecision::kSeconds)));
        {
            std::lock_guard lock(mutex_);
            disabled_detail_ = reason;
            disabled_.store(true);
        }
        // Best effort: if the store cannot record it, this process still stops sending, and the
        // next 410 after a restart tries again.
        if (endpoints_ != nullptr) {
            (void)endpoints_->DisableEndpoint(
                store::DisabledEndpoint{endpoint_key_, std::string(core::kWebhookChannel), std::move(reason), now});
        }
        return DeliveryOutcome::Permanent(Sanitize(detail));
    }
    if (verdict.verdict == core::DeliveryVerdict::kPermanent) return DeliveryOutcome::Permanent(Sanitize(detail));
    std::optional<core::Duration> retry_after;
    if (verdict.honour_retry_after) {
        if (const auto header = response.Header("Retry-After")) retry_after = core::ParseRetryAfter(*header, now);
    }
    return DeliveryOutcome::Retry(Sanitize(detail), retry_after);
}

}  // namespace railwatch::notify
