#include "notify/in_app_channel.hpp"

#include <fmt/format.h>

#include "notify/payload.hpp"
#include "notify/signing.hpp"

namespace railwatch::notify {

std::string InAppNotificationId(std::string_view dedup_key) {
    return "ntf_" + Sha256Hex(dedup_key).substr(0, 32);
}

std::string_view InAppChannel::name() const {
    return core::kInAppChannel;
}

DeliveryOutcome InAppChannel::Deliver(const store::OutboxRow& row) {
    auto payload = DecodePayload(row.message.payload);
    if (!payload) return DeliveryOutcome::Permanent(CleanText(payload.error().message, 1000));
    if (payload->recipient.empty()) return DeliveryOutcome::Permanent("the in-app notification names no user");

    store::Notification notification;
    notification.id = InAppNotificationId(row.message.dedup_key);
    notification.user_id = payload->recipient;
    notification.type = std::string(core::ToString(payload->event.type));
    notification.title = core::TitleOf(payload->event);
    notification.message = payload->event.message;
    notification.data = EventDataJson(payload->event);
    notification.created_at = row.message.created_at;

    const auto added = inbox_.AddNotification(notification);
    if (added) {
        return DeliveryOutcome::Accepted(*added ? fmt::format("stored in the inbox of user {}", payload->recipient)
                                                : fmt::format("already in the inbox of user {}", payload->recipient));
    }
    const std::string detail = CleanText(added.error().message, 1000);
    switch (added.error().code) {
        case util::ErrorCode::kNotFound:
            return DeliveryOutcome::Permanent(
                fmt::format("user {} does not exist, so the in-app notification has no inbox: {}",
                            CleanText(payload->recipient, 256), detail));
        case util::ErrorCode::kInvalidArgument:
            return DeliveryOutcome::Permanent(fmt::format("the store refused the notification for user {}: {}",
                                                          CleanText(payload->recipient, 256), detail));
        default:
            return DeliveryOutcome::Retry(fmt::format("the store could not save the notification for user {}: {}",
                                                      CleanText(payload->recipient, 256), detail));
    }
}

}  // namespace railwatch::notify
