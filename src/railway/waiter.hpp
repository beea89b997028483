#pragma once

#include <condition_variable>
#include <mutex>

#include "core/time.hpp"

/// How the client waits (for an answer, a retry delay, the budget): behind an interface so that
/// unit tests move a FakeClock instead of sleeping.
namespace railwatch::railway {

/// Blocks a caller that holds `lock` (on `cv`'s mutex) for at most `max`, waking early when `cv`
/// is notified. May return early (spuriously): callers re-check their condition and the clock.
class Waiter {
  public:
    virtual ~Waiter() = default;
    virtual void Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, core::Duration max) = 0;
};

/// Real time: `cv.wait_for`. Thread-safe.
class RealWaiter final : public Waiter {
  public:
    void Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, core::Duration max) override {
        cv.wait_for(lock, max);
    }
};

}  // namespace railwatch::railway
