#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

/// Expected failures as values: every fallible operation outside start-up returns Result<T>.
namespace railwatch::util {

/// What kind of failure, so callers can branch without parsing messages.
enum class ErrorCode {
    kInvalidArgument,  ///< the caller's input is wrong (bad id, malformed JSON, bad config value)
    kNotFound,         ///< the thing asked for does not exist
    kConflict,         ///< it exists already, or a concurrent change won
    kUnauthenticated,  ///< a token is missing or rejected
    kRateLimited,      ///< over a request budget; retry later
    kUnavailable,      ///< a dependency is down or unreachable (network, database); retry later
    kTimeout,          ///< a deadline passed
    kParse,            ///< a peer sent data we cannot read (malformed JSON, HTML instead of JSON)
    kIo,               ///< local I/O failed (disk full, permissions)
    kCancelled,        ///< the operation was cancelled (shutdown)
    kInternal,         ///< a bug or an unexpected state; the message says what
};

std::string_view ToString(ErrorCode code);

/// An error a person can act on: `message` says what went wrong and, where possible, what to do.
/// Messages never contain secrets (tokens, passwords, webhook secrets).
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;

    Error() = default;
    Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

    /// "<code>: <message>", for logs.
    std::string ToString() const;
};

template <typename T>
using Result = tl::expected<T, Error>;

/// Shorthand for returning a failure: `return Fail(ErrorCode::kNotFound, "no instance " + id);`
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
    return tl::unexpected<Error>(Error(code, std::move(message)));
}

/// Shorthand for a successful Result<void>.
inline Result<void> Ok() {
    return {};
}

}  // namespace railwatch::util
