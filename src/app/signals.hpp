#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "util/clock.hpp"

/// SIGINT and SIGTERM as a clean stop: the first one stops a util::Wakeup (every loop waiting
/// on it returns kStopped and the service stops its components in order); a second one, while
/// that stop is still running, ends the process at once with exit code 128 + the signal
/// (130 for SIGINT, 143 for SIGTERM), as a shell reports a process killed by it.
namespace railwatch::app {

/// The exit code of a stop forced by a second signal: 128 + `signal`.
constexpr int ForcedExitCode(int signal) {
    return 128 + signal;
}

/// Blocks SIGINT and SIGTERM in the calling thread. Threads inherit the mask of the thread that
/// creates them: call this first thing, before any thread exists, so that no thread but the
/// watcher ever receives them (the default action would kill the process).
void BlockShutdownSignals();

/// Watches SIGINT and SIGTERM on its own thread (signalfd). Construct it before starting any
/// other thread (it blocks the signals in the constructing thread, see BlockShutdownSignals).
/// The destructor ends the watcher thread; the signals stay blocked. One per process.
class ShutdownSignals {
  public:
    /// Called on the watcher thread for each signal: `count` is 1 for the first, 2 for the
    /// second (the process exits right after the call). Must be quick and must not throw.
    using Notice = std::function<void(int signal, int count)>;

    /// Throws std::system_error when the signal descriptor or the thread cannot be created (at
    /// start-up only).
    explicit ShutdownSignals(util::Wakeup& stop, Notice notice = {});
    ~ShutdownSignals();

    ShutdownSignals(const ShutdownSignals&) = delete;
    ShutdownSignals& operator=(const ShutdownSignals&) = delete;

    /// The first signal received, or 0 while none has been. Thread-safe.
    int received() const { return received_.load(); }

  private:
    void Run();

    util::Wakeup& stop_;
    Notice notice_;
    int signal_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: tells the watcher to end
    std::atomic<int> received_{0};
    std::thread watcher_;
};

}  // namespace railwatch::app
