#include "cli/stop_on_signals.hpp"

#include <pthread.h>

namespace railwatch::cli {

StopOnSignals::StopOnSignals(util::Wakeup& wakeup) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    thread_ = std::thread([this, &wakeup] {
        int received = 0;
        sigwait(&signals_, &received);
        if (finished_.load()) return;  // woken by the destructor, not by a person
        received_.store(received);
        wakeup.Stop();
    });
}

StopOnSignals::~StopOnSignals() {
    finished_.store(true);
    // Blocked there, so it only ends the sigwait; not sent when a signal already ended it.
    if (received_.load() == 0) pthread_kill(thread_.native_handle(), SIGINT);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace railwatch::cli
