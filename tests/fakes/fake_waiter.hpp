#pragma once

#include <mutex>
#include <vector>

#include "core/time.hpp"
#include "railway/waiter.hpp"
#include "util/clock.hpp"

namespace railwatch::fakes {

/// A railway::Waiter that never blocks: each wait moves the FakeClock forward by the full
/// duration asked for, and is recorded. For callers whose answers arrive inline (ScriptedTransport).
class FakeWaiter final : public railway::Waiter {
  public:
    explicit FakeWaiter(util::FakeClock& clock) : clock_(clock) {}

    void Wait(std::unique_lock<std::mutex>&, std::condition_variable&, core::Duration max) override {
        clock_.Advance(max);
        std::lock_guard lock(mutex_);
        waits_.push_back(max);
    }

    std::vector<core::Duration> waits() const {
        std::lock_guard lock(mutex_);
        return waits_;
    }

    core::Duration total() const {
        std::lock_guard lock(mutex_);
        core::Duration sum{0};
        for (auto w : waits_)
            sum += w;
        return sum;
    }

  private:
    util::FakeClock& clock_;
    mutable std::mutex mutex_;
    std::vector<core::Duration> waits_;
};

}  // namespace railwatch::fakes
