#include "api/auth.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace railwatch::api {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    // The lengths are not secret (a token's length is in the config's documentation anyway);
    // the bytes are.
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool BearerAuthorized(std::optional<std::string_view> authorization, std::string_view expected) {
    if (expected.empty()) return true;
    if (!authorization) return false;
    constexpr std::string_view kScheme = "bearer ";
    std::string_view value = *authorization;
    if (value.size() < kScheme.size()) return false;
    const bool scheme_ok = std::equal(kScheme.begin(), kScheme.end(), value.begin(), [](char want, char got) {
        return want == static_cast<char>(std::tolower(static_cast<unsigned char>(got)));
    });
    if (!scheme_ok) return false;
    value.remove_prefix(kScheme.size());
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    return ConstantTimeEquals(value, expected);
}

}  // namespace railwatch::api
