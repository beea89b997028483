#pragma once

#include <cstddef>
#include <string>
#include <string_view>

/// Text from outside (Railway's log lines, error messages) made safe to store: the store accepts
/// only valid UTF-8 without NUL bytes, at most a given size.
///
///   SanitizeText(text, max_bytes) -> text without NUL, each invalid UTF-8 sequence replaced by
///                                    U+FFFD, cut at a character boundary to at most max_bytes
/// Pure and thread-safe.
namespace railwatch::core {

/// `text` made storable (see above); never longer than `max_bytes`.
std::string SanitizeText(std::string_view text, std::size_t max_bytes);

}  // namespace railwatch::core
