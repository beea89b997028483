#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace railwatch::test {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> ToArgv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    out.reserve(argv.size());
    for (const auto& a : argv)
        out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

ExitStatus Decode(int status) {
    ExitStatus s;
    if (WIFEXITED(status)) {
        s.exited = true;
        s.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.signaled = true;
        s.signal = WTERMSIG(status);
    }
    return s;
}

// Polls waitpid until the child ends or the deadline passes (then kills it).
ExitStatus Reap(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (true) {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return Decode(status);
        if (r < 0 && errno != EINTR) {
            ExitStatus s;
            s.exited = false;
            return s;
        }
        if (Clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ExitStatus s = Decode(status);
            s.timed_out = true;
            return s;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

}  // namespace

std::string ExitStatus::Describe() const {
    if (timed_out) return "timed out (killed)";
    if (exited) return "exited with code " + std::to_string(code);
    if (signaled) return std::string("killed by signal ") + strsignal(signal);
    return "unknown status";
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
    auto args = ToArgv(argv);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        execvp(args[0], args.data());
        const std::string message = "exec " + argv[0] + " failed: " + std::strerror(errno) + "\n";
        (void)!write(STDERR_FILENO, message.data(), message.size());
        _exit(127);
    }
    close(fds[1]);
    CommandResult result;
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    bool open_pipe = true;
    while (open_pipe) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        pollfd p{fds[0], POLLIN, 0};
        const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n > 0) {
            result.output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            open_pipe = false;
        }
    }
    close(fds[0]);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    result.status = Reap(pid, std::max(left, std::chrono::milliseconds(0)));
    return result;
}

ChildProcess ChildProcess::Spawn(const std::vector<std::string>& argv, const std::string& log_file) {
    auto args = ToArgv(argv);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        if (!log_file.empty()) {
            const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
        }
        execvp(args[0], args.data());
        _exit(127);
    }
    return ChildProcess(pid);
}

ChildProcess ChildProcess::Fork(const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        int code = 1;
        try {
            code = body();
        } catch (...) {
            code = 1;
        }
        _exit(code);
    }
    return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) {
    other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            Reap(pid_, std::chrono::seconds(10));
        }
        pid_ = other.pid_;
        other.pid_ = -1;
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        Reap(pid_, std::chrono::seconds(10));
    }
}

void ChildProcess::Signal(int signal) const {
    if (pid_ > 0) kill(pid_, signal);
}

ExitStatus ChildProcess::Wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return ExitStatus{};
    const ExitStatus s = Reap(pid_, timeout);
    pid_ = -1;
    return s;
}

}  // namespace railwatch::test
