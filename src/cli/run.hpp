#pragma once

/// The railwatch command line (docs: README.md, "Command line").
namespace railwatch::cli {

/// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;  ///< bad flags or arguments (sysexits EX_USAGE)

/// Parses `argv`, runs the chosen subcommand and returns the process exit code. An exception that
/// escapes a command ends it with kExitSoftware (70) and one line on stderr
/// (cli/unexpected_error.hpp); Run itself never throws.
int Run(int argc, char** argv);

}  // namespace railwatch::cli
