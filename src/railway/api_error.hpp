#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/classify.hpp"
#include "core/error_class.hpp"
#include "core/time.hpp"
#include "util/result.hpp"

/// Failures of Railway API calls, as values.
namespace railwatch::railway {

/// One failed API call (or one failed alias of a batch): what a person reads (`message`), what
/// code branches on (`code`, `kind`, `retryable`), and the raw facts the core classified
/// (`failure`). `error_class`, `kind` and `retryable` are the core's verdict
/// (core::ClassifyApiFailure); `code` is mapped from `kind`. No field ever holds a token.
struct ApiError {
    util::ErrorCode code = util::ErrorCode::kInternal;
    std::string message;  ///< what happened and what to do; ends with "(Railway traceId …)" when known
    core::ApiFailure failure;
    core::ErrorClass error_class = core::ErrorClass::kUnknown;
    core::ApiFailureKind kind = core::ApiFailureKind::kUnknown;
    bool retryable = false;
    /// From a 429's Retry-After, or the pause CallEngine chose for an edge (Cloudflare) refusal.
    std::optional<core::Duration> retry_after;
    int attempts = 0;      ///< requests sent for this result
    std::string trace_id;  ///< Railway's extensions.traceId of the deciding error, if any

    /// As a util::Error (code + message).
    util::Error ToError() const { return util::Error(code, message); }
};

template <typename T>
using ApiResult = tl::expected<T, ApiError>;

/// Secrets shorter than this are not searched for by Redact.
inline constexpr std::size_t kMinRedactedSecretSize = 6;

/// Replaces every occurrence of `secret` in `text` with "[redacted]" (no-op for a secret shorter
/// than kMinRedactedSecretSize).
std::string Redact(std::string text, std::string_view secret);

/// At most `max_chars` of `text` on one line (control characters as spaces), with "…" when cut.
/// Does not redact: for text that may hold a secret use RedactedExcerpt.
std::string Excerpt(std::string_view text, std::size_t max_chars = 120);

/// Excerpt of `text` with `secret` redacted first, so that a cut can never leave part of the
/// secret behind where Redact would no longer recognise it.
std::string RedactedExcerpt(std::string_view text, std::string_view secret, std::size_t max_chars = 120);

}  // namespace railwatch::railway
