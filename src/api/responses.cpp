#include "api/responses.hpp"

namespace railwatch::api {

net::ServerResponse JsonResponse(int status, const nlohmann::json& body) {
    net::ServerResponse res;
    res.status = status;
    res.content_type = "application/json";
    // Stored text is UTF-8 by the store's contract; replace rather than throw if a peer's bytes
    // ever slip through.
    res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return res;
}

net::ServerResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
    return JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
}

net::ServerResponse ErrorFrom(const util::Error& error) {
    using util::ErrorCode;
    switch (error.code) {
        case ErrorCode::kInvalidArgument:
            return ErrorResponse(422, "invalid", error.message);
        case ErrorCode::kNotFound:
            return ErrorResponse(404, "not_found", error.message);
        case ErrorCode::kConflict:
            return ErrorResponse(409, "conflict", error.message);
        case ErrorCode::kRateLimited:
            return ErrorResponse(429, "rate_limited", error.message);
        case ErrorCode::kUnavailable:
        case ErrorCode::kIo:
        case ErrorCode::kTimeout:
        case ErrorCode::kCancelled:
        case ErrorCode::kUnauthenticated:
            return ErrorResponse(503, "unavailable", error.message);
        case ErrorCode::kParse:
        case ErrorCode::kInternal:
            break;
    }
    return ErrorResponse(500, "internal", error.message);
}

}  // namespace railwatch::api
