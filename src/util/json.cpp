#include "util/json.hpp"

#include <cstdint>
#include <cstring>

namespace railwatch::util {
namespace {

// Whether one of the eight bytes of `word` may need escaping in a JSON string: below 0x20, '"' or
// '\\'. Never false when one does: such a byte (or, for '"' and '\\', its XOR with them: zero)
// becomes 0xDF..0xFF in the subtraction, borrow or not, and its inverse keeps the high bit. True
// may come of a borrow alone: the caller then looks byte by byte. Bytes from 0x80 (UTF-8) never
// count: their inverse's high bit is clear.
bool MayNeedEscaping(std::uint64_t word) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    const auto below = [](std::uint64_t v, std::uint64_t n) { return (v - kOnes * n) & ~v & kHighs; };
    return (below(word, 0x20) | below(word ^ (kOnes * '"'), 1) | below(word ^ (kOnes * '\\'), 1)) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    // Eight bytes at a time while none needs escaping (ids, most text: one append for them all);
    // from the first word that may, byte by byte.
    std::size_t i = 0;
    for (std::uint64_t word = 0; i + sizeof word <= text.size(); i += sizeof word) {
        std::memcpy(&word, text.data() + i, sizeof word);
        if (MayNeedEscaping(word)) break;
    }
    // Copy runs of plain bytes in one append; escape the rest one by one.
    std::size_t run_start = 0;
    for (; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
    out += '"';
}

std::string JsonString(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    AppendJsonString(out, text);
    return out;
}

}  // namespace railwatch::util
