#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "notify/channel.hpp"
#include "notify/mail_transport.hpp"
#include "notify/outbox_store.hpp"

/// In-memory doubles for the notifier's unit tests: an outbox + inbox with the store's lease
/// semantics (src/store/store.hpp), a mail transport that records what it is given, and a
/// scripted channel. All thread-safe.
namespace railwatch::notify::test {

/// The outbox and inbox in memory, with the store's rules: a dedup key is stored once; a claim
/// takes due pending/failed rows whose lease expired, sets the lease and counts an attempt; marks
/// succeed only for the lease owner (kConflict otherwise). Failures can be injected.
class FakeOutboxStore final : public OutboxStore, public EndpointStore, public InboxStore {
  public:
    util::Result<int> EnqueueOutbox(const std::vector<store::OutboxMessage>& messages) override {
        return Enqueue(messages);
    }

    int Enqueue(const std::vector<store::OutboxMessage>& messages) {
        std::lock_guard lock(mutex_);
        int added = 0;
        for (const auto& m : messages) {
            if (std::any_of(rows_.begin(), rows_.end(),
                            [&](const store::OutboxRow& r) { return r.message.dedup_key == m.dedup_key; })) {
                continue;
            }
            store::OutboxRow row;
            row.message = m;
            row.next_attempt_at = m.next_attempt_at.value_or(m.created_at);
            rows_.push_back(row);
            ++added;
        }
        return added;
    }

    util::Result<std::vector<store::OutboxRow>> ClaimOutbox(const std::string& owner, core::Timestamp now,
                                                            core::Duration lease, int limit) override {
        std::lock_guard lock(mutex_);
        ++claims_;
        if (fail_claims_ > 0) {
            --fail_claims_;
            return util::Fail(util::ErrorCode::kUnavailable, "database is down (injected)");
        }
        std::vector<store::OutboxRow*> due;
        for (auto& row : rows_) {
            const bool open = row.status == store::OutboxStatus::kPending || row.status == store::OutboxStatus::kFailed;
            const bool lease_free = !row.lease_until || *row.lease_until <= now;
            if (open && row.next_attempt_at <= now && lease_free) due.push_back(&row);
        }
        std::sort(due.begin(), due.end(), [](const auto* a, const auto* b) {
            return std::tie(a->next_attempt_at, a->message.id) < std::tie(b->next_attempt_at, b->message.id);
        });
        std::vector<store::OutboxRow> out;
        for (auto* row : due) {
            if (static_cast<int>(out.size()) >= limit) break;
            row->lease_owner = owner;
            row->lease_until = now + lease;
            ++row->attempts;
            out.push_back(*row);
        }
        return out;
    }

    /// One injected mark failure fails the whole batch (as a store that cannot be reached would).
    util::Result<std::vector<util::Result<void>>> CompleteOutbox(
        const std::vector<store::OutboxCompletion>& completions) override {
        std::lock_guard lock(mutex_);
        ++completes_;
        if (auto r = Injected()) return tl::unexpected(r->error());
        std::vector<util::Result<void>> out;
        for (const auto& done : completions) {
            auto* row = Find(done.id);
            if (row == nullptr) {
                out.push_back(util::Fail(util::ErrorCode::kNotFound, "no outbox row " + done.id));
                continue;
            }
            if (!Holds(*row, done.owner)) {
                out.push_back(util::Fail(util::ErrorCode::kConflict, "lease lost"));
                continue;
            }
            row->status = done.status;
            if (done.status == store::OutboxStatus::kSent) {
                row->sent_at = done.sent_at;
                row->last_error.reset();
            } else {
                if (done.retry_at) row->next_attempt_at = *done.retry_at;
                row->last_error = done.error;
            }
            row->lease_owner.reset();
            row->lease_until.reset();
            out.push_back(util::Ok());
        }
        return out;
    }

    util::Result<std::optional<core::Timestamp>> NextOutboxDue(core::Timestamp now) override {
        std::lock_guard lock(mutex_);
        std::optional<core::Timestamp> due;
        for (const auto& row : rows_) {
            const bool open = row.status == store::OutboxStatus::kPending || row.status == store::OutboxStatus::kFailed;
            if (!open) continue;
            core::Timestamp at = row.next_attempt_at;
            if (row.lease_until && *row.lease_until > now) at = std::max(at, *row.lease_until);
            if (!due || at < *due) due = at;
        }
        return due;
    }

    util::Result<void> DisableEndpoint(const store::DisabledEndpoint& endpoint) override {
        std::lock_guard lock(mutex_);
        endpoints_.emplace(endpoint.key, endpoint);
        return util::Ok();
    }
    util::Result<std::vector<store::DisabledEndpoint>> ListDisabledEndpoints() override {
        std::lock_guard lock(mutex_);
        std::vector<store::DisabledEndpoint> out;
        for (const auto& [key, endpoint] : endpoints_)
            out.push_back(endpoint);
        return out;
    }

    util::Result<bool> AddNotification(const store::Notification& notification) override {
        std::lock_guard lock(mutex_);
        if (inbox_unavailable_) return util::Fail(util::ErrorCode::kUnavailable, "database is down (injected)");
        if (!users_.contains(notification.user_id)) {
            return util::Fail(util::ErrorCode::kNotFound, "no user \"" + notification.user_id + "\"");
        }
        return inbox_.emplace(notification.id, notification).second;
    }

    void AddUser(const std::string& id) {
        std::lock_guard lock(mutex_);
        users_.insert(id);
    }
    void SetInboxUnavailable(bool unavailable) {
        std::lock_guard lock(mutex_);
        inbox_unavailable_ = unavailable;
    }
    void FailClaims(int n) {
        std::lock_guard lock(mutex_);
        fail_claims_ = n;
    }
    /// The next `n` CompleteOutbox calls fail as a whole with `code`.
    void FailMarks(int n, util::ErrorCode code) {
        std::lock_guard lock(mutex_);
        fail_marks_ = n;
        fail_code_ = code;
    }
    /// Hands a row's lease to someone else (as if ours had expired and another worker claimed it).
    void StealLease(const std::string& id, const std::string& thief) {
        std::lock_guard lock(mutex_);
        if (auto* row = Find(id)) row->lease_owner = thief;
    }

    std::vector<store::OutboxRow> Rows() const {
        std::lock_guard lock(mutex_);
        return rows_;
    }
    store::OutboxRow Row(const std::string& id) const {
        std::lock_guard lock(mutex_);
        for (const auto& r : rows_) {
            if (r.message.id == id) return r;
        }
        return {};
    }
    std::map<std::string, store::Notification> Inbox() const {
        std::lock_guard lock(mutex_);
        return inbox_;
    }
    int claims() const {
        std::lock_guard lock(mutex_);
        return claims_;
    }
    /// CompleteOutbox calls so far (each one store transaction).
    int completes() const {
        std::lock_guard lock(mutex_);
        return completes_;
    }
    int CountStatus(store::OutboxStatus status) const {
        std::lock_guard lock(mutex_);
        return static_cast<int>(
            std::count_if(rows_.begin(), rows_.end(), [&](const auto& r) { return r.status == status; }));
    }

  private:
    store::OutboxRow* Find(const std::string& id) {
        for (auto& r : rows_) {
            if (r.message.id == id) return &r;
        }
        return nullptr;
    }
    static bool Holds(const store::OutboxRow& row, const std::string& owner) {
        const bool open = row.status == store::OutboxStatus::kPending || row.status == store::OutboxStatus::kFailed;
        return open && row.lease_owner == owner;
    }
    std::optional<util::Result<void>> Injected() {
        if (fail_marks_ <= 0) return std::nullopt;
        --fail_marks_;
        return util::Result<void>(util::Fail(fail_code_, "injected mark failure"));
    }

    mutable std::mutex mutex_;
    std::vector<store::OutboxRow> rows_;
    std::map<std::string, store::Notification> inbox_;
    std::set<std::string> users_;
    bool inbox_unavailable_ = false;
    int fail_claims_ = 0;
    int fail_marks_ = 0;
    util::ErrorCode fail_code_ = util::ErrorCode::kUnavailable;
    int claims_ = 0;
    int completes_ = 0;
    std::map<std::string, store::DisabledEndpoint> endpoints_;
};

/// A MailTransport that records envelopes and answers from a script (default: accepted).
class FakeMailTransport final : public MailTransport {
  public:
    DeliveryOutcome Send(const MailEnvelope& envelope) override {
        std::lock_guard lock(mutex_);
        sent_.push_back(envelope);
        if (script_.empty()) return DeliveryOutcome::Accepted("SMTP 250 (accepted) from fake");
        DeliveryOutcome next = script_.front();
        script_.pop_front();
        return next;
    }
    void Push(DeliveryOutcome outcome) {
        std::lock_guard lock(mutex_);
        script_.push_back(std::move(outcome));
    }
    std::vector<MailEnvelope> sent() const {
        std::lock_guard lock(mutex_);
        return sent_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<MailEnvelope> sent_;
    std::deque<DeliveryOutcome> script_;
};

/// A channel whose answers come from a function; counts calls and the most concurrent ones.
class ScriptedChannel final : public Channel {
  public:
    using Script = std::function<DeliveryOutcome(const store::OutboxRow&)>;

    ScriptedChannel(std::string name, Script script) : name_(std::move(name)), script_(std::move(script)) {}

    std::string_view name() const override { return name_; }
    DeliveryOutcome Deliver(const store::OutboxRow& row) override {
        const int now_active = ++active_;
        int seen = max_active_.load();
        while (now_active > seen && !max_active_.compare_exchange_weak(seen, now_active)) {
        }
        {
            std::lock_guard lock(mutex_);
            delivered_.push_back(row);
        }
        DeliveryOutcome outcome = script_(row);
        --active_;
        return outcome;
    }
    core::Duration MaxDeliveryTime() const override { return core::Seconds(15); }

    std::vector<store::OutboxRow> delivered() const {
        std::lock_guard lock(mutex_);
        return delivered_;
    }
    int max_active() const { return max_active_.load(); }

  private:
    std::string name_;
    Script script_;
    std::atomic<int> active_{0};
    std::atomic<int> max_active_{0};
    mutable std::mutex mutex_;
    std::vector<store::OutboxRow> delivered_;
};

}  // namespace railwatch::notify::test
