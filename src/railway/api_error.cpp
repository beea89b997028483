#include "railway/api_error.hpp"

namespace railwatch::railway {

std::string Redact(std::string text, std::string_view secret) {
    // Railway tokens are UUIDs; a "secret" this short would only mangle ordinary words ("proxy"
    // with a token "x"), and is not one a message could leak in any meaningful sense.
    if (secret.size() < kMinRedactedSecretSize) return text;
    constexpr std::string_view kMark = "[redacted]";
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
        text.replace(pos, secret.size(), kMark);
        pos += kMark.size();
    }
    return text;
}

std::string Excerpt(std::string_view text, std::size_t max_chars) {
    std::string out;
    out.reserve(std::min(text.size(), max_chars) + 3);
    for (char c : text) {
        if (out.size() >= max_chars) {
            // Do not end inside a UTF-8 sequence.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
                out.pop_back();
            if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
            out += "…";
            return out;
        }
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
    }
    return out;
}

std::string RedactedExcerpt(std::string_view text, std::string_view secret, std::size_t max_chars) {
    return Excerpt(Redact(std::string(text), secret), max_chars);
}

}  // namespace railwatch::railway
