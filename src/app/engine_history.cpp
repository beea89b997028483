#include "app/engine_history.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <vector>

#include "util/thread_name.hpp"

namespace railwatch::app {

namespace {

constexpr core::Duration kMinute = core::Seconds(60);
// GET /stats's budget: requests of the last hour, the rate over the last 5 minutes.
constexpr core::Duration kHour = core::Seconds(3600);
constexpr int kRateMinutes = 5;

}  // namespace

EngineHistory::EngineHistory(const util::Clock& clock, store::EngineMinutes& store,
                             const railway::RequestBudget* budget, std::string worker_id, spdlog::logger* logger,
                             EngineHistoryOptions options)
    : clock_(clock),
      store_(store),
      budget_(budget),
      worker_id_(std::move(worker_id)),
      logger_(logger),
      options_(options),
      started_at_(clock.Now()) {
    // Requests sent before this history existed (a token check at start-up) are not counted.
    if (budget_ != nullptr) requests_seen_ = budget_->Snapshot().requests_sent;
}

EngineHistory::~EngineHistory() {
    Stop();
}

void EngineHistory::Start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (stopped_ || thread_.joinable()) return;
    thread_ = std::thread([this] { Run(); });
}

void EngineHistory::Stop() {
    {
        std::lock_guard lock(lifecycle_mutex_);
        if (stopped_) return;
        stopped_ = true;
    }
    wakeup_.Stop();
    if (thread_.joinable()) thread_.join();
    // The minute in progress is written too, so that a clean shutdown loses nothing.
    if (auto r = Flush(); !r && logger_ != nullptr)
        logger_->warn("engine history: the last counts were not stored: {}", r.error().ToString());
}

void EngineHistory::Run() {
    util::NameThisThread("rw-history");
    while (clock_.WaitFor(options_.flush_every, wakeup_) != util::WakeReason::kStopped) {
        if (auto r = Flush(); !r && logger_ != nullptr)
            logger_->warn("engine history: counts not stored, kept for the next try: {}", r.error().ToString());
    }
}

void EngineHistory::SampleLocked(core::Timestamp now) const {
    const core::Timestamp minute = core::AlignDown(now, kMinute);
    // Only the last hour is needed in memory.
    recent_.erase(recent_.begin(), recent_.lower_bound(minute - kHour));
    if (budget_ == nullptr) return;
    const railway::BudgetSnapshot snap = budget_->Snapshot();
    const long long sent = snap.requests_sent - requests_seen_;
    if (sent <= 0) return;
    requests_seen_ = snap.requests_sent;
    core::EngineMinute& p = pending_[minute];
    p.minute = minute;
    p.api_requests += sent;
    // What a request just told (X-RateLimit-Remaining), else the limiter's own count.
    p.budget_remaining = snap.server_remaining ? static_cast<long long>(*snap.server_remaining)
                                               : static_cast<long long>(std::floor(snap.hour_remaining));
    p.budget_seen_at = now;
    recent_[minute].api_requests += sent;
}

void EngineHistory::OnChecks(std::size_t checked) {
    const core::Timestamp now = clock_.Now();
    std::lock_guard lock(mutex_);
    SampleLocked(now);
    if (checked == 0) return;
    const core::Timestamp minute = core::AlignDown(now, kMinute);
    core::EngineMinute& p = pending_[minute];
    p.minute = minute;
    p.checks += static_cast<long long>(checked);
    recent_[minute].checks += static_cast<long long>(checked);
}

util::Result<void> EngineHistory::Flush() {
    const core::Timestamp now = clock_.Now();
    std::vector<core::EngineMinute> batch;
    {
        std::lock_guard lock(mutex_);
        SampleLocked(now);
        for (const auto& entry : pending_)
            batch.push_back(entry.second);
        pending_.clear();
    }
    const core::Timestamp rotate_before = core::AlignDown(now - options_.keep, kMinute);
    auto written = store_.RecordEngineMinutes(worker_id_, batch, rotate_before);
    if (written) return written;
    // Not written (the store changed nothing): merge the counts back for the next try.
    std::lock_guard lock(mutex_);
    for (const core::EngineMinute& m : batch) {
        if (m.minute < rotate_before) continue;
        core::EngineMinute& p = pending_[m.minute];
        p.minute = m.minute;
        p.checks += m.checks;
        p.api_requests += m.api_requests;
        if (m.budget_seen_at && (!p.budget_seen_at || *m.budget_seen_at > *p.budget_seen_at)) {
            p.budget_remaining = m.budget_remaining;
            p.budget_seen_at = m.budget_seen_at;
        }
    }
    return written;
}

double EngineHistory::ChecksPerMinute() const {
    const core::Timestamp now = clock_.Now();
    std::lock_guard lock(mutex_);
    SampleLocked(now);
    const core::Timestamp minute = core::AlignDown(now, kMinute);
    const core::Timestamp rate_from = minute - kMinute * (kRateMinutes - 1);
    long long checks = 0;
    for (const auto& [at, counts] : recent_) {
        if (at >= rate_from) checks += counts.checks;
    }
    const core::Timestamp span_from = started_at_ && *started_at_ > rate_from ? *started_at_ : rate_from;
    const double span_minutes = core::ToSecondsF(now - span_from) / 60.0;
    return span_minutes > 0 ? static_cast<double>(checks) / span_minutes : 0.0;
}

std::optional<core::BudgetStatus> EngineHistory::Budget() const {
    if (budget_ == nullptr) return std::nullopt;
    const core::Timestamp now = clock_.Now();
    const railway::BudgetSnapshot snap = budget_->Snapshot();
    if (snap.requests_sent == 0) return std::nullopt;
    core::BudgetFacts facts;
    facts.limit_per_hour = snap.hour_limit;
    facts.remaining = snap.server_remaining ? static_cast<long long>(*snap.server_remaining)
                                            : static_cast<long long>(std::floor(snap.hour_remaining));
    facts.reset_at = snap.server_reset;
    {
        std::lock_guard lock(mutex_);
        SampleLocked(now);
        const core::Timestamp minute = core::AlignDown(now, kMinute);
        const core::Timestamp rate_from = minute - kMinute * (kRateMinutes - 1);
        for (const auto& [at, counts] : recent_) {
            if (at > minute - kHour) facts.used_last_hour += counts.api_requests;
            if (at >= rate_from) facts.used_recently += counts.api_requests;
        }
        const core::Timestamp span_from = started_at_ && *started_at_ > rate_from ? *started_at_ : rate_from;
        facts.recent_span = now - span_from;
    }
    return core::ComputeBudgetStatus(facts, now);
}

}  // namespace railwatch::app
