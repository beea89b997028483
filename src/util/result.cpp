#include "util/result.hpp"

namespace railwatch::util {

std::string_view ToString(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kUnauthenticated:
            return "unauthenticated";
        case ErrorCode::kRateLimited:
            return "rate_limited";
        case ErrorCode::kUnavailable:
            return "unavailable";
        case ErrorCode::kTimeout:
            return "timeout";
        case ErrorCode::kParse:
            return "parse";
        case ErrorCode::kIo:
            return "io";
        case ErrorCode::kCancelled:
            return "cancelled";
        case ErrorCode::kInternal:
            return "internal";
    }
    return "internal";
}

std::string Error::ToString() const {
    std::string out(util::ToString(code));
    out += ": ";
    out += message;
    return out;
}

}  // namespace railwatch::util
