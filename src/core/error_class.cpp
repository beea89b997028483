#include "core/error_class.hpp"

namespace railwatch::core {

std::string_view ToString(ErrorClass error_class) {
    switch (error_class) {
        case ErrorClass::kConfiguration:
            return "CONFIGURATION";
        case ErrorClass::kNetwork:
            return "NETWORK";
        case ErrorClass::kAuthentication:
            return "AUTHENTICATION";
        case ErrorClass::kResource:
            return "RESOURCE";
        case ErrorClass::kTimeout:
            return "TIMEOUT";
        case ErrorClass::kUnknown:
            return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::optional<ErrorClass> ParseErrorClass(std::string_view text) {
    for (auto error_class : kAllErrorClasses) {
        if (ToString(error_class) == text) return error_class;
    }
    return std::nullopt;
}

}  // namespace railwatch::core
