#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/graphql/errors.hpp"

/// Appends JSON text to a string without building a DOM (the answer of a 50-alias request is
/// written straight into one buffer).
namespace railwatch::sim::graphql {

/// Appends `s` as a JSON string literal (quotes and escapes included). Invalid UTF-8 is passed
/// through unchanged; control characters are escaped.
void AppendJsonString(std::string& out, std::string_view s);

/// Appends `{"message":…,"locations":[…],"path":[…],"extensions":{"code":…}}`.
void AppendError(std::string& out, const GraphqlError& error);

/// `{"errors":[…]}`: the body of a request-level failure (HTTP 400 or an auth failure).
std::string ErrorsBody(const std::vector<GraphqlError>& errors, bool with_null_data = false);

}  // namespace railwatch::sim::graphql
