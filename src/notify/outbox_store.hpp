#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {
class Store;
}

/// The part of the store the notifier uses, as two narrow interfaces of its own: the outbox
/// (claim, mark) and the in-app inbox (add). When the store is split into role interfaces, only
/// StoreAdapter changes. Semantics and errors are the store's (src/store/store.hpp).
namespace railwatch::notify {

/// The outbox calls of the notifier. Thread-safe.
class OutboxStore {
  public:
    virtual ~OutboxStore() = default;
    /// Stores messages outside a transition; a dedup_key already present is skipped. Returns how
    /// many were new.
    virtual util::Result<int> EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) = 0;
    /// Claims up to `limit` due rows under a lease held by `owner` until now + lease; increments
    /// each row's attempts.
    virtual util::Result<std::vector<store::OutboxRow>> ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                                    core::Duration lease, int limit) = 0;
    /// The receiver accepted: status sent. kConflict when `owner` lost the lease.
    virtual util::Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, core::Timestamp at) = 0;
    /// Failed: retry at `retry_at`, or dead when nullopt. kConflict when `owner` lost the lease.
    virtual util::Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner,
                                                const std::string& error, std::optional<core::Timestamp> retry_at) = 0;
};

/// The inbox call of the in-app channel. Thread-safe.
class InboxStore {
  public:
    virtual ~InboxStore() = default;
    /// Adds the notification; false (and no change) when its id exists. kNotFound when the user
    /// does not exist.
    virtual util::Result<bool> AddNotification(const store::Notification& notification) = 0;
};

/// Both interfaces over a store::Store, which must outlive the adapter. Thread-safe.
class StoreAdapter final : public OutboxStore, public InboxStore {
  public:
    explicit StoreAdapter(store::Store& store) : store_(store) {}

    util::Result<int> EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) override;
    util::Result<std::vector<store::OutboxRow>> ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                            core::Duration lease, int limit) override;
    util::Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, core::Timestamp at) override;
    util::Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner, const std::string& error,
                                        std::optional<core::Timestamp> retry_at) override;
    util::Result<bool> AddNotification(const store::Notification& notification) override;

  private:
    store::Store& store_;
};

}  // namespace railwatch::notify
