#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/notify_delivery.hpp"
#include "core/time.hpp"
#include "store/model.hpp"

/// The seam between the outbox dispatcher and the ways a notification leaves railwatch: email,
/// webhook, in-app. Every channel passes one conformance suite (tests/integration/notify).
namespace railwatch::notify {

/// What one delivery attempt came to.
struct DeliveryOutcome {
    core::DeliveryVerdict verdict = core::DeliveryVerdict::kRetry;  ///< accepted, retry or permanent
    /// For people: what happened and, on failure, what to do ("HTTP 503 from https://host: …").
    /// Never contains a secret (passwords, webhook secrets, the path of a webhook URL).
    std::string detail;
    /// The receiver asked to wait at least this long before the next attempt (Retry-After).
    std::optional<core::Duration> retry_after;

    /// The receiver took it.
    static DeliveryOutcome Accepted(std::string detail);
    /// It may work later (no sooner than `retry_after` when the receiver said so).
    static DeliveryOutcome Retry(std::string detail, std::optional<core::Duration> retry_after = std::nullopt);
    /// It can never work.
    static DeliveryOutcome Permanent(std::string detail);

    /// verdict == kAccepted.
    bool accepted() const { return verdict == core::DeliveryVerdict::kAccepted; }
};

/// Delivers outbox rows of one channel. Implementations are thread-safe: the dispatcher calls
/// Deliver from several worker threads at once. Deliver blocks until the receiver answered or the
/// channel's timeout passed, and reports accepted only when the receiver took the message
/// (HTTP 2xx, SMTP 250, stored in the inbox).
class Channel {
  public:
    virtual ~Channel() = default;  ///< No Deliver may be running.

    /// The outbox `channel` value this channel serves ("email", "webhook", "in_app").
    virtual std::string_view name() const = 0;

    /// Delivers one row. A payload that cannot be read is a permanent failure.
    virtual DeliveryOutcome Deliver(const store::OutboxRow& row) = 0;

    /// The longest a Deliver call may take (its timeout); the dispatcher's leases outlast it.
    virtual core::Duration MaxDeliveryTime() const = 0;
};

}  // namespace railwatch::notify
