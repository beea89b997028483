#pragma once

#include <array>
#include <optional>
#include <string_view>

/// The six error classes of the seed. Classification rules live in core/classify.hpp.
namespace railwatch::core {

enum class ErrorClass {
    kConfiguration,   ///< the user's setup is wrong: missing variable, bad start command, build error
    kNetwork,         ///< transient connectivity: ETIMEDOUT, reset, DNS, 5xx from a dependency
    kAuthentication,  ///< the Railway token (or a service's credentials) are rejected
    kResource,        ///< out of memory, disk full, usage limit reached, plan limits
    kTimeout,         ///< a deadline passed: healthcheck timeout, deployment over its time limit
    kUnknown,         ///< none of the above; keep message and context for a person
};

inline constexpr std::array<ErrorClass, 6> kAllErrorClasses = {
    ErrorClass::kConfiguration, ErrorClass::kNetwork, ErrorClass::kAuthentication,
    ErrorClass::kResource,      ErrorClass::kTimeout, ErrorClass::kUnknown,
};

/// "CONFIGURATION", "NETWORK", "AUTHENTICATION", "RESOURCE", "TIMEOUT", "UNKNOWN".
std::string_view ToString(ErrorClass error_class);
std::optional<ErrorClass> ParseErrorClass(std::string_view text);

}  // namespace railwatch::core
