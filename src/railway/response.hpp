#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_transport.hpp"
#include "railway/api_error.hpp"
#include "railway/config.hpp"
#include "railway/types.hpp"
#include "util/result.hpp"

/// Reading Railway's answers: the HTTP exchange → a GraphQL envelope or an ApiError, and the
/// envelope's JSON → railwatch's types. Pure functions; thread-safe.
namespace railwatch::railway {

/// One entry of a GraphQL `errors` array.
struct GraphqlError {
    std::string message;
    std::string path_head;  ///< first element of `path` ("d3", "deployment"); empty when absent
    std::string code;       ///< extensions.code, if any
};

/// A parsed GraphQL answer. `data` is null when the server sent none.
struct Envelope {
    nlohmann::json data;
    std::vector<GraphqlError> errors;
    int http_status = 0;

    /// The errors whose path starts at `field` (an alias or a root field).
    const GraphqlError* ErrorFor(std::string_view field) const;
};

/// What an error message may say about the call, and the secret it must never contain.
struct ErrorContext {
    std::string operation;  ///< "status check of 50 deployments", "redeploy of deployment X"
    std::string endpoint;   ///< the URL without its query
    TokenKind token_kind = TokenKind::kAccount;
    std::string_view secret;  ///< redacted from every message
};

/// Interprets one exchange. Success: the body was GraphQL JSON and is not a whole-request failure
/// (a failure that names no path in `data`). Failure: transport errors, 429, 5xx, 400 validation,
/// HTML or malformed bodies, and whole-request GraphQL errors such as "Not Authorized".
ApiResult<Envelope> InterpretResponse(const net::HttpResponse& response, const ErrorContext& context);

/// The ApiError for one GraphQL error (a per-alias error, or the only one of a request).
ApiError ApiErrorFromGraphql(const GraphqlError& error, int http_status, const ErrorContext& context);

/// The ApiError for an answer whose JSON lacks what the document asked for.
ApiError MalformedAnswer(std::string_view what, int http_status, const ErrorContext& context);

/// Fills `error.error_class` from the core's classifier and returns it.
ApiError& Classify(ApiError& error);

/// Mapping from the GraphQL JSON (errors: kParse naming the field).
util::Result<Deployment> ParseDeployment(const nlohmann::json& node);
util::Result<LogLine> ParseLogLine(const nlohmann::json& node);
util::Result<DeploymentEvent> ParseDeploymentEvent(const nlohmann::json& node);
util::Result<ServiceInstanceInfo> ParseServiceInstance(const nlohmann::json& node);
util::Result<PlatformStatus> ParsePlatformStatus(const nlohmann::json& node);
util::Result<WorkspaceUsage> ParseWorkspaceUsage(const nlohmann::json& node);

/// Orders `lines` by time, drops what `cursor` has already seen (Railway repeats the lines at
/// startDate) and, if more than `limit` remain (Railway returns limit + 1), keeps the newest
/// `limit`. Advances `cursor` to the newest line kept.
std::vector<LogLine> TakeNewLogLines(std::vector<LogLine> lines, LogCursor& cursor, std::size_t limit);

}  // namespace railwatch::railway
