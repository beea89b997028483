#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {
class Outbox;
class Inbox;
}  // namespace railwatch::store

/// The part of the store the notifier uses, as narrow interfaces of its own: the outbox (claim,
/// record outcomes, when the next row is due), the endpoint flags (a webhook that answered 410)
/// and the in-app inbox (add). StoreAdapter maps them onto the store's role interfaces
/// store::Outbox and store::Inbox. Semantics and errors are the store's (src/store/outbox.hpp,
/// src/store/inbox.hpp).
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
    /// Records many outcomes in one store transaction, each checked against its own lease: the
    /// outer result fails when nothing could be written; otherwise one result per completion, in
    /// order (kConflict when its owner lost the lease, kNotFound for an unknown row).
    virtual util::Result<std::vector<util::Result<void>>> CompleteOutbox(
        const std::vector<store::OutboxCompletion>& completions) = 0;
    /// The earliest time a claim can find a row (a live lease delays its row to its end); nullopt
    /// when no row is open. May be ≤ now.
    virtual util::Result<std::optional<core::Timestamp>> NextOutboxDue(core::Timestamp now) = 0;
};

/// The durable endpoint flags of the channels (a webhook endpoint that answered 410 Gone stays
/// disabled across restarts). Thread-safe.
class EndpointStore {
  public:
    virtual ~EndpointStore() = default;
    /// Marks the endpoint disabled; an endpoint disabled already keeps its first time and reason.
    virtual util::Result<void> DisableEndpoint(const store::DisabledEndpoint& endpoint) = 0;
    /// Every disabled endpoint.
    virtual util::Result<std::vector<store::DisabledEndpoint>> ListDisabledEndpoints() = 0;
};

/// The inbox call of the in-app channel. Thread-safe.
class InboxStore {
  public:
    virtual ~InboxStore() = default;
    /// Adds the notification; false (and no change) when its id exists. kNotFound when the user
    /// does not exist.
    virtual util::Result<bool> AddNotification(const store::Notification& notification) = 0;
};

/// The notifier's interfaces over the store's roles, which must outlive the adapter (a
/// store::Store converts to both). Thread-safe.
class StoreAdapter final : public OutboxStore, public EndpointStore, public InboxStore {
  public:
    StoreAdapter(store::Outbox& outbox, store::Inbox& inbox) : outbox_(outbox), inbox_(inbox) {}

    util::Result<int> EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) override;
    util::Result<std::vector<store::OutboxRow>> ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                            core::Duration lease, int limit) override;
    util::Result<std::vector<util::Result<void>>> CompleteOutbox(
        const std::vector<store::OutboxCompletion>& completions) override;
    util::Result<std::optional<core::Timestamp>> NextOutboxDue(core::Timestamp now) override;
    util::Result<void> DisableEndpoint(const store::DisabledEndpoint& endpoint) override;
    util::Result<std::vector<store::DisabledEndpoint>> ListDisabledEndpoints() override;
    util::Result<bool> AddNotification(const store::Notification& notification) override;

  private:
    store::Outbox& outbox_;
    store::Inbox& inbox_;
};

}  // namespace railwatch::notify
