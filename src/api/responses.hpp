#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "net/http_server.hpp"
#include "util/result.hpp"

/// How the REST API answers: JSON bodies, and errors as `{"error":{"code","message"}}` with the
/// status codes of the contract (400, 401, 404, 409, 413, 422, 429, 503; 500 for a bug).
namespace railwatch::api {

/// A JSON answer with `status`. Never throws (invalid UTF-8 in `body` is replaced).
net::ServerResponse JsonResponse(int status, const nlohmann::json& body);

/// An error answer: `code` is a short machine word ("bad_request", "not_found", ...), `message`
/// says what was wrong and what to do. Never contains a secret (the callers make sure of it).
net::ServerResponse ErrorResponse(int status, std::string_view code, std::string_view message);

/// The HTTP status and code word for a util::Error from the store or the engine:
/// kInvalidArgument 422 invalid, kNotFound 404 not_found, kConflict 409 conflict, kRateLimited
/// 429 rate_limited, kUnavailable / kIo / kTimeout / kCancelled / kUnauthenticated (Railway
/// rejecting railwatch's token is the operator's problem, not the caller's) 503 unavailable,
/// kParse / kInternal 500 internal.
net::ServerResponse ErrorFrom(const util::Error& error);

}  // namespace railwatch::api
