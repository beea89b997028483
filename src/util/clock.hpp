#pragma once

#include <atomic>
#include <chrono>

#include "core/time.hpp"

/// Where `now` comes from. Everything outside core/ that needs the time receives a Clock& through
/// its constructor; tests pass a FakeClock and never sleep.
namespace railwatch::util {

using core::Duration;
using core::Timestamp;

/// Monotonic time, for measuring elapsed durations and deadlines (never jumps).
using SteadyTime = std::chrono::time_point<std::chrono::steady_clock, Duration>;

/// Thread-safe: both methods may be called from any thread.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Wall-clock time in UTC (what gets stored and shown).
    virtual Timestamp Now() const = 0;
    /// Monotonic time (what deadlines and timeouts are measured with).
    virtual SteadyTime Steady() const = 0;
};

/// The real clocks.
class SystemClock final : public Clock {
  public:
    Timestamp Now() const override;
    SteadyTime Steady() const override;
};

/// A clock that moves only when told. Wall and steady time advance together. Thread-safe.
class FakeClock final : public Clock {
  public:
    /// Starts at `start` (default 2026-01-01T00:00:00Z) with steady time at its epoch + 1 day.
    explicit FakeClock(Timestamp start = DefaultStart());

    Timestamp Now() const override;
    SteadyTime Steady() const override;

    /// Moves both clocks forward by `d` (must be non-negative).
    void Advance(Duration d);
    /// Sets wall time; steady time moves by the same amount if `t` is later, never backwards.
    void Set(Timestamp t);

    static Timestamp DefaultStart();

  private:
    std::atomic<long long> wall_ns_;
    std::atomic<long long> steady_ns_;
};

}  // namespace railwatch::util
