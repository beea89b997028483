#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/notify_plan.hpp"
#include "notify/outbox_store.hpp"
#include "notify/planner.hpp"
#include "store/model.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace railwatch::store {
class Outbox;
class Instances;
class Users;
}  // namespace railwatch::store

/// Reminders for problems that stay unresolved ([notify.reminders]): a sweep that finds the first
/// notices of the recent past in the outbox, asks whether each problem is still open (the
/// instance still follows that deployment and is FAILED or flagged) and plans the reminder that
/// is due (core::PlanReminder). A reminder's dedup key carries its number, so sweeps that
/// overlap — two processes on one store, a restart — store each reminder once, and nothing about
/// reminders is kept in memory: a restarted process reminds on time.
///
///   StoreReminderSource source(store, store, store);   // Outbox, Instances, Users
///   ReminderSweep sweep(planner, policy, source, adapter, clock);
///   sweep.Start([&] { dispatcher.Notify(); });        // or RunOnce() in tests
namespace railwatch::notify {

/// The instance a problem notice was about, as the sweep finds it.
struct ReminderSubject {
    core::ProblemSubject problem;
    std::optional<core::NotifyUser> user;  ///< its user with the email address (payloads omit it)
};

/// What the sweep reads. Thread-safe; errors as the store's (kUnavailable, kIo).
class ReminderSource {
  public:
    virtual ~ReminderSource() = default;
    /// Every outbox row created at or after `since`, any status.
    virtual util::Result<std::vector<store::OutboxRow>> RowsCreatedSince(core::Timestamp since) = 0;
    /// The instance `instance_id` and its user; nullopt when the store has no such instance.
    virtual util::Result<std::optional<ReminderSubject>> Subject(const std::string& instance_id) = 0;
};

/// ReminderSource over the store's roles, which must outlive it.
class StoreReminderSource final : public ReminderSource {
  public:
    StoreReminderSource(store::Outbox& outbox, store::Instances& instances, store::Users& users)
        : outbox_(outbox), instances_(instances), users_(users) {}

    /// Pages ListDeliveries (newest first) until a row older than `since`.
    util::Result<std::vector<store::OutboxRow>> RowsCreatedSince(core::Timestamp since) override;
    util::Result<std::optional<ReminderSubject>> Subject(const std::string& instance_id) override;

  private:
    store::Outbox& outbox_;
    store::Instances& instances_;
    store::Users& users_;
};

/// Counters since construction. Plain values.
struct ReminderStats {
    std::uint64_t sweeps = 0;         ///< passes that read the outbox
    std::uint64_t reminders = 0;      ///< reminder rows stored (new dedup keys)
    std::uint64_t failed_sweeps = 0;  ///< passes the store could not serve
    std::string last_error;           ///< the latest failure, for people
};

/// Thread-safety: RunOnce and Stats from any thread; Start and Stop from the owner (Start at most
/// once). The planner, source, outbox and clock must outlive the sweep.
class ReminderSweep {
  public:
    ReminderSweep(const OutboxPlanner& planner, core::ReminderPolicy policy, ReminderSource& source,
                  OutboxStore& outbox, const util::Clock& clock);
    /// Stops (see Stop).
    ~ReminderSweep();

    ReminderSweep(const ReminderSweep&) = delete;
    ReminderSweep& operator=(const ReminderSweep&) = delete;

    /// Whether the policy asks for reminders at all (repeat_every > 0 and max_reminders > 0).
    bool enabled() const;
    /// How often the thread sweeps: a quarter of repeat_every, between 1 s and 60 s, so that a
    /// reminder goes out at most that late.
    core::Duration period() const;
    /// How far back first notices are looked for: (max_reminders + 1) × repeat_every. Older ones
    /// have had every reminder they can get.
    core::Duration window() const;

    /// One pass at the clock's now: reads the rows of the window, takes each problem's first
    /// notice once (rows of one event share its id), plans the due reminder of each open problem
    /// and stores the rows. Returns how many rows were new. Errors: the store's; nothing is
    /// half-done that the next pass would not finish (each reminder's rows go in one call).
    util::Result<int> RunOnce();

    /// Starts the thread (when enabled()): RunOnce every period(), `on_new_rows` after a pass that
    /// stored rows (e.g. to wake the dispatcher).
    void Start(std::function<void()> on_new_rows);
    /// Ends the wait at once and joins the thread. Idempotent.
    void Stop();

    ReminderStats Stats() const;

  private:
    void Loop();

    const OutboxPlanner& planner_;
    const core::ReminderPolicy policy_;
    ReminderSource& source_;
    OutboxStore& outbox_;
    const util::Clock& clock_;
    std::function<void()> on_new_rows_;
    util::Wakeup wakeup_;
    std::thread thread_;
    mutable std::mutex mutex_;
    ReminderStats stats_;
};

}  // namespace railwatch::notify
