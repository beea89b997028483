#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "core/time.hpp"

/// Where `now` comes from, and how a thread waits for a moment to come. Everything outside core/
/// that needs the time or has to wait receives a Clock& through its constructor; tests pass a
/// FakeClock and never sleep. One seam for every loop: the scheduler, the notifier, the Railway
/// client, `railwatch watch` and the simulator's injected latency.
namespace railwatch::util {

using core::Duration;
using core::Timestamp;

/// Monotonic time, for measuring elapsed durations and deadlines (never jumps).
using SteadyTime = std::chrono::time_point<std::chrono::steady_clock, Duration>;

/// How a wait ended.
enum class WakeReason {
    kDeadline,  ///< the deadline came
    kNotified,  ///< Wakeup::Notify() was called (during the wait or before it)
    kStopped,   ///< Wakeup::Stop() was called (now or earlier); wins over a notification
};

/// What can end a wait early. Notify() ends the current wait of the one loop that owns this
/// wakeup, or its next wait if none is in progress (a notification is never lost; several
/// notifications before a wait count as one). Stop() ends every wait, now and later, for good.
/// Thread-safe. Must outlive every wait on it.
class Wakeup {
  public:
    Wakeup() = default;
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;

    void Notify();
    void Stop();
    bool Stopped() const;

  private:
    friend class SystemClock;
    friend class FakeClock;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool notified_ = false;  // guarded by mutex_
    bool stopped_ = false;   // guarded by mutex_
};

/// Thread-safe: every method may be called from any thread.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Wall-clock time in UTC (what gets stored and shown).
    virtual Timestamp Now() const = 0;
    /// Monotonic time (what deadlines and timeouts are measured with).
    virtual SteadyTime Steady() const = 0;
    /// Blocks until steady time reaches `deadline`, or `wakeup` is notified or stopped, whichever
    /// comes first. Consumes a pending notification. A deadline already past returns at once
    /// (kDeadline, unless a notification or stop is pending).
    virtual WakeReason WaitUntil(SteadyTime deadline, Wakeup& wakeup) const = 0;

    /// WaitUntil(Steady() + d). A non-positive `d` does not block.
    WakeReason WaitFor(Duration d, Wakeup& wakeup) const { return WaitUntil(Steady() + d, wakeup); }
};

/// The real clocks.
class SystemClock final : public Clock {
  public:
    Timestamp Now() const override;
    SteadyTime Steady() const override;
    WakeReason WaitUntil(SteadyTime deadline, Wakeup& wakeup) const override;
};

/// A clock that moves only when told. Wall and steady time advance together. Thread-safe.
///
/// How waits behave depends on the mode:
/// - kAdvance (default): a wait that no notification ends moves the clock forward to its
///   deadline and returns kDeadline at once. For code that waits on one thread while its
///   answers arrive inline (a scripted transport): the test runs at full speed.
/// - kBlock: a wait blocks (for real) until Advance()/Set() moves steady time to its deadline,
///   or its wakeup is notified or stopped. For tests that drive a loop running on another
///   thread step by step; AwaitWaiters() tells when that thread is waiting.
/// Every wait's requested length (deadline − now when it began) is recorded in Waits().
class FakeClock final : public Clock {
  public:
    enum class WaitMode { kAdvance, kBlock };

    /// Starts at `start` (default 2026-01-01T00:00:00Z) with steady time at its epoch + 1 day.
    explicit FakeClock(Timestamp start = DefaultStart(), WaitMode mode = WaitMode::kAdvance);

    Timestamp Now() const override;
    SteadyTime Steady() const override;
    WakeReason WaitUntil(SteadyTime deadline, Wakeup& wakeup) const override;

    /// Moves both clocks forward by `d` (must be non-negative) and wakes waits that are due.
    void Advance(Duration d);
    /// Sets wall time; steady time moves by the same amount if `t` is later, never backwards.
    void Set(Timestamp t);

    void SetWaitMode(WaitMode mode);
    /// How many threads are inside WaitUntil right now (kBlock mode).
    std::size_t Waiters() const;
    /// Blocks (real time, at most `real_timeout`) until at least `n` threads are waiting;
    /// returns whether they are.
    bool AwaitWaiters(std::size_t n, std::chrono::milliseconds real_timeout = std::chrono::seconds(10)) const;
    /// The length of every wait so far, in order.
    std::vector<Duration> Waits() const;
    /// The sum of Waits().
    Duration TotalWaited() const;

    static Timestamp DefaultStart();

  private:
    void MoveBy(Duration d) const;
    void WakeDueWaiters() const;

    // Mutable: a wait in kAdvance mode moves time from a const WaitUntil.
    mutable std::atomic<long long> wall_ns_;
    mutable std::atomic<long long> steady_ns_;
    std::atomic<WaitMode> mode_;

    mutable std::mutex mutex_;  // guards waiting_ and waits_
    mutable std::condition_variable waiters_changed_;
    mutable std::vector<Wakeup*> waiting_;
    mutable std::vector<Duration> waits_;
};

}  // namespace railwatch::util
