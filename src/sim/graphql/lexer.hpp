#pragma once

#include <string>
#include <string_view>

#include "sim/graphql/ast.hpp"

/// The GraphQL lexer (spec §2), shared by the document parser and the schema (SDL) reader.
namespace railwatch::sim::graphql {

enum class TokenKind {
    kEof,
    kBang,
    kDollar,
    kAmp,
    kParenL,
    kParenR,
    kSpread,
    kColon,
    kEquals,
    kAt,
    kBracketL,
    kBracketR,
    kBraceL,
    kPipe,
    kBraceR,
    kName,
    kInt,
    kFloat,
    kString,
    kBlockString,
};

struct Token {
    TokenKind kind = TokenKind::kEof;
    std::string value;  ///< names, numbers as written, decoded strings
    Location loc;
};

/// Thrown by the lexer and parsers on malformed input; caught inside the parse functions and
/// turned into a value (never escapes the sim's public API).
struct SyntaxErrorException {
    std::string message;  ///< without the "Syntax Error: " prefix
    Location loc;
};

/// Splits a source into tokens on demand. Not thread-safe; one per parse.
class Lexer {
  public:
    explicit Lexer(std::string_view source);

    /// The current token (starts at the first one).
    const Token& Peek() const { return current_; }
    /// Returns the current token and moves to the next. Throws SyntaxErrorException.
    Token Next();

    /// graphql-js's description of a token in messages: `"{"`, `Name "foo"`, `<EOF>`.
    static std::string Describe(const Token& token);

  private:
    Token Lex();
    Location LocAt(std::size_t pos) const;
    [[noreturn]] void Fail(std::size_t pos, std::string message) const;
    std::string ReadString(std::size_t start);
    std::string ReadBlockString(std::size_t start);
    Token ReadNumber(std::size_t start);

    std::string_view src_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::size_t line_start_ = 0;
    Token current_;
};

}  // namespace railwatch::sim::graphql
