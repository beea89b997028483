#pragma once

#include <signal.h>

#include <atomic>
#include <thread>

#include "util/clock.hpp"

namespace railwatch::cli {

/// Turns SIGINT and SIGTERM into `wakeup.Stop()`, for commands that run until a person stops them
/// (`watch`, `logs --follow`). The signals are blocked before any other thread starts (threads
/// inherit the mask) and received by one thread through sigwait, so no handler runs in the middle
/// of the command's code. Construct it before any thread is started (a CurlTransport starts one);
/// the destructor restores the previous signal mask. `wakeup` must outlive it. Not copyable;
/// received() may be called from any thread.
class StopOnSignals {
  public:
    explicit StopOnSignals(util::Wakeup& wakeup);
    StopOnSignals(const StopOnSignals&) = delete;
    StopOnSignals& operator=(const StopOnSignals&) = delete;
    ~StopOnSignals();

    /// SIGINT or SIGTERM once one stopped the command, else 0.
    int received() const { return received_.load(); }

  private:
    sigset_t signals_{};
    sigset_t previous_{};
    std::atomic<bool> finished_{false};
    std::atomic<int> received_{0};
    std::thread thread_;
};

}  // namespace railwatch::cli
