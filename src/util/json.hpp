#pragma once

#include <string>
#include <string_view>

/// Writing JSON by hand on hot paths (GraphQL request bodies, simulator answers), where building
/// an nlohmann::json tree first would cost more than the answer itself.
namespace railwatch::util {

/// Appends `text` to `out` as a JSON string literal (quotes included): `"` and `\` escaped,
/// \b \f \n \r \t by name, other control characters as \u00XX. Bytes >= 0x80 are copied as they
/// are (the caller is responsible for UTF-8). Also a valid GraphQL string literal.
void AppendJsonString(std::string& out, std::string_view text);

/// `text` as a JSON string literal.
std::string JsonString(std::string_view text);

}  // namespace railwatch::util
