#include "sim/graphql/parser.hpp"

#include <fmt/format.h>

#include "sim/graphql/lexer.hpp"

namespace railwatch::sim::graphql {
namespace {

/// Recursion limit: deeper documents are rejected rather than overflowing the stack.
constexpr int kMaxDepth = 64;

[[noreturn]] void Unexpected(const Token& token) {
    throw SyntaxErrorException{fmt::format("Unexpected {}.", Lexer::Describe(token)), token.loc};
}

const char* KindName(TokenKind kind) {
    switch (kind) {
        case TokenKind::kName:
            return "Name";
        case TokenKind::kBraceL:
            return "\"{\"";
        case TokenKind::kBraceR:
            return "\"}\"";
        case TokenKind::kParenL:
            return "\"(\"";
        case TokenKind::kParenR:
            return "\")\"";
        case TokenKind::kColon:
            return "\":\"";
        case TokenKind::kBracketR:
            return "\"]\"";
        case TokenKind::kDollar:
            return "\"$\"";
        case TokenKind::kEquals:
            return "\"=\"";
        default:
            return "token";
    }
}

Token Expect(Lexer& lexer, TokenKind kind) {
    if (lexer.Peek().kind != kind) {
        throw SyntaxErrorException{fmt::format("Expected {}, found {}.", KindName(kind), Lexer::Describe(lexer.Peek())),
                                   lexer.Peek().loc};
    }
    return lexer.Next();
}

bool Skip(Lexer& lexer, TokenKind kind) {
    if (lexer.Peek().kind != kind) return false;
    lexer.Next();
    return true;
}

bool PeekKeyword(const Lexer& lexer, std::string_view word) {
    return lexer.Peek().kind == TokenKind::kName && lexer.Peek().value == word;
}

class Parser {
  public:
    explicit Parser(std::string_view source) : lexer_(source) {}

    Document ParseDocumentBody() {
        Document doc;
        if (lexer_.Peek().kind == TokenKind::kEof) {
            throw SyntaxErrorException{"Unexpected <EOF>.", lexer_.Peek().loc};
        }
        while (lexer_.Peek().kind != TokenKind::kEof) {
            const Token& t = lexer_.Peek();
            if (t.kind == TokenKind::kBraceL) {
                Operation op;
                op.loc = t.loc;
                op.selections = ParseSelectionSet(0);
                doc.operations.push_back(std::move(op));
            } else if (t.kind == TokenKind::kName &&
                       (t.value == "query" || t.value == "mutation" || t.value == "subscription")) {
                doc.operations.push_back(ParseOperation());
            } else if (t.kind == TokenKind::kName && t.value == "fragment") {
                doc.fragments.push_back(ParseFragment());
            } else {
                Unexpected(t);
            }
        }
        return doc;
    }

  private:
    Operation ParseOperation() {
        Operation op;
        const Token keyword = lexer_.Next();
        op.loc = keyword.loc;
        op.kind = keyword.value == "query"      ? OperationKind::kQuery
                  : keyword.value == "mutation" ? OperationKind::kMutation
                                                : OperationKind::kSubscription;
        if (lexer_.Peek().kind == TokenKind::kName) op.name = lexer_.Next().value;
        if (Skip(lexer_, TokenKind::kParenL)) {
            if (lexer_.Peek().kind == TokenKind::kParenR) Unexpected(lexer_.Peek());
            while (!Skip(lexer_, TokenKind::kParenR)) {
                VariableDefinition def;
                def.loc = Expect(lexer_, TokenKind::kDollar).loc;
                def.name = Expect(lexer_, TokenKind::kName).value;
                Expect(lexer_, TokenKind::kColon);
                def.type = ParseTypeReference(lexer_);
                if (Skip(lexer_, TokenKind::kEquals)) def.default_value = ParseValueLiteral(lexer_, true);
                ParseDirectives();  // variable directives: accepted, ignored
                op.variables.push_back(std::move(def));
            }
        }
        op.directives = ParseDirectives();
        op.selections = ParseSelectionSet(0);
        return op;
    }

    Fragment ParseFragment() {
        Fragment frag;
        frag.loc = lexer_.Next().loc;
        const Token name = Expect(lexer_, TokenKind::kName);
        if (name.value == "on") Unexpected(name);
        frag.name = name.value;
        if (!PeekKeyword(lexer_, "on")) {
            throw SyntaxErrorException{fmt::format("Expected \"on\", found {}.", Lexer::Describe(lexer_.Peek())),
                                       lexer_.Peek().loc};
        }
        lexer_.Next();
        frag.type_condition = Expect(lexer_, TokenKind::kName).value;
        frag.directives = ParseDirectives();
        frag.selections = ParseSelectionSet(0);
        return frag;
    }

    std::vector<Selection> ParseSelectionSet(int depth) {
        if (depth > kMaxDepth) {
            throw SyntaxErrorException{"Document is nested too deeply.", lexer_.Peek().loc};
        }
        Expect(lexer_, TokenKind::kBraceL);
        std::vector<Selection> selections;
        if (lexer_.Peek().kind == TokenKind::kBraceR) Unexpected(lexer_.Peek());
        while (!Skip(lexer_, TokenKind::kBraceR)) {
            selections.push_back(ParseSelection(depth));
        }
        return selections;
    }

    Selection ParseSelection(int depth) {
        Selection sel;
        if (lexer_.Peek().kind == TokenKind::kSpread) {
            sel.loc = lexer_.Next().loc;
            if (PeekKeyword(lexer_, "on")) {
                lexer_.Next();
                sel.kind = SelectionKind::kInlineFragment;
                sel.type_condition = Expect(lexer_, TokenKind::kName).value;
            } else if (lexer_.Peek().kind == TokenKind::kName) {
                sel.kind = SelectionKind::kFragmentSpread;
                sel.name = lexer_.Next().value;
                sel.directives = ParseDirectives();
                return sel;
            } else {
                sel.kind = SelectionKind::kInlineFragment;
            }
            sel.directives = ParseDirectives();
            sel.has_selection_set = true;
            sel.selections = ParseSelectionSet(depth + 1);
            return sel;
        }
        const Token first = Expect(lexer_, TokenKind::kName);
        sel.loc = first.loc;
        if (Skip(lexer_, TokenKind::kColon)) {
            sel.alias = first.value;
            sel.name = Expect(lexer_, TokenKind::kName).value;
        } else {
            sel.name = first.value;
        }
        sel.arguments = ParseArguments(false);
        sel.directives = ParseDirectives();
        if (lexer_.Peek().kind == TokenKind::kBraceL) {
            sel.has_selection_set = true;
            sel.selections = ParseSelectionSet(depth + 1);
        }
        return sel;
    }

    std::vector<Argument> ParseArguments(bool const_only) {
        std::vector<Argument> args;
        if (!Skip(lexer_, TokenKind::kParenL)) return args;
        if (lexer_.Peek().kind == TokenKind::kParenR) Unexpected(lexer_.Peek());
        while (!Skip(lexer_, TokenKind::kParenR)) {
            Argument arg;
            const Token name = Expect(lexer_, TokenKind::kName);
            arg.name = name.value;
            arg.loc = name.loc;
            Expect(lexer_, TokenKind::kColon);
            arg.value = ParseValueLiteral(lexer_, const_only);
            args.push_back(std::move(arg));
        }
        return args;
    }

    std::vector<Directive> ParseDirectives() {
        std::vector<Directive> out;
        while (lexer_.Peek().kind == TokenKind::kAt) {
            Directive d;
            d.loc = lexer_.Next().loc;
            d.name = Expect(lexer_, TokenKind::kName).value;
            d.arguments = ParseArguments(false);
            out.push_back(std::move(d));
        }
        return out;
    }

    Lexer lexer_;
};

Value ParseValueAt(Lexer& lexer, bool const_only, int depth) {
    if (depth > kMaxDepth) throw SyntaxErrorException{"Value is nested too deeply.", lexer.Peek().loc};
    Value v;
    const Token& t = lexer.Peek();
    v.loc = t.loc;
    switch (t.kind) {
        case TokenKind::kBracketL: {
            lexer.Next();
            v.kind = ValueKind::kList;
            while (!Skip(lexer, TokenKind::kBracketR)) {
                if (lexer.Peek().kind == TokenKind::kEof) Unexpected(lexer.Peek());
                v.items.push_back(ParseValueAt(lexer, const_only, depth + 1));
            }
            return v;
        }
        case TokenKind::kBraceL: {
            lexer.Next();
            v.kind = ValueKind::kObject;
            while (!Skip(lexer, TokenKind::kBraceR)) {
                const Token name = Expect(lexer, TokenKind::kName);
                Expect(lexer, TokenKind::kColon);
                v.fields.emplace_back(name.value, ParseValueAt(lexer, const_only, depth + 1));
            }
            return v;
        }
        case TokenKind::kInt:
            v.kind = ValueKind::kInt;
            v.text = lexer.Next().value;
            return v;
        case TokenKind::kFloat:
            v.kind = ValueKind::kFloat;
            v.text = lexer.Next().value;
            return v;
        case TokenKind::kString:
        case TokenKind::kBlockString:
            v.kind = ValueKind::kString;
            v.text = lexer.Next().value;
            return v;
        case TokenKind::kName: {
            Token name = lexer.Next();
            if (name.value == "true" || name.value == "false") {
                v.kind = ValueKind::kBoolean;
                v.boolean = name.value == "true";
            } else if (name.value == "null") {
                v.kind = ValueKind::kNull;
            } else {
                v.kind = ValueKind::kEnum;
                v.text = std::move(name.value);
            }
            return v;
        }
        case TokenKind::kDollar:
            if (!const_only) {
                lexer.Next();
                v.kind = ValueKind::kVariable;
                v.text = Expect(lexer, TokenKind::kName).value;
                return v;
            }
            [[fallthrough]];
        default:
            Unexpected(t);
    }
}

}  // namespace

std::string ParseTypeReference(Lexer& lexer) {
    std::string type;
    if (Skip(lexer, TokenKind::kBracketL)) {
        type = "[" + ParseTypeReference(lexer) + "]";
        Expect(lexer, TokenKind::kBracketR);
    } else {
        type = Expect(lexer, TokenKind::kName).value;
    }
    if (Skip(lexer, TokenKind::kBang)) type += '!';
    return type;
}

Value ParseValueLiteral(Lexer& lexer, bool const_only) {
    return ParseValueAt(lexer, const_only, 0);
}

tl::expected<Document, GraphqlError> ParseDocument(std::string_view source) {
    try {
        Parser parser(source);
        return parser.ParseDocumentBody();
    } catch (const SyntaxErrorException& e) {
        return tl::unexpected(GraphqlError{"Syntax Error: " + e.message, {e.loc}, {}, kParseFailed, {}});
    }
}

}  // namespace railwatch::sim::graphql
