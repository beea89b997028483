#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "net/http_transport.hpp"
#include "notify/channel.hpp"
#include "notify/config.hpp"
#include "notify/outbox_store.hpp"
#include "notify/signing.hpp"
#include "util/clock.hpp"

/// The webhook channel: POSTs the event to [notify.webhook] url in the configured format, signed
/// per Standard Webhooks (webhook-id stable per outbox row, a fresh webhook-timestamp and
/// signature on every attempt, one v1 signature per secret), through net::HttpTransport (which
/// never follows redirects).
namespace railwatch::notify {

/// Thread-safe. The transport and the clock must outlive the channel.
class WebhookChannel final : public Channel {
  public:
    /// kInvalidArgument when the URL or a secret is unusable (ValidateNotifyConfig says more).
    /// `endpoints` (optional, must outlive the channel) keeps the disabled flag across restarts:
    /// the channel starts disabled when the store says its URL answered 410 before. A store that
    /// cannot be read then is not an error: the channel starts enabled.
    static util::Result<std::unique_ptr<WebhookChannel>> Create(WebhookConfig config, net::HttpTransport& transport,
                                                                const util::Clock& clock,
                                                                EndpointStore* endpoints = nullptr);

    std::string_view name() const override;
    /// 2xx accepted; 410 permanent and the endpoint is disabled — in the endpoint store too, when
    /// there is one, so across restarts — and every later row fails permanently without a request
    /// until the URL changes (or the flag is removed from the store);
    /// 429 / 502 / 503 / 504 retry after Retry-After; every other answer or transport failure
    /// retry (core::ClassifyWebhookAnswer). Details name the host, never the URL's path or query.
    DeliveryOutcome Deliver(const store::OutboxRow& row) override;
    core::Duration MaxDeliveryTime() const override { return config_.timeout; }

    /// True once the endpoint answered 410 Gone (now or, per the endpoint store, before).
    bool disabled() const { return disabled_.load(); }
    /// Sends again after a 410: the operator re-enabled the endpoint (the caller removed the
    /// store's flag first, e.g. `POST /api/v1/endpoints/{key}/enable`). Idempotent.
    void Enable();
    /// The endpoint store's key of this channel's URL: "webhook:" + 32 hex of SHA-256(url) (the
    /// URL itself may hold a secret; a new URL has a new key, so fixing the URL enables it).
    const std::string& endpoint_key() const { return endpoint_key_; }

  private:
    WebhookChannel(WebhookConfig config, WebhookSigner signer, net::HttpTransport& transport, const util::Clock& clock,
                   EndpointStore* endpoints);

    std::string Sanitize(std::string_view text) const;

    WebhookConfig config_;
    WebhookSigner signer_;
    net::HttpTransport& transport_;
    const util::Clock& clock_;
    std::string redacted_url_;
    EndpointStore* endpoints_;
    std::string endpoint_key_;
    std::atomic<bool> disabled_{false};
    mutable std::mutex mutex_;
    std::string disabled_detail_;  // guarded by mutex_
};

}  // namespace railwatch::notify
