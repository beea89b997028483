#include "notify/outbox_store.hpp"

#include "store/inbox.hpp"
#include "store/outbox.hpp"

namespace railwatch::notify {

util::Result<int> StoreAdapter::EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) {
    return outbox_.EnqueueOutbox(messages);
}

util::Result<std::vector<store::OutboxRow>> StoreAdapter::ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                                      core::Duration lease, int limit) {
    return outbox_.ClaimOutbox(owner, now, lease, limit);
}

util::Result<std::vector<util::Result<void>>> StoreAdapter::CompleteOutbox(
    const std::vector<store::OutboxCompletion>& completions) {
    return outbox_.CompleteOutbox(completions);
}

util::Result<std::optional<core::Timestamp>> StoreAdapter::NextOutboxDue(core::Timestamp now) {
    return outbox_.NextOutboxDue(now);
}

util::Result<void> StoreAdapter::DisableEndpoint(const store::DisabledEndpoint& endpoint) {
    return outbox_.DisableEndpoint(endpoint);
}

util::Result<std::vector<store::DisabledEndpoint>> StoreAdapter::ListDisabledEndpoints() {
    return outbox_.ListDisabledEndpoints();
}

util::Result<bool> StoreAdapter::AddNotification(const store::Notification& notification) {
    return inbox_.AddNotification(notification);
}

}  // namespace railwatch::notify
