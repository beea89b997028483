#include "notify/dispatcher.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "notify/payload.hpp"
#include "util/ids.hpp"
#include "util/random.hpp"
#include "util/rfc3339.hpp"
#include "util/thread_name.hpp"

namespace railwatch::notify {
namespace {

constexpr std::size_t kMaxStoredErrorBytes = 2000;
constexpr int kMarkTries = 3;
constexpr core::Duration kFirstMarkRetry = core::Millis(100);
// Rows claimed ahead per worker. Each claim scans the due rows, so claims should be large; a
// claimed row may wait behind this many deliveries of its worker, which its lease accounts for.
constexpr int kClaimAhead = 4;
// Outcomes one recorder writes in one store call (one transaction) at most.
constexpr std::size_t kMaxRecordBatch = 128;
// Outcomes waiting for a recorder at most; then workers wait.
constexpr std::size_t kMaxWaitingOutcomes = 2 * kMaxRecordBatch;

// The claimed row as the store holds it once `done` is recorded (Outbox::CompleteOutbox: sent
// clears the error; failed and dead keep the attempt's error, failed with its next attempt time;
// both end the lease). Compared with the store's own rows by the dead-letter run of
// tests/integration/notify/dispatcher_e2e_test.cpp.
store::OutboxRow AsRecorded(store::OutboxRow row, const store::OutboxCompletion& done) {
    row.status = done.status;
    row.lease_owner.reset();
    row.lease_until.reset();
    if (done.status == store::OutboxStatus::kSent) {
        row.sent_at = done.sent_at;
        row.last_error.reset();
    } else {
        row.last_error = done.error;
        if (done.retry_at) row.next_attempt_at = *done.retry_at;
    }
    return row;
}

bool WorthRetrying(util::ErrorCode code) {
    return code == util::ErrorCode::kUnavailable || code == util::ErrorCode::kIo || code == util::ErrorCode::kTimeout ||
           code == util::ErrorCode::kInternal;
}

}  // namespace

Dispatcher::Dispatcher(OutboxStore& store, const std::vector<Channel*>& channels, const util::Clock& clock,
                       DispatcherOptions options, RandomFactory random)
    : store_(store), clock_(clock), options_(std::move(options)), random_factory_(std::move(random)) {
    if (options_.owner.empty()) options_.owner = util::NewId("notifier");
    options_.concurrency = std::max(options_.concurrency, 1);
    options_.max_claim = std::max(options_.max_claim, 1);
    options_.recorders = std::max(options_.recorders, 1);
    capacity_ = kClaimAhead * options_.concurrency;
    if (!random_factory_) {
        random_factory_ = [] { return std::unique_ptr<core::RandomSource>(new util::SystemRandom()); };
    }
    core::Duration slowest{0};
    for (Channel* channel : channels) {
        channels_[std::string(channel->name())] = channel;
        slowest = std::max(slowest, channel->MaxDeliveryTime());
    }
    lease_ = options_.lease > core::Duration::zero()
                 ? options_.lease
                 : slowest * kClaimAhead + std::max(options_.lease_margin, core::Seconds(1));
    run_once_random_ = random_factory_();
}

Dispatcher::~Dispatcher() {
    Stop();
}

void Dispatcher::SetListener(DeliveryListener listener) {
    listener_ = std::move(listener);
}

void Dispatcher::Start() {
    if (started_) return;
    started_ = true;
    for (int i = 0; i < options_.recorders; ++i)
        recorder_wakeups_.push_back(std::make_unique<util::Wakeup>());
    for (int i = 0; i < options_.recorders; ++i) {
        recorders_.emplace_back([this, i] {
            util::NameThisThread("rw-notify-rec-" + std::to_string(i));
            auto random = random_factory_();
            RecorderLoop(*random, *recorder_wakeups_[static_cast<std::size_t>(i)]);
        });
    }
    for (int i = 0; i < options_.concurrency; ++i) {
        workers_.emplace_back([this, i] {
            util::NameThisThread("rw-notify-" + std::to_string(i));
            WorkerLoop();
        });
    }
    claimer_ = std::thread([this] { ClaimLoop(); });
}

void Dispatcher::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    claimer_wakeup_.Stop();
    work_ready_.notify_all();
    if (claimer_.joinable()) claimer_.join();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    {
        std::lock_guard lock(mutex_);
        workers_done_ = true;
    }
    outcome_ready_.notify_all();
    for (auto& recorder : recorders_) {
        if (recorder.joinable()) recorder.join();
    }
}

void Dispatcher::Notify() {
    claimer_wakeup_.Notify();
}

DispatcherStats Dispatcher::Stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void Dispatcher::NoteStoreError(const util::Error& error) {
    std::lock_guard lock(mutex_);
    ++stats_.store_errors;
    stats_.last_store_error = error.ToString();
}

void Dispatcher::NoteRetryAt(core::Timestamp at) {
    {
        std::lock_guard lock(mutex_);
        if (earliest_retry_ && *earliest_retry_ <= at) return;
        earliest_retry_ = at;
    }
    // The claimer may be waiting for a later moment: let it compute its deadline again.
    claimer_wakeup_.Notify();
}

void Dispatcher::ClaimLoop() {
    util::NameThisThread("rw-notify-claim");
    for (;;) {
        int free = 0;
        const core::Timestamp now = clock_.Now();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            free = capacity_ - in_flight_;
            if (earliest_retry_ && *earliest_retry_ <= now) earliest_retry_.reset();
            if (free <= 0) waiting_for_slots_ = true;
        }
        bool claim_again = false;
        bool drained = false;  // the claim found fewer due rows than it had room for
        if (free > 0) {
            const int want = std::min(free, options_.max_claim);
            auto rows = store_.ClaimOutbox(options_.owner, now, lease_, want);
            if (!rows) {
                NoteStoreError(rows.error());
                if (clock_.WaitFor(options_.store_retry_delay, claimer_wakeup_) == util::WakeReason::kStopped) return;
                continue;
            }
            const int got = static_cast<int>(rows->size());
            {
                std::lock_guard lock(mutex_);
                for (auto& row : *rows)
                    queue_.push_back(std::move(row));
                in_flight_ += got;
                stats_.claimed += static_cast<std::uint64_t>(got);
                // A full claim means more rows may be due: claim again as soon as slots free up.
                waiting_for_slots_ = got == want;
                claim_again = got == want && in_flight_ < capacity_;
            }
            drained = got < want;
            if (got > 0) work_ready_.notify_all();
        }
        if (claim_again) continue;

        util::SteadyTime deadline = clock_.Steady() + options_.poll_interval;
        {
            std::lock_guard lock(mutex_);
            if (earliest_retry_) {
                deadline =
                    std::min(deadline, clock_.Steady() + std::max(core::Duration::zero(), *earliest_retry_ - now));
            }
        }
        if (drained) {
            // Rows scheduled by other processes (or replayed) fall due between polls: wake for the
            // first of them. A time already past is a row another claimer holds or took
            // meanwhile; the poll interval covers it rather than a busy loop.
            if (auto due = store_.NextOutboxDue(now); !due) {
                NoteStoreError(due.error());
            } else if (*due && **due > now) {
                deadline = std::min(deadline, clock_.Steady() + (**due - now));
            }
        }
        if (clock_.WaitUntil(deadline, claimer_wakeup_) == util::WakeReason::kStopped) return;
    }
}

void Dispatcher::WorkerLoop() {
    // Wake the claimer once half of the claimed rows are delivered: claims stay batched.
    const int low_water = std::max(1, capacity_ / 2);
    for (;;) {
        store::OutboxRow row;
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            // At a stop the rows already claimed are still delivered: they are leased to us.
            if (queue_.empty()) return;
            row = std::move(queue_.front());
            queue_.pop_front();
        }
        DeliveryReport report;
        DeliveryOutcome outcome = Deliver(row, report);
        bool wake_claimer = false;
        {
            std::unique_lock lock(mutex_);
            outcome_taken_.wait(lock, [&] { return outcomes_.size() < kMaxWaitingOutcomes; });
            outcomes_.push_back(Outcome{std::move(row), std::move(outcome), std::move(report)});
            --in_flight_;
            if (waiting_for_slots_ && capacity_ - in_flight_ >= low_water) {
                waiting_for_slots_ = false;
                wake_claimer = true;
            }
        }
        outcome_ready_.notify_one();
        if (wake_claimer) claimer_wakeup_.Notify();
    }
}

void Dispatcher::RecorderLoop(core::RandomSource& random, util::Wakeup& wakeup) {
    std::vector<Outcome> batch;
    for (;;) {
        batch.clear();
        {
            std::unique_lock lock(mutex_);
            outcome_ready_.wait(lock, [&] { return workers_done_ || !outcomes_.empty(); });
            if (outcomes_.empty()) return;
            // Everything waiting goes in one store call: one transaction for many outcomes.
            while (!outcomes_.empty() && batch.size() < kMaxRecordBatch) {
                batch.push_back(std::move(outcomes_.front()));
                outcomes_.pop_front();
            }
        }
        outcome_taken_.notify_all();
        RecordBatch(batch, random, wakeup);
    }
}

int Dispatcher::RunOnce() {
    const int want = std::min(options_.concurrency, options_.max_claim);
    auto rows = store_.ClaimOutbox(options_.owner, clock_.Now(), lease_, want);
    if (!rows) {
        NoteStoreError(rows.error());
        return 0;
    }
    {
        std::lock_guard lock(mutex_);
        stats_.claimed += rows->size();
    }
    std::vector<Outcome> batch;
    for (auto& row : *rows) {
        DeliveryReport report;
        DeliveryOutcome outcome = Deliver(row, report);
        batch.push_back(Outcome{std::move(row), std::move(outcome), std::move(report)});
    }
    RecordBatch(batch, *run_once_random_, run_once_wakeup_);
    return static_cast<int>(batch.size());
}

std::vector<util::Result<void>> Dispatcher::Complete(const std::vector<store::OutboxCompletion>& completions,
                                                     util::Wakeup& wakeup) {
    std::vector<util::Result<void>> results(completions.size());
    std::vector<std::size_t> unrecorded(completions.size());
    for (std::size_t i = 0; i < unrecorded.size(); ++i)
        unrecorded[i] = i;
    core::Duration delay = kFirstMarkRetry;
    for (int attempt = 1; !unrecorded.empty(); ++attempt) {
        std::vector<store::OutboxCompletion> batch;
        batch.reserve(unrecorded.size());
        for (const std::size_t i : unrecorded)
            batch.push_back(completions[i]);
        auto done = store_.CompleteOutbox(batch);
        std::vector<std::size_t> again;
        if (!done) {
            for (const std::size_t i : unrecorded)
                results[i] = tl::unexpected(done.error());
            if (WorthRetrying(done.error().code)) again = unrecorded;
        } else {
            for (std::size_t k = 0; k < unrecorded.size(); ++k) {
                util::Result<void> one =
                    k < done->size() ? (*done)[k]
                                     : util::Fail(util::ErrorCode::kInternal, "the store returned too few results");
                if (!one && WorthRetrying(one.error().code)) again.push_back(unrecorded[k]);
                results[unrecorded[k]] = std::move(one);
            }
        }
        if (again.empty() || attempt >= kMarkTries) break;
        if (clock_.WaitFor(delay, wakeup) == util::WakeReason::kStopped) break;
        delay *= 2;
        unrecorded = std::move(again);
    }
    return results;
}

DeliveryOutcome Dispatcher::Deliver(const store::OutboxRow& row, DeliveryReport& report) {
    const auto started = clock_.Steady();
    DeliveryOutcome outcome;
    if (const auto it = channels_.find(row.message.channel); it != channels_.end()) {
        outcome = it->second->Deliver(row);
    } else {
        outcome = DeliveryOutcome::Retry(
            fmt::format("no \"{}\" channel is configured in this railwatch, so the row waits for one (see [notify.{}])",
                        CleanText(row.message.channel, 64), CleanText(row.message.channel, 64)));
    }
    report.row_id = row.message.id;
    report.channel = row.message.channel;
    report.attempt = std::max(row.attempts, 1);
    report.verdict = outcome.verdict;
    report.detail = outcome.detail;
    report.latency = clock_.Steady() - started;
    return outcome;
}

store::OutboxCompletion Dispatcher::Decide(const store::OutboxRow& row, const DeliveryOutcome& outcome,
                                           DeliveryReport& report, core::RandomSource& random) const {
    const core::Timestamp now = clock_.Now();
    const int max_attempts = core::MaxAttempts(options_.retry);
    store::OutboxCompletion done;
    done.id = row.message.id;
    done.owner = options_.owner;
    if (outcome.accepted()) {
        done.status = store::OutboxStatus::kSent;
        done.sent_at = now;
        return done;
    }
    if (outcome.verdict == core::DeliveryVerdict::kRetry) {
        if (const auto delay =
                core::NextDeliveryDelay(options_.retry, report.attempt, random.NextUnit(), outcome.retry_after)) {
            report.retry_at = now + *delay;
            done.error =
                fmt::format("attempt {}/{}: {}; next attempt at {}", report.attempt, max_attempts, outcome.detail,
                            util::FormatRfc3339(*report.retry_at, util::TimePrecision::kSeconds));
        } else {
            report.dead = true;
            done.error = fmt::format("dead after attempt {}/{}: {}", report.attempt, max_attempts, outcome.detail);
        }
    } else {
        report.dead = true;
        done.error = fmt::format("dead after attempt {} (permanent failure): {}", report.attempt, outcome.detail);
    }
    done.error = CleanText(done.error, kMaxStoredErrorBytes);
    done.status = report.dead ? store::OutboxStatus::kDead : store::OutboxStatus::kFailed;
    done.retry_at = report.retry_at;
    return done;
}

void Dispatcher::RecordBatch(std::vector<Outcome>& batch, core::RandomSource& random, util::Wakeup& wakeup) {
    if (batch.empty()) return;
    std::vector<store::OutboxCompletion> completions;
    completions.reserve(batch.size());
    for (auto& item : batch)
        completions.push_back(Decide(item.row, item.outcome, item.report, random));
    const auto results = Complete(completions, wakeup);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto& item = batch[i];
        const auto& marked = results[i];
        if (!marked) {
            if (marked.error().code == util::ErrorCode::kConflict) {
                item.report.lease_lost = true;
                std::lock_guard lock(mutex_);
                ++stats_.lost_leases;
            } else {
                NoteStoreError(marked.error());
            }
        } else {
            std::lock_guard lock(mutex_);
            if (item.outcome.accepted()) {
                ++stats_.delivered;
            } else if (item.report.dead) {
                ++stats_.dead;
            } else {
                ++stats_.retried;
            }
        }
        if (marked && item.report.retry_at) NoteRetryAt(*item.report.retry_at);
        if (marked) item.report.recorded = AsRecorded(std::move(item.row), completions[i]);
        if (listener_) listener_(item.report);
    }
}

}  // namespace railwatch::notify
