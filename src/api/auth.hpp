#pragma once

#include <optional>
#include <string_view>

/// Bearer-token checks for /api/*, in constant time.
namespace railwatch::api {

/// True when `a` and `b` are equal. The time taken depends only on their lengths, not on where
/// they differ (OpenSSL's CRYPTO_memcmp), so a caller cannot guess a token byte by byte.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// True when `expected` is empty (no token configured) or `authorization` is
/// "Bearer <expected>" (scheme case-insensitive, as RFC 6750 allows). Constant time in the token.
bool BearerAuthorized(std::optional<std::string_view> authorization, std::string_view expected);

}  // namespace railwatch::api
