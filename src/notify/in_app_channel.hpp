#pragma once

#include <string>
#include <string_view>

#include "notify/channel.hpp"
#include "notify/outbox_store.hpp"

/// The in-app channel: writes the event into the user's inbox (store notifications table). The
/// notification's id derives from the row's dedup key, and the store adds an id only once, so a
/// retried or replayed row never shows twice.
namespace railwatch::notify {

/// The inbox id of a delivery: "ntf_" + the first 32 hex digits of SHA-256(dedup_key). Stable
/// (the same row, or the same key enqueued again, gives the same id) and safe in a URL path
/// (`POST /notifications/{id}/read`), which the dedup key itself ("…|in_app|usr_1") is not.
std::string InAppNotificationId(std::string_view dedup_key);

/// Thread-safe. The inbox must outlive the channel.
class InAppChannel final : public Channel {
  public:
    /// Writes into `inbox`.
    explicit InAppChannel(InboxStore& inbox) : inbox_(inbox) {}

    std::string_view name() const override;
    /// Accepted when stored (or already there); permanent for an unreadable payload, an unknown
    /// user or a value the store refuses; retry when the store is unavailable.
    DeliveryOutcome Deliver(const store::OutboxRow& row) override;
    /// The store's own waits (busy timeout, connection acquisition) bound a call.
    core::Duration MaxDeliveryTime() const override { return core::Seconds(30); }

  private:
    InboxStore& inbox_;
};

}  // namespace railwatch::notify
