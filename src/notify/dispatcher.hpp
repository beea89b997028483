#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/notify_delivery.hpp"
#include "core/retry.hpp"
#include "notify/channel.hpp"
#include "notify/outbox_store.hpp"
#include "util/clock.hpp"

/// The outbox dispatcher ("notifier" thread): claims due outbox rows under a lease, delivers each
/// through its channel with bounded concurrency, and records the outcome — sent only after the
/// receiver accepted; otherwise retried on the jittered schedule (core::NextDeliveryDelay, the
/// receiver's Retry-After honoured) and dead-lettered after the last attempt or a permanent
/// failure, with the last error kept on the row (store ListDeliveries shows it).
///
/// Threads: one claimer (waits through util::Clock with a Wakeup: until the poll interval passes,
/// the earliest scheduled retry falls due, workers free slots, or Notify() says new rows exist; it
/// keeps up to 4 × concurrency rows claimed, so that workers never wait for a claim and claims
/// come in batches), `concurrency` delivery workers (the bound on requests in flight to
/// receivers), and `recorders` threads that write outcomes to the store (a worker hands its
/// outcome over and takes the next row, so that commits do not hold delivery slots; a recorder
/// writes every outcome waiting, up to 128, in one store call — Outbox::CompleteOutbox, one
/// transaction). Several processes may run
/// dispatchers on one store: the store gives each row to one of them, and a lost lease
/// (kConflict) is counted, not an error.
namespace railwatch::notify {

/// How the dispatcher works. Defaults suit production.
struct DispatcherOptions {
    /// The lease owner written into claimed rows; empty: util::NewId("notifier").
    std::string owner;
    int concurrency = 8;  ///< deliveries in flight at once (worker threads)
    /// Threads writing outcomes to the store, each a batch of up to 128 outcomes per store call;
    /// outcomes waiting for one are bounded (256), after which workers wait.
    int recorders = 2;
    /// The longest wait for due rows when nobody called Notify() (rows from other processes).
    core::Duration poll_interval = core::Seconds(2);
    core::DeliveryRetryPolicy retry;  ///< schedule and attempts (default: Standard Webhooks')
    /// A lease lasts 4 × the slowest channel's MaxDeliveryTime (a claimed row may wait behind 3
    /// deliveries) plus this, so that it outlives every attempt and another process never
    /// delivers a row that is still being delivered.
    core::Duration lease_margin = core::Seconds(60);
    /// A fixed lease instead ([notify.dispatch] lease_seconds); zero: the lease above. Shorter
    /// leases let rows of a process that died be taken over sooner, at the risk of a second
    /// delivery (same webhook-id / Message-ID) when a claimed row waits longer than the lease.
    core::Duration lease{0};
    int max_claim = 64;                                   ///< rows per claim at most
    core::Duration store_retry_delay = core::Seconds(1);  ///< wait after a failed claim
};

/// Counters since construction. Plain values, safe to copy.
struct DispatcherStats {
    std::uint64_t claimed = 0;       ///< rows claimed
    std::uint64_t delivered = 0;     ///< accepted and marked sent
    std::uint64_t retried = 0;       ///< failed and scheduled again
    std::uint64_t dead = 0;          ///< dead-lettered (permanent failure or attempts used up)
    std::uint64_t lost_leases = 0;   ///< another worker held the row when we recorded (kConflict)
    std::uint64_t store_errors = 0;  ///< claims or marks the store could not do
    std::string last_store_error;    ///< the latest of those, for people
};

/// What happened to one attempt, after it was recorded (for metrics and the event stream).
struct DeliveryReport {
    std::string row_id;   ///< the outbox row's id
    std::string channel;  ///< "email", "webhook", "in_app"
    int attempt = 0;      ///< 1 for the first attempt
    core::DeliveryVerdict verdict = core::DeliveryVerdict::kRetry;
    std::optional<core::Timestamp> retry_at;  ///< set when scheduled again
    bool dead = false;                        ///< dead-lettered
    bool lease_lost = false;                  ///< the outcome could not be recorded: another worker holds the row
    std::string detail;                       ///< the channel's words
    core::Duration latency{};                 ///< how long the delivery took (steady time)
    /// The row as the store now holds it (status, attempts, last error, sent or next attempt
    /// time, no lease); none when the outcome could not be recorded (lease_lost, a store error).
    std::optional<store::OutboxRow> recorded;
};

/// Called on a worker thread after each attempt; must be quick and thread-safe.
using DeliveryListener = std::function<void(const DeliveryReport&)>;

/// Makes one RandomSource per worker (for the retry jitter); default: util::SystemRandom.
using RandomFactory = std::function<std::unique_ptr<core::RandomSource>()>;

/// Thread-safety: Notify, Stats and Stop may be called from any thread; Start once, from the
/// owner. The store, channels and clock must outlive the dispatcher.
class Dispatcher {
  public:
    /// `channels` maps each outbox channel name to its channel (Channel::name()). A row naming a
    /// channel that is not here fails (retryable: "no … channel is configured").
    Dispatcher(OutboxStore& store, const std::vector<Channel*>& channels, const util::Clock& clock,
               DispatcherOptions options = {}, RandomFactory random = {});
    /// Stops (see Stop).
    ~Dispatcher();

    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    /// Starts the claimer and the workers. Called at most once.
    void Start();
    /// Ends the claimer's wait at once, lets workers deliver the rows already claimed (each delivery
    /// is bounded by its channel's timeout), records every outcome and joins every thread.
    /// Idempotent.
    void Stop();
    /// Says that new rows exist: the claimer looks now instead of at the next poll.
    void Notify();

    /// One pass on the calling thread, for tests and one-shot tools: claims up to `concurrency`
    /// due rows and delivers and records them one after the other. Returns how many it claimed.
    /// Not to be mixed with Start.
    int RunOnce();

    DispatcherStats Stats() const;
    /// Sets the listener; call before Start.
    void SetListener(DeliveryListener listener);

    /// The lease every claim takes.
    core::Duration lease() const { return lease_; }
    /// The lease owner of this dispatcher's claims.
    const std::string& owner() const { return options_.owner; }

  private:
    void ClaimLoop();
    void WorkerLoop();
    /// Delivers one row (no store call).
    DeliveryOutcome Deliver(const store::OutboxRow& row, DeliveryReport& report);
    struct Outcome {
        store::OutboxRow row;
        DeliveryOutcome outcome;
        DeliveryReport report;
    };
    /// What to record for one delivered row (fills report.retry_at / dead). No store call.
    store::OutboxCompletion Decide(const store::OutboxRow& row, const DeliveryOutcome& outcome, DeliveryReport& report,
                                   core::RandomSource& random) const;
    /// Writes the outcomes in one store call, updates the counters and tells the listener.
    void RecordBatch(std::vector<Outcome>& batch, core::RandomSource& random, util::Wakeup& wakeup);
    void RecorderLoop(core::RandomSource& random, util::Wakeup& wakeup);
    /// CompleteOutbox, trying again (a few times, backing off) the rows the store could not write
    /// for a passing reason; a lost lease (kConflict) is final. One result per completion.
    std::vector<util::Result<void>> Complete(const std::vector<store::OutboxCompletion>& completions,
                                             util::Wakeup& wakeup);
    void NoteStoreError(const util::Error& error);
    void NoteRetryAt(core::Timestamp at);

    OutboxStore& store_;
    std::map<std::string, Channel*, std::less<>> channels_;
    const util::Clock& clock_;
    DispatcherOptions options_;
    RandomFactory random_factory_;
    core::Duration lease_;
    std::unique_ptr<core::RandomSource> run_once_random_;
    DeliveryListener listener_;

    util::Wakeup claimer_wakeup_;
    util::Wakeup run_once_wakeup_;
    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::deque<store::OutboxRow> queue_;     // claimed, waiting for a worker; guarded by mutex_
    int in_flight_ = 0;                      // claimed and not yet delivered; guarded by mutex_
    int capacity_ = 0;                       // the most rows claimed and not yet delivered
    std::condition_variable outcome_ready_;  // recorders wait for outcomes
    std::condition_variable outcome_taken_;  // workers wait for room
    std::deque<Outcome> outcomes_;           // delivered, waiting to be recorded; guarded by mutex_
    bool workers_done_ = false;              // guarded by mutex_
    /// The claimer wants to hear when slots free up (its last claim was full, or it found no free
    /// slot). Guarded by mutex_.
    bool waiting_for_slots_ = false;
    bool stopping_ = false;                          // guarded by mutex_
    std::optional<core::Timestamp> earliest_retry_;  // guarded by mutex_
    std::vector<std::unique_ptr<util::Wakeup>> recorder_wakeups_;
    DispatcherStats stats_;  // guarded by mutex_
    bool started_ = false;
    std::thread claimer_;
    std::vector<std::thread> workers_;
    std::vector<std::thread> recorders_;
};

}  // namespace railwatch::notify
