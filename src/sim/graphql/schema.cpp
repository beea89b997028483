#include "sim/graphql/schema.hpp"

#include <fmt/format.h>

#include "sim/graphql/lexer.hpp"
#include "sim/graphql/parser.hpp"

namespace railwatch::sim::graphql {
namespace {

void SkipDescription(Lexer& lexer) {
    if (lexer.Peek().kind == TokenKind::kString || lexer.Peek().kind == TokenKind::kBlockString) lexer.Next();
}

void SkipDirectives(Lexer& lexer) {
    while (lexer.Peek().kind == TokenKind::kAt) {
        lexer.Next();
        lexer.Next();  // name
        if (lexer.Peek().kind == TokenKind::kParenL) {
            lexer.Next();
            while (lexer.Peek().kind != TokenKind::kParenR) {
                if (lexer.Peek().kind == TokenKind::kEof) throw SyntaxErrorException{"unterminated directive", {}};
                lexer.Next();  // name
                lexer.Next();  // colon
                ParseValueLiteral(lexer, true);
            }
            lexer.Next();
        }
    }
}

std::string ExpectName(Lexer& lexer) {
    if (lexer.Peek().kind != TokenKind::kName)
        throw SyntaxErrorException{"expected a name, found " + Lexer::Describe(lexer.Peek()), lexer.Peek().loc};
    return lexer.Next().value;
}

void ExpectKind(Lexer& lexer, TokenKind kind, const char* what) {
    if (lexer.Peek().kind != kind) {
        throw SyntaxErrorException{fmt::format("expected {}, found {}", what, Lexer::Describe(lexer.Peek())),
                                   lexer.Peek().loc};
    }
    lexer.Next();
}

InputValueDef ParseInputValue(Lexer& lexer) {
    SkipDescription(lexer);
    InputValueDef def;
    def.name = ExpectName(lexer);
    ExpectKind(lexer, TokenKind::kColon, "\":\"");
    def.type = ParseTypeReference(lexer);
    if (lexer.Peek().kind == TokenKind::kEquals) {
        lexer.Next();
        ParseValueLiteral(lexer, true);
        def.has_default = true;
    }
    SkipDirectives(lexer);
    return def;
}

}  // namespace

const InputValueDef* FieldDef::Arg(std::string_view arg_name) const {
    for (const auto& a : args)
        if (a.name == arg_name) return &a;
    return nullptr;
}

const FieldDef* TypeDef::Field(std::string_view field_name) const {
    const auto it = field_index.find(std::string(field_name));
    return it == field_index.end() ? nullptr : &fields[it->second];
}

const InputValueDef* TypeDef::InputField(std::string_view field_name) const {
    for (const auto& f : input_fields)
        if (f.name == field_name) return &f;
    return nullptr;
}

bool TypeDef::HasEnumValue(std::string_view value) const {
    for (const auto& v : enum_values)
        if (v == value) return true;
    return false;
}

tl::expected<Schema, std::string> Schema::FromSdl(std::string_view sdl) {
    Schema schema;
    for (const char* builtin : {"String", "Int", "Float", "Boolean", "ID"}) {
        TypeDef t;
        t.name = builtin;
        t.kind = TypeKind::kScalar;
        schema.types_.push_back(std::move(t));
    }
    try {
        Lexer lexer(sdl);
        while (lexer.Peek().kind != TokenKind::kEof) {
            SkipDescription(lexer);
            const Token keyword = lexer.Next();
            if (keyword.kind != TokenKind::kName)
                throw SyntaxErrorException{"expected a definition, found " + Lexer::Describe(keyword), keyword.loc};
            TypeDef t;
            t.name = ExpectName(lexer);
            if (keyword.value == "scalar") {
                t.kind = TypeKind::kScalar;
                SkipDirectives(lexer);
            } else if (keyword.value == "type") {
                t.kind = TypeKind::kObject;
                if (lexer.Peek().kind == TokenKind::kName && lexer.Peek().value == "implements") {
                    lexer.Next();
                    if (lexer.Peek().kind == TokenKind::kAmp) lexer.Next();
                    ExpectName(lexer);
                    while (lexer.Peek().kind == TokenKind::kAmp) {
                        lexer.Next();
                        ExpectName(lexer);
                    }
                }
                SkipDirectives(lexer);
                ExpectKind(lexer, TokenKind::kBraceL, "\"{\"");
                while (lexer.Peek().kind != TokenKind::kBraceR) {
                    SkipDescription(lexer);
                    FieldDef f;
                    f.name = ExpectName(lexer);
                    if (lexer.Peek().kind == TokenKind::kParenL) {
                        lexer.Next();
                        while (lexer.Peek().kind != TokenKind::kParenR)
                            f.args.push_back(ParseInputValue(lexer));
                        lexer.Next();
                    }
                    ExpectKind(lexer, TokenKind::kColon, "\":\"");
                    f.type = ParseTypeReference(lexer);
                    SkipDirectives(lexer);
                    t.field_index.emplace(f.name, t.fields.size());
                    t.fields.push_back(std::move(f));
                }
                lexer.Next();
            } else if (keyword.value == "input") {
                t.kind = TypeKind::kInputObject;
                SkipDirectives(lexer);
                ExpectKind(lexer, TokenKind::kBraceL, "\"{\"");
                while (lexer.Peek().kind != TokenKind::kBraceR)
                    t.input_fields.push_back(ParseInputValue(lexer));
                lexer.Next();
            } else if (keyword.value == "enum") {
                t.kind = TypeKind::kEnum;
                SkipDirectives(lexer);
                ExpectKind(lexer, TokenKind::kBraceL, "\"{\"");
                while (lexer.Peek().kind != TokenKind::kBraceR) {
                    SkipDescription(lexer);
                    t.enum_values.push_back(ExpectName(lexer));
                    SkipDirectives(lexer);
                }
                lexer.Next();
            } else {
                throw SyntaxErrorException{"unsupported definition \"" + keyword.value + "\"", keyword.loc};
            }
            if (schema.index_.count(t.name) != 0) {
                throw SyntaxErrorException{"type \"" + t.name + "\" is defined twice", keyword.loc};
            }
            schema.index_.emplace(t.name, schema.types_.size());
            schema.types_.push_back(std::move(t));
        }
    } catch (const SyntaxErrorException& e) {
        return tl::unexpected(fmt::format("schema SDL, line {} column {}: {}", e.loc.line, e.loc.column, e.message));
    }
    for (std::size_t i = 0; i < 5; ++i)
        schema.index_.emplace(schema.types_[i].name, i);
    // Every referenced type must exist.
    for (const auto& t : schema.types_) {
        auto check = [&](std::string_view type) -> tl::expected<void, std::string> {
            if (schema.Type(NamedType(type)) == nullptr) {
                return tl::unexpected(
                    fmt::format("schema SDL: type \"{}\" (used in {}) is not defined", NamedType(type), t.name));
            }
            return {};
        };
        for (const auto& f : t.fields) {
            if (auto r = check(f.type); !r) return tl::unexpected(r.error());
            for (const auto& a : f.args)
                if (auto r = check(a.type); !r) return tl::unexpected(r.error());
        }
        for (const auto& f : t.input_fields)
            if (auto r = check(f.type); !r) return tl::unexpected(r.error());
    }
    return schema;
}

const TypeDef* Schema::Type(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &types_[it->second];
}

bool IsNonNull(std::string_view type) {
    return !type.empty() && type.back() == '!';
}

std::string_view StripNonNull(std::string_view type) {
    return IsNonNull(type) ? type.substr(0, type.size() - 1) : type;
}

bool IsListType(std::string_view type) {
    return !type.empty() && type.front() == '[';
}

std::string_view ListItemType(std::string_view type) {
    const std::string_view t = StripNonNull(type);
    if (t.size() < 2 || t.front() != '[') return t;
    return t.substr(1, t.size() - 2);
}

std::string_view NamedType(std::string_view type) {
    std::size_t b = 0;
    while (b < type.size() && type[b] == '[')
        ++b;
    std::size_t e = type.size();
    while (e > b && (type[e - 1] == ']' || type[e - 1] == '!'))
        --e;
    return type.substr(b, e - b);
}

bool IsTypeSubTypeOf(std::string_view var_type, std::string_view expected) {
    if (IsNonNull(expected)) {
        if (!IsNonNull(var_type)) return false;
        return IsTypeSubTypeOf(StripNonNull(var_type), StripNonNull(expected));
    }
    if (IsNonNull(var_type)) return IsTypeSubTypeOf(StripNonNull(var_type), expected);
    if (IsListType(expected)) {
        if (!IsListType(var_type)) return false;
        return IsTypeSubTypeOf(ListItemType(var_type), ListItemType(expected));
    }
    if (IsListType(var_type)) return false;
    return var_type == expected;
}

}  // namespace railwatch::sim::graphql
