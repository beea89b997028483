#include "notify/outbox_store.hpp"

#include "store/store.hpp"

namespace railwatch::notify {

util::Result<int> StoreAdapter::EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) {
    return store_.EnqueueOutbox(messages);
}

util::Result<std::vector<store::OutboxRow>> StoreAdapter::ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                                      core::Duration lease, int limit) {
    return store_.ClaimOutbox(owner, now, lease, limit);
}

util::Result<void> StoreAdapter::MarkOutboxSent(const std::string& id, const std::string& owner, core::Timestamp at) {
    return store_.MarkOutboxSent(id, owner, at);
}

util::Result<void> StoreAdapter::MarkOutboxFailed(const std::string& id, const std::string& owner,
                                                  const std::string& error, std::optional<core::Timestamp> retry_at) {
    return store_.MarkOutboxFailed(id, owner, error, retry_at);
}

util::Result<bool> StoreAdapter::AddNotification(const store::Notification& notification) {
    return store_.AddNotification(notification);
}

}  // namespace railwatch::notify
