#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "util/result.hpp"

/// Checks and encodings the store applies to what it is given. Pure functions, thread-safe.
namespace railwatch::store {

/// Ok when `value` is valid UTF-8 (no overlong forms, no surrogates, ≤ U+10FFFF), holds no NUL
/// byte and is at most `max_bytes` long; otherwise kInvalidArgument naming `field` and the byte
/// offset of the first problem.
util::Result<void> ValidateText(std::string_view field, std::string_view value, std::size_t max_bytes);

/// A stable 64-bit hash (FNV-1a) of a log message, the message part of the log dedup key.
std::int64_t MessageHash(std::string_view message);

/// Opaque pagination cursor for the instance list: (created_at, id) of the last item returned.
std::string EncodeInstanceCursor(core::Timestamp created_at, std::string_view id);

struct InstanceCursor {
    core::Timestamp created_at;
    std::string id;
};

/// kInvalidArgument ("cursor ... start again without it") for anything EncodeInstanceCursor did
/// not produce.
util::Result<InstanceCursor> DecodeInstanceCursor(std::string_view cursor);

/// DecodeInstanceCursor for a page request: nullopt for the first page (an empty cursor).
util::Result<std::optional<InstanceCursor>> DecodePageCursor(std::string_view cursor);

/// What a store URL names.
struct StoreUrl {
    enum class Kind { kSqlite, kPostgres } kind = Kind::kSqlite;
    std::string sqlite_path;  ///< kSqlite: the file
    std::string conninfo;     ///< kPostgres: the URL as libpq takes it
    std::string redacted;     ///< the URL without password, for messages
};

/// Parses `sqlite:PATH` and `postgresql://…` / `postgres://…`. kInvalidArgument with the
/// accepted forms otherwise.
util::Result<StoreUrl> ParseStoreUrl(std::string_view url);

}  // namespace railwatch::store
