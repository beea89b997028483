#include "pty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace railwatch::test {
namespace {

struct CStrings {
    std::vector<std::string> storage;
    std::vector<char*> pointers;
    explicit CStrings(const std::vector<std::string>& values) : storage(values) {
        for (auto& s : storage)
            pointers.push_back(s.data());
        pointers.push_back(nullptr);
    }
};

int DecodeStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -1;
}

// Reads every fd in `fds` into the matching output until all reach EOF / error, then reaps `pid`.
// Kills the child at the deadline. Sends the interrupt of `options` (to `pty_master`, or as SIGINT
// when there is none) once its text shows.
void Collect(pid_t pid, std::vector<std::pair<int, std::string*>> fds, const RunOptions& options, int pty_master,
             TerminalRun& run) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    std::chrono::steady_clock::time_point interrupted_at;
    char buffer[4096];
    bool exited = false;
    int status = 0;
    while (!fds.empty()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            run.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        // Whether the child has exited is asked before the poll, never after it: output written
        // and an exit that both came after a poll found nothing readable would otherwise end the
        // run with that output unread (seen as "exit 0, 0 bytes on stdout" in integration.cli).
        if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
        std::vector<pollfd> pfds;
        pfds.reserve(fds.size());
        for (auto& [fd, out] : fds)
            pfds.push_back({fd, POLLIN, 0});
        const int ready = ::poll(pfds.data(), pfds.size(), 50);
        if (ready < 0 && errno != EINTR) break;
        for (std::size_t i = pfds.size(); i-- > 0;) {
            if (pfds[i].revents == 0) continue;
            const ssize_t n = ::read(pfds[i].fd, buffer, sizeof(buffer));
            if (n > 0) {
                fds[i].second->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                // EOF, or EIO on a pty master once the child side is closed.
                ::close(pfds[i].fd);
                fds.erase(fds.begin() + static_cast<long>(i));
            }
        }
        if (!run.interrupted && !options.interrupt_after.empty() &&
            (run.output.find(options.interrupt_after) != std::string::npos ||
             run.error_output.find(options.interrupt_after) != std::string::npos)) {
            run.interrupted = true;
            interrupted_at = std::chrono::steady_clock::now();
            // ETX: the terminal's line discipline turns it into SIGINT for the foreground process.
            if (pty_master < 0 || ::write(pty_master, "\x03", 1) != 1) ::kill(pid, SIGINT);
        }
        // A pty master may not see EOF while a grandchild holds the slave: stop once the child is gone
        // and nothing more is readable.
        if (exited && ready == 0) break;
    }
    for (auto& [fd, out] : fds)
        ::close(fd);
    if (!exited) ::waitpid(pid, &status, 0);
    run.exit_code = run.timed_out ? -1 : DecodeStatus(status);
    if (run.interrupted) {
        run.after_interrupt =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - interrupted_at);
    }
}

}  // namespace

TerminalRun RunOnPty(const std::vector<std::string>& argv, const RunOptions& options) {
    CStrings args(argv);
    CStrings env(options.env);
    winsize size{};
    size.ws_row = 40;
    size.ws_col = static_cast<unsigned short>(options.columns);
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid < 0) throw std::runtime_error("forkpty failed");
    if (pid == 0) {
        ::execve(args.pointers[0], args.pointers.data(), env.pointers.data());
        ::_exit(127);
    }
    TerminalRun run;
    Collect(pid, {{master, &run.output}}, options, master, run);
    return run;
}

TerminalRun RunOnPipes(const std::vector<std::string>& argv, const RunOptions& options) {
    CStrings args(argv);
    CStrings env(options.env);
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execve(args.pointers[0], args.pointers.data(), env.pointers.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    TerminalRun run;
    Collect(pid, {{out[0], &run.output}, {err[0], &run.error_output}}, options, -1, run);
    return run;
}

}  // namespace railwatch::test
