#pragma once

#include <string>
#include <variant>
#include <vector>

#include "sim/graphql/ast.hpp"

/// GraphQL errors as the simulator reports them (`errors[]` of an answer).
namespace railwatch::sim::graphql {

/// One element of an error's `path`: a response key or a list index.
using PathElement = std::variant<std::string, int>;

/// A request-level or field-level error. `code` and `trace_id` become `extensions.code` and
/// `extensions.traceId` when not empty (Railway sends both on every error).
struct GraphqlError {
    std::string message;
    std::vector<Location> locations;
    std::vector<PathElement> path;
    std::string code;
    std::string trace_id;
};

/// extensions.code values Railway documents (docs PR #1320).
inline constexpr const char* kParseFailed = "GRAPHQL_PARSE_FAILED";
inline constexpr const char* kValidationFailed = "GRAPHQL_VALIDATION_FAILED";
inline constexpr const char* kBadUserInput = "BAD_USER_INPUT";
inline constexpr const char* kInternalServerError = "INTERNAL_SERVER_ERROR";

}  // namespace railwatch::sim::graphql
