#pragma once

#include <string_view>
#include <tl/expected.hpp>

#include "sim/graphql/ast.hpp"
#include "sim/graphql/errors.hpp"

/// Parses GraphQL executable documents (spec §2): operations (including the anonymous `{ … }`
/// shorthand), variables with defaults, selection sets, aliases, arguments with every literal
/// kind, directives, named and inline fragments, comments, string escapes and block strings.
namespace railwatch::sim::graphql {

/// Parses `source`. On failure the error's message is graphql-js's wording
/// ("Syntax Error: Expected Name, found <EOF>.") with its location and code GRAPHQL_PARSE_FAILED.
/// Pure and thread-safe. Type-system definitions (`type X {}`) are rejected, as a server does.
tl::expected<Document, GraphqlError> ParseDocument(std::string_view source);

/// Parses a type reference as written in a variable definition ("[String!]!") and returns its
/// canonical spelling; used by the schema reader too. Throws SyntaxErrorException (internal).
class Lexer;
std::string ParseTypeReference(Lexer& lexer);

/// Parses one value literal at the lexer's position (`const_only` forbids variables).
/// Throws SyntaxErrorException (internal; for the schema reader).
Value ParseValueLiteral(Lexer& lexer, bool const_only);

}  // namespace railwatch::sim::graphql
