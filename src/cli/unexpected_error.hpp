#pragma once

#include <span>
#include <string>
#include <string_view>

/// What `railwatch` says when an exception escapes a command (a bug, or an environment the code
/// did not expect, such as a full disk under standard output): one line, and never a secret.
namespace railwatch::cli {

/// Exit code when an exception escaped a command (sysexits EX_SOFTWARE).
inline constexpr int kExitSoftware = 70;

/// The line printed (without the newline): "railwatch: internal error: <what>; ...". `what` is put
/// on one line and cut to 300 characters; every secret the process was given is replaced by
/// "[redacted]": values of environment entries ("NAME=value") whose name contains TOKEN, SECRET,
/// PASSWORD or KEY, values of flags whose name contains token, secret or password ("--flag value"
/// and "--flag=value"), and the password of any "scheme://user:password@host" URL. Pure.
std::string UnexpectedErrorLine(std::string_view what, std::span<const std::string> args,
                                std::span<const std::string> environment);

/// Prints UnexpectedErrorLine for this process (its arguments and environment) to stderr without
/// allocating through anything that could throw again, and returns kExitSoftware. Never throws.
int ReportUnexpectedError(std::string_view what, int argc, char** argv) noexcept;

}  // namespace railwatch::cli
