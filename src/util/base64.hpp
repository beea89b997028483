#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

/// Standard base64 (RFC 4648 §4): webhook secrets and signatures, e-mail bodies and headers, HTTP
/// Basic credentials. Encoding by OpenSSL's libcrypto. Pure and thread-safe.
namespace railwatch::util {

/// Standard base64 (with padding) of `bytes`.
std::string Base64Encode(std::string_view bytes);

/// Decodes standard base64 (padding optional); kInvalidArgument for any other character or a
/// bad length. The message never quotes the input (it may be a secret).
Result<std::string> Base64Decode(std::string_view text);

}  // namespace railwatch::util
