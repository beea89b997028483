#include "util/clock.hpp"

#include <algorithm>
#include <cassert>
#include <optional>

namespace railwatch::util {

void Wakeup::Notify() {
    {
        std::lock_guard lock(mutex_);
        notified_ = true;
    }
    cv_.notify_all();
}

void Wakeup::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
    }
    cv_.notify_all();
}

bool Wakeup::Stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
}

namespace {

// Under wakeup's mutex: what ends the wait now, if anything (consuming a notification).
std::optional<WakeReason> Pending(bool& notified, bool stopped) {
    if (stopped) return WakeReason::kStopped;
    if (notified) {
        notified = false;
        return WakeReason::kNotified;
    }
    return std::nullopt;
}

}  // namespace

Timestamp SystemClock::Now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SteadyTime SystemClock::Steady() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

WakeReason SystemClock::WaitUntil(SteadyTime deadline, Wakeup& wakeup) const {
    std::unique_lock lock(wakeup.mutex_);
    for (;;) {
        if (auto reason = Pending(wakeup.notified_, wakeup.stopped_)) return *reason;
        if (Steady() >= deadline) return WakeReason::kDeadline;
        // Convert to the native steady clock's duration type explicitly; a deadline far in the
        // future (hours) is fine, the loop re-checks after a spurious wake-up.
        wakeup.cv_.wait_until(lock, std::chrono::time_point_cast<std::chrono::steady_clock::duration>(deadline));
    }
}

Timestamp FakeClock::DefaultStart() {
    using namespace std::chrono;
    return sys_days{year{2026} / January / 1};
}

FakeClock::FakeClock(Timestamp start, WaitMode mode)
    : wall_ns_(start.time_since_epoch().count()),
      steady_ns_(std::chrono::nanoseconds(std::chrono::hours(24)).count()),
      mode_(mode) {}

Timestamp FakeClock::Now() const {
    return Timestamp(Duration(wall_ns_.load()));
}

SteadyTime FakeClock::Steady() const {
    return SteadyTime(Duration(steady_ns_.load()));
}

WakeReason FakeClock::WaitUntil(SteadyTime deadline, Wakeup& wakeup) const {
    {
        std::lock_guard lock(mutex_);
        waits_.push_back(std::max(Duration{0}, deadline - Steady()));
    }
    if (mode_.load() == WaitMode::kAdvance) {
        {
            std::lock_guard lock(wakeup.mutex_);
            if (auto reason = Pending(wakeup.notified_, wakeup.stopped_)) return *reason;
        }
        const Duration ahead = deadline - Steady();
        if (ahead > Duration{0}) MoveBy(ahead);
        return WakeReason::kDeadline;
    }

    {
        std::lock_guard lock(mutex_);
        waiting_.push_back(&wakeup);
    }
    waiters_changed_.notify_all();
    WakeReason reason = WakeReason::kDeadline;
    {
        // Advance() changes the time first and then takes each waiting wakeup's mutex to notify
        // it, so checking the time under that mutex cannot miss a wake-up.
        std::unique_lock lock(wakeup.mutex_);
        for (;;) {
            if (auto pending = Pending(wakeup.notified_, wakeup.stopped_)) {
                reason = *pending;
                break;
            }
            if (Steady() >= deadline) break;
            wakeup.cv_.wait(lock);
        }
    }
    {
        std::lock_guard lock(mutex_);
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &wakeup));
    }
    waiters_changed_.notify_all();
    return reason;
}

void FakeClock::WakeDueWaiters() const {
    std::lock_guard lock(mutex_);
    for (Wakeup* w : waiting_) {
        std::lock_guard wake_lock(w->mutex_);
        w->cv_.notify_all();
    }
}

void FakeClock::MoveBy(Duration d) const {
    assert(d.count() >= 0);
    wall_ns_.fetch_add(d.count());
    steady_ns_.fetch_add(d.count());
    WakeDueWaiters();
}

void FakeClock::Advance(Duration d) {
    MoveBy(d);
}

void FakeClock::Set(Timestamp t) {
    const long long previous = wall_ns_.exchange(t.time_since_epoch().count());
    const long long delta = t.time_since_epoch().count() - previous;
    if (delta > 0) steady_ns_.fetch_add(delta);
    WakeDueWaiters();
}

void FakeClock::SetWaitMode(WaitMode mode) {
    mode_.store(mode);
}

std::size_t FakeClock::Waiters() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

bool FakeClock::AwaitWaiters(std::size_t n, std::chrono::milliseconds real_timeout) const {
    std::unique_lock lock(mutex_);
    return waiters_changed_.wait_for(lock, real_timeout, [&] { return waiting_.size() >= n; });
}

std::vector<Duration> FakeClock::Waits() const {
    std::lock_guard lock(mutex_);
    return waits_;
}

Duration FakeClock::TotalWaited() const {
    std::lock_guard lock(mutex_);
    Duration sum{0};
    for (Duration w : waits_)
        sum += w;
    return sum;
}

}  // namespace railwatch::util
