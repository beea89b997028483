#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/stats_history.hpp"
#include "railway/budget.hpp"
#include "store/engine_minutes.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace spdlog {
class logger;
}

/// The engine's activity per minute — deployment status checks, Railway requests, the budget
/// left — kept in memory and written to the store about once a minute (store::EngineMinutes), so
/// that GET /stats/history's checks, apiRequests and budgetRemaining survive a restart and add up
/// over every process sharing a store. Also the source of GET /stats's `budget`.
namespace railwatch::app {

struct EngineHistoryOptions {
    /// How often the counts are written: at most one store write per period (and one at Stop).
    core::Duration flush_every = core::Seconds(60);
    /// Rows older than this are deleted at each write (every process's rows).
    core::Duration keep = core::Seconds(std::int64_t{8} * 24 * 3600);
};

/// Counts in memory on the hot path (a mutex and an addition per batch of checks); Railway
/// requests are the growth of the budget's requests_sent, sampled at each batch, each flush and
/// each Budget() call and counted in the minute of the sample (so a request sent late in a minute
/// may land in the next one). Thread-safety: every method from any thread; Start and Stop from
/// the owner, Start at most once.
class EngineHistory {
  public:
    /// `budget` may be null (no Railway client: no requests, no budget). `store`, `budget`,
    /// `clock` and `logger` (may be null) must outlive the EngineHistory. `worker_id` names this
    /// process's rows; it should be unique per process (two processes with one id add up too).
    EngineHistory(const util::Clock& clock, store::EngineMinutes& store, const railway::RequestBudget* budget,
                  std::string worker_id, spdlog::logger* logger, EngineHistoryOptions options = {});
    /// Stops (with the last write) if still running.
    ~EngineHistory();
    EngineHistory(const EngineHistory&) = delete;
    EngineHistory& operator=(const EngineHistory&) = delete;

    /// Starts the thread that writes every `flush_every`.
    void Start();
    /// Stops that thread, then writes what is left. Idempotent; safe without Start.
    void Stop();

    /// `checked` deployment status checks were answered now.
    void OnChecks(std::size_t checked);

    /// Writes every count not written yet in one store call (and rotates old rows). On an error
    /// the counts are kept for the next call (those older than `keep` are dropped).
    util::Result<void> Flush();

    /// The `budget` of GET /stats from the budget's state and this process's requests of the last
    /// hour; nullopt before the first Railway request (or without a budget).
    std::optional<core::BudgetStatus> Budget() const;
    /// Deployment status checks per minute over the last 5 minutes (the current one included;
    /// over the time since the start when that is shorter), as GET /stats `checksPerMinute`.
    double ChecksPerMinute() const;

  private:
    struct Counts {
        long long checks = 0;
        long long api_requests = 0;
    };

    /// Counts the requests sent since the last sample in the current minute. Under mutex_.
    void SampleLocked(core::Timestamp now) const;
    void Run();

    const util::Clock& clock_;
    store::EngineMinutes& store_;
    const railway::RequestBudget* budget_;
    const std::string worker_id_;
    spdlog::logger* logger_;
    const EngineHistoryOptions options_;

    mutable std::mutex mutex_;
    // Mutable: a sample (from the const Budget()) moves requests into the minutes.
    mutable long long requests_seen_ = 0;
    mutable std::map<core::Timestamp, core::EngineMinute> pending_;  // not written yet, by minute
    mutable std::map<core::Timestamp, Counts> recent_;               // the last hour, by minute
    std::optional<core::Timestamp> started_at_;

    util::Wakeup wakeup_;
    std::thread thread_;
    std::mutex lifecycle_mutex_;
    bool stopped_ = false;
};

}  // namespace railwatch::app
