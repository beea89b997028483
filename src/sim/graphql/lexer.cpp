#include "sim/graphql/lexer.hpp"

#include <fmt/format.h>

#include <vector>

namespace railwatch::sim::graphql {
namespace {

bool IsNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameContinue(char c) {
    return IsNameStart(c) || (c >= '0' && c <= '9');
}
bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

void AppendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string PrintableChar(char c) {
    if (c == '"') return "'\"'";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
        return fmt::format("\"\\u{:04X}\"", static_cast<unsigned char>(c));
    return fmt::format("\"{}\"", c);
}

/// Block string value per spec §2.9.4 (BlockStringValue): common indentation removed, leading
/// and trailing blank lines dropped.
std::string DedentBlockString(const std::string& raw) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= raw.size(); ++i) {
        if (i == raw.size() || raw[i] == '\n' || raw[i] == '\r') {
            lines.push_back(raw.substr(start, i - start));
            if (i < raw.size() && raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
            start = i + 1;
        }
    }
    std::size_t common = std::string::npos;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto& line = lines[i];
        std::size_t indent = 0;
        while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t'))
            ++indent;
        if (indent == line.size()) continue;
        if (indent < common) common = indent;
    }
    if (common != std::string::npos) {
        for (std::size_t i = 1; i < lines.size(); ++i)
            lines[i] = lines[i].size() >= common ? lines[i].substr(common) : std::string();
    }
    auto blank = [](const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; };
    while (!lines.empty() && blank(lines.front()))
        lines.erase(lines.begin());
    while (!lines.empty() && blank(lines.back()))
        lines.pop_back();
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += '\n';
        out += lines[i];
    }
    return out;
}

}  // namespace

Lexer::Lexer(std::string_view source) : src_(source) {
    // A UTF-8 byte order mark is ignored (spec §2.1.1).
    if (src_.size() >= 3 && src_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;
    current_ = Lex();
}

Token Lexer::Next() {
    Token token = std::move(current_);
    current_ = Lex();
    return token;
}

Location Lexer::LocAt(std::size_t pos) const {
    return Location{static_cast<int>(line_), static_cast<int>(pos - line_start_ + 1)};
}

void Lexer::Fail(std::size_t pos, std::string message) const {
    throw SyntaxErrorException{std::move(message), LocAt(pos)};
}

std::string Lexer::Describe(const Token& token) {
    switch (token.kind) {
        case TokenKind::kEof:
            return "<EOF>";
        case TokenKind::kBang:
            return "\"!\"";
        case TokenKind::kDollar:
            return "\"$\"";
        case TokenKind::kAmp:
            return "\"&\"";
        case TokenKind::kParenL:
            return "\"(\"";
        case TokenKind::kParenR:
            return "\")\"";
        case TokenKind::kSpread:
            return "\"...\"";
        case TokenKind::kColon:
            return "\":\"";
        case TokenKind::kEquals:
            return "\"=\"";
        case TokenKind::kAt:
            return "\"@\"";
        case TokenKind::kBracketL:
            return "\"[\"";
        case TokenKind::kBracketR:
            return "\"]\"";
        case TokenKind::kBraceL:
            return "\"{\"";
        case TokenKind::kPipe:
            return "\"|\"";
        case TokenKind::kBraceR:
            return "\"}\"";
        case TokenKind::kName:
            return fmt::format("Name \"{}\"", token.value);
        case TokenKind::kInt:
            return fmt::format("Int \"{}\"", token.value);
        case TokenKind::kFloat:
            return fmt::format("Float \"{}\"", token.value);
        case TokenKind::kString:
            return fmt::format("String \"{}\"", token.value);
        case TokenKind::kBlockString:
            return fmt::format("BlockString \"{}\"", token.value);
    }
    return "<unknown>";
}

Token Lexer::Lex() {
    // Ignored tokens: whitespace, line terminators, commas, comments.
    while (pos_ < src_.size()) {
        const char c = src_[pos_];
        if (c == ' ' || c == '\t' || c == ',') {
            ++pos_;
        } else if (c == '\n') {
            ++pos_;
            ++line_;
            line_start_ = pos_;
        } else if (c == '\r') {
            ++pos_;
            if (pos_ < src_.size() && src_[pos_] == '\n') ++pos_;
            ++line_;
            line_start_ = pos_;
        } else if (c == '#') {
            while (pos_ < src_.size() && src_[pos_] != '\n' && src_[pos_] != '\r')
                ++pos_;
        } else {
            break;
        }
    }
    Token token;
    token.loc = LocAt(pos_);
    if (pos_ >= src_.size()) return token;

    const std::size_t start = pos_;
    const char c = src_[pos_];
    auto punct = [&](TokenKind kind) {
        ++pos_;
        token.kind = kind;
        return token;
    };
    switch (c) {
        case '!':
            return punct(TokenKind::kBang);
        case '$':
            return punct(TokenKind::kDollar);
        case '&':
            return punct(TokenKind::kAmp);
        case '(':
            return punct(TokenKind::kParenL);
        case ')':
            return punct(TokenKind::kParenR);
        case ':':
            return punct(TokenKind::kColon);
        case '=':
            return punct(TokenKind::kEquals);
        case '@':
            return punct(TokenKind::kAt);
        case '[':
            return punct(TokenKind::kBracketL);
        case ']':
            return punct(TokenKind::kBracketR);
        case '{':
            return punct(TokenKind::kBraceL);
        case '|':
            return punct(TokenKind::kPipe);
        case '}':
            return punct(TokenKind::kBraceR);
        case '.':
            if (src_.substr(pos_, 3) == "...") {
                pos_ += 3;
                token.kind = TokenKind::kSpread;
                return token;
            }
            Fail(pos_, "Unexpected character: \".\".");
        case '"':
            if (src_.substr(pos_, 3) == "\"\"\"") {
                token.kind = TokenKind::kBlockString;
                token.value = ReadBlockString(start);
                return token;
            }
            token.kind = TokenKind::kString;
            token.value = ReadString(start);
            return token;
        default:
            break;
    }
    if (IsNameStart(c)) {
        while (pos_ < src_.size() && IsNameContinue(src_[pos_]))
            ++pos_;
        token.kind = TokenKind::kName;
        token.value = std::string(src_.substr(start, pos_ - start));
        return token;
    }
    if (c == '-' || IsDigit(c)) {
        Token number = ReadNumber(start);
        number.loc = token.loc;
        return number;
    }
    Fail(pos_, fmt::format("Unexpected character: {}.", PrintableChar(c)));
}

Token Lexer::ReadNumber(std::size_t start) {
    Token token;
    token.kind = TokenKind::kInt;
    if (src_[pos_] == '-') ++pos_;
    if (pos_ < src_.size() && src_[pos_] == '0') {
        ++pos_;
        if (pos_ < src_.size() && IsDigit(src_[pos_]))
            Fail(pos_, fmt::format("Invalid number, unexpected digit after 0: {}.", PrintableChar(src_[pos_])));
    } else {
        if (pos_ >= src_.size() || !IsDigit(src_[pos_])) {
            Fail(pos_, pos_ >= src_.size()
                           ? std::string("Invalid number, expected digit but got: <EOF>.")
                           : fmt::format("Invalid number, expected digit but got: {}.", PrintableChar(src_[pos_])));
        }
        while (pos_ < src_.size() && IsDigit(src_[pos_]))
            ++pos_;
    }
    if (pos_ < src_.size() && src_[pos_] == '.') {
        token.kind = TokenKind::kFloat;
        ++pos_;
        if (pos_ >= src_.size() || !IsDigit(src_[pos_])) {
            Fail(pos_, "Invalid number, expected digit but got: " +
                           (pos_ >= src_.size() ? std::string("<EOF>") : PrintableChar(src_[pos_])) + ".");
        }
        while (pos_ < src_.size() && IsDigit(src_[pos_]))
            ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
        token.kind = TokenKind::kFloat;
        ++pos_;
        if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
        if (pos_ >= src_.size() || !IsDigit(src_[pos_])) {
            Fail(pos_, "Invalid number, expected digit but got: " +
                           (pos_ >= src_.size() ? std::string("<EOF>") : PrintableChar(src_[pos_])) + ".");
        }
        while (pos_ < src_.size() && IsDigit(src_[pos_]))
            ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == '.' || IsNameStart(src_[pos_])))
        Fail(pos_, fmt::format("Invalid number, expected digit but got: {}.", PrintableChar(src_[pos_])));
    token.value = std::string(src_.substr(start, pos_ - start));
    return token;
}

std::string Lexer::ReadString(std::size_t start) {
    std::string out;
    pos_ = start + 1;
    while (pos_ < src_.size()) {
        const char c = src_[pos_];
        if (c == '"') {
            ++pos_;
            return out;
        }
        if (c == '\n' || c == '\r') break;
        if (c == '\\') {
            if (pos_ + 1 >= src_.size()) break;
            const char e = src_[pos_ + 1];
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    auto read_hex4 = [&](std::size_t at, unsigned& cp) {
                        if (at + 4 > src_.size()) return false;
                        cp = 0;
                        for (std::size_t i = 0; i < 4; ++i) {
                            const int h = HexValue(src_[at + i]);
                            if (h < 0) return false;
                            cp = cp * 16 + static_cast<unsigned>(h);
                        }
                        return true;
                    };
                    unsigned cp = 0;
                    if (!read_hex4(pos_ + 2, cp)) {
                        Fail(pos_,
                             fmt::format("Invalid Unicode escape sequence: \"{}\".",
                                         std::string(src_.substr(pos_, std::min<std::size_t>(6, src_.size() - pos_)))));
                    }
                    pos_ += 4;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned low = 0;
                        if (pos_ + 3 < src_.size() && src_[pos_ + 2] == '\\' && src_[pos_ + 3] == 'u' &&
                            read_hex4(pos_ + 4, low) && low >= 0xDC00 && low <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                            pos_ += 6;
                        } else {
                            Fail(pos_, "Invalid Unicode escape sequence: a lone surrogate.");
                        }
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        Fail(pos_, "Invalid Unicode escape sequence: a lone surrogate.");
                    }
                    AppendUtf8(out, cp);
                    break;
                }
                default:
                    Fail(pos_, fmt::format("Invalid character escape sequence: \"\\{}\".", e));
            }
            pos_ += 2;
            continue;
        }
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
            Fail(pos_, fmt::format("Invalid character within String: {}.", PrintableChar(c)));
        out += c;
        ++pos_;
    }
    Fail(pos_, "Unterminated string.");
}

std::string Lexer::ReadBlockString(std::size_t start) {
    std::string raw;
    pos_ = start + 3;
    while (pos_ < src_.size()) {
        if (src_.substr(pos_, 3) == "\"\"\"") {
            pos_ += 3;
            return DedentBlockString(raw);
        }
        if (src_.substr(pos_, 4) == "\\\"\"\"") {
            raw += "\"\"\"";
            pos_ += 4;
            continue;
        }
        const char c = src_[pos_];
        raw += c;
        ++pos_;
        if (c == '\n' || (c == '\r' && !(pos_ < src_.size() && src_[pos_] == '\n'))) {
            ++line_;
            line_start_ = pos_;
        }
    }
    Fail(pos_, "Unterminated string.");
}

}  // namespace railwatch::sim::graphql
