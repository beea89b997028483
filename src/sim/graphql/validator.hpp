#pragma once

#include <string>
#include <vector>

#include "sim/graphql/ast.hpp"
#include "sim/graphql/errors.hpp"
#include "sim/graphql/schema.hpp"

/// Static validation of an executable document against a schema (spec §5), with graphql-js's
/// messages for the rules a client of Railway can break: unknown fields, arguments, types,
/// fragments and directives; missing required arguments; leaf/selection mismatches; literal
/// values of the wrong type; undefined, unused and misused variables; unused and cyclic
/// fragments; fragments spread on the wrong type; duplicate names; conflicting aliases.
namespace railwatch::sim::graphql {

/// All errors found (empty = valid), each with code GRAPHQL_VALIDATION_FAILED. Pure, thread-safe.
std::vector<GraphqlError> Validate(const Schema& schema, const Document& document);

/// A literal printed as GraphQL source (graphql-js `print`), for messages.
std::string PrintValue(const Value& value);

}  // namespace railwatch::sim::graphql
