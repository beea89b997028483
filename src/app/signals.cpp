#include "app/signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "util/thread_name.hpp"

namespace railwatch::app {
namespace {

sigset_t ShutdownSet() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void BlockShutdownSignals() {
    const sigset_t set = ShutdownSet();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ShutdownSignals::ShutdownSignals(util::Wakeup& stop, Notice notice) : stop_(stop), notice_(std::move(notice)) {
    BlockShutdownSignals();
    const sigset_t set = ShutdownSet();
    signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
    if (signal_fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        const int error = errno;
        ::close(signal_fd_);
        throw std::system_error(error, std::generic_category(), "eventfd");
    }
    watcher_ = std::thread([this] { Run(); });
}

ShutdownSignals::~ShutdownSignals() {
    const std::uint64_t one = 1;
    // The watcher polls this descriptor too; a failed write would leave join() waiting, but an
    // eventfd write of 1 only fails when the counter is about to overflow, which it never is here.
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
    watcher_.join();
    ::close(signal_fd_);
    ::close(wake_fd_);
}

void ShutdownSignals::Run() {
    util::NameThisThread("rw-signals");
    int count = 0;
    while (true) {
        pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if ((fds[1].revents & POLLIN) != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        signalfd_siginfo info{};
        if (::read(signal_fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
        const int signo = static_cast<int>(info.ssi_signo);
        ++count;
        if (notice_) notice_(signo, count);
        if (count == 1) {
            received_.store(signo);
            stop_.Stop();
        } else {
            // The clean stop is taking too long for the user: leave now, without running
            // destructors or atexit handlers that could wait on the very thing that hangs.
            ::_exit(ForcedExitCode(signo));
        }
    }
}

}  // namespace railwatch::app
