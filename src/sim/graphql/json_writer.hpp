#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/graphql/errors.hpp"
#include "util/json.hpp"

/// Appends JSON text to a string without building a DOM (the answer of a 50-alias request is
/// written straight into one buffer).
namespace railwatch::sim::graphql {

/// Appends a JSON string literal (see util/json.hpp).
using util::AppendJsonString;

/// Appends `{"message":…,"locations":[…],"path":[…],"extensions":{"code":…,"traceId":…}}`.
void AppendError(std::string& out, const GraphqlError& error);

/// `{"errors":[…]}` (`{"data":null,"errors":[…]}` with `with_null_data`): the body of a
/// request-level failure (HTTP 400, or an authentication failure with HTTP 200).
std::string ErrorsBody(const std::vector<GraphqlError>& errors, bool with_null_data = false);

}  // namespace railwatch::sim::graphql
