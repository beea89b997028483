#pragma once

#include <chrono>
#include <string>
#include <vector>

/// Runs a program the way a user or a CI job would: on a pseudo-terminal (isatty() is true for
/// its stdin/stdout/stderr) or on plain pipes (isatty() is false). Used by tests that check what a
/// command shows on a terminal versus in a log. Every run is bounded by a timeout.
namespace railwatch::test {

/// How a run ended and what it printed.
struct TerminalRun {
    int exit_code = -1;        ///< the exit status; -1 when killed by a signal or timed out
    bool timed_out = false;    ///< still running at the deadline (then SIGKILLed)
    std::string output;        ///< pty: everything written to the terminal; pipes: stdout only
    std::string error_output;  ///< pipes: stderr; pty: empty (the terminal merges both)
    bool interrupted = false;  ///< RunOptions::interrupt_after was seen and the interrupt sent
    /// From the interrupt to the end of the run (real time).
    std::chrono::milliseconds after_interrupt{0};
};

/// Options for a run. `env` entries are "NAME=value" and replace the whole environment
/// (nothing is inherited, so a developer's RAILWAY_TOKEN cannot leak into a test).
struct RunOptions {
    std::vector<std::string> env;
    std::chrono::milliseconds timeout{30'000};
    int columns = 100;  ///< terminal width (pty only)
    /// When not empty: once the output (stdout or stderr) contains this text, interrupt the program
    /// as a person would: Ctrl-C typed on the terminal (pty), SIGINT sent to it (pipes).
    std::string interrupt_after;
};

/// Runs `argv` (argv[0] must be a path) on a new pseudo-terminal (forkpty) and collects what it
/// writes until it exits. Throws std::runtime_error only when the terminal cannot be created.
TerminalRun RunOnPty(const std::vector<std::string>& argv, const RunOptions& options);

/// Runs `argv` with stdin from /dev/null and stdout/stderr on separate pipes.
TerminalRun RunOnPipes(const std::vector<std::string>& argv, const RunOptions& options);

}  // namespace railwatch::test
