#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

/// Child processes for tests: run a command to completion with its output captured, or start
/// one (a program, or a function in a forked copy of the test) and signal / reap it later.
/// Every wait is bounded. Not thread-safe; one owner per object.
namespace railwatch::test {

/// How a child ended.
struct ExitStatus {
    bool exited = false;  ///< ended by exit(); `code` holds the status
    int code = -1;
    bool signaled = false;  ///< killed by a signal; `signal` holds it
    int signal = 0;
    bool timed_out = false;  ///< still running at the deadline (it was then killed)

    bool Ok() const { return exited && code == 0; }
    std::string Describe() const;
};

/// What RunCommand returns.
struct CommandResult {
    ExitStatus status;
    std::string output;  ///< stdout and stderr, interleaved
};

/// Runs `argv` (argv[0] is looked up on PATH unless it holds a '/'), waits at most `timeout`
/// (then SIGKILLs it), and returns its exit status and combined output. Never throws for a
/// failing command; throws std::runtime_error only if fork/pipe fail.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A running child. The destructor SIGKILLs and reaps it if it is still running.
class ChildProcess {
  public:
    /// Starts `argv` with stdout/stderr appended to `log_file` (or inherited when empty).
    static ChildProcess Spawn(const std::vector<std::string>& argv, const std::string& log_file = {});
    /// Forks the calling process and runs `body` in the child, which then _exit()s with its
    /// return value (1 if it throws). Use it before the test starts threads of its own: only the
    /// forking thread exists in the child.
    static ChildProcess Fork(const std::function<int()>& body);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    /// Sends `signal` (e.g. SIGKILL, SIGTERM).
    void Signal(int signal) const;
    /// Waits for the child to end, at most `timeout`; on timeout it is SIGKILLed and reaped and
    /// the status says timed_out.
    ExitStatus Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
};

}  // namespace railwatch::test
