#include "store/text.hpp"

#include <fmt/format.h>

#include <charconv>

namespace railwatch::store {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return n;
}

constexpr std::string_view kCursorPrefix = "c1.";

}  // namespace

util::Result<void> ValidateText(std::string_view field, std::string_view value, std::size_t max_bytes) {
    if (value.size() > max_bytes) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("{} is {} bytes long; the store accepts at most {} bytes: shorten it", field,
                                      value.size(), max_bytes));
    }
    for (std::size_t i = 0; i < value.size();) {
        if (value[i] == '\0') {
            return util::Fail(util::ErrorCode::kInvalidArgument,
                              fmt::format("{} contains a NUL byte at offset {}: remove it (text must be UTF-8 "
                                          "without NUL bytes)",
                                          field, i));
        }
        const std::size_t n = Utf8SequenceLength(value, i);
        if (n == 0) {
            return util::Fail(util::ErrorCode::kInvalidArgument,
                              fmt::format("{} is not valid UTF-8 (bad byte 0x{:02X} at offset {}): convert or "
                                          "replace invalid bytes before storing it",
                                          field, static_cast<unsigned char>(value[i]), i));
        }
        i += n;
    }
    return util::Ok();
}

std::int64_t MessageHash(std::string_view message) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : message) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return static_cast<std::int64_t>(h);
}

std::string EncodeInstanceCursor(core::Timestamp created_at, std::string_view id) {
    // "c1." + hex(created_at ns) + "." + hex(id bytes): opaque, URL-safe, unambiguous.
    std::string out(kCursorPrefix);
    out += fmt::format("{:x}.", static_cast<std::uint64_t>(created_at.time_since_epoch().count()));
    for (const char c : id)
        out += fmt::format("{:02x}", static_cast<unsigned char>(c));
    return out;
}

util::Result<std::optional<InstanceCursor>> DecodePageCursor(std::string_view cursor) {
    if (cursor.empty()) return std::optional<InstanceCursor>();
    auto decoded = DecodeInstanceCursor(cursor);
    if (!decoded) return tl::unexpected(decoded.error());
    return std::optional<InstanceCursor>(std::move(*decoded));
}

util::Result<InstanceCursor> DecodeInstanceCursor(std::string_view cursor) {
    auto bad = [] {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          "the cursor is not one this server issued (it may be truncated or from another list): "
                          "start again without a cursor");
    };
    if (!cursor.starts_with(kCursorPrefix)) return bad();
    cursor.remove_prefix(kCursorPrefix.size());
    const auto dot = cursor.find('.');
    if (dot == std::string_view::npos || dot == 0) return bad();
    std::uint64_t ns = 0;
    const auto time_part = cursor.substr(0, dot);
    const auto [ptr, ec] = std::from_chars(time_part.data(), time_part.data() + time_part.size(), ns, 16);
    if (ec != std::errc() || ptr != time_part.data() + time_part.size()) return bad();
    const auto hex = cursor.substr(dot + 1);
    if (hex.empty() || hex.size() % 2 != 0) return bad();
    std::string id;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        unsigned value = 0;
        const auto [p, e] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
        if (e != std::errc() || p != hex.data() + i + 2) return bad();
        id += static_cast<char>(value);
    }
    return InstanceCursor{core::Timestamp(core::Duration(static_cast<std::int64_t>(ns))), std::move(id)};
}

util::Result<StoreUrl> ParseStoreUrl(std::string_view url) {
    constexpr std::string_view kHelp =
        "use sqlite:PATH (e.g. sqlite:railwatch.db) or postgresql://USER@HOST:PORT/DATABASE";
    StoreUrl out;
    if (url.starts_with("sqlite:")) {
        std::string_view path = url.substr(7);
        if (path.starts_with("//")) path.remove_prefix(2);  // sqlite://PATH is accepted too
        if (path.empty()) {
            return util::Fail(util::ErrorCode::kInvalidArgument,
                              fmt::format("database URL \"sqlite:\" names no file: {}", kHelp));
        }
        out.kind = StoreUrl::Kind::kSqlite;
        out.sqlite_path = std::string(path);
        out.redacted = std::string(url);
        return out;
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        out.kind = StoreUrl::Kind::kPostgres;
        out.conninfo = std::string(url);
        // Redact "user:password@" → "user:***@".
        std::string redacted(url);
        const auto scheme_end = redacted.find("://") + 3;
        const auto at = redacted.find('@', scheme_end);
        const auto slash = redacted.find('/', scheme_end);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            const auto colon = redacted.find(':', scheme_end);
            if (colon != std::string::npos && colon < at) redacted.replace(colon + 1, at - colon - 1, "***");
        }
        // A password given as a query parameter.
        const auto pw = redacted.find("password=");
        if (pw != std::string::npos) {
            const auto end = redacted.find('&', pw);
            redacted.replace(pw + 9, (end == std::string::npos ? redacted.size() : end) - pw - 9, "***");
        }
        out.redacted = std::move(redacted);
        return out;
    }
    std::string shown(url.substr(0, 40));
    if (url.size() > 40) shown += "...";
    // Do not echo a URL that might hold a password in an unknown scheme.
    if (shown.find('@') != std::string::npos) shown = "(hidden: it contains '@')";
    return util::Fail(util::ErrorCode::kInvalidArgument,
                      fmt::format("unsupported database URL \"{}\": {}", shown, kHelp));
}

}  // namespace railwatch::store
